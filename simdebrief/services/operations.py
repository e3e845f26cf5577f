"""The installation's own state: its random id, the schedulers' heartbeats, a health report."""

from __future__ import annotations

import os
import secrets
import socket
import weakref
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simdebrief.models import Installation, OutboxEmail, OutboxStatus, SchedulerHeartbeat

#: A scheduler that has not ticked for this long is reported as stale.
HEARTBEAT_STALE = timedelta(minutes=3)
#: An email still waiting after this long means delivery is stuck.
OUTBOX_STUCK = timedelta(hours=1)

#: Per engine, not per URL: a database emptied and rebuilt under the same URL (as tests do)
#: has a new id, and a new app has a new engine.
_instance_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def installation_id(session: Session) -> str:
    """The installation's random id (made by the first migration; made here for a database
    created without migrations). Cached per engine."""
    key = session.get_bind()
    if key not in _instance_ids:
        row = session.get(Installation, 1)
        if row is None:
            try:
                with session.begin_nested():
                    row = Installation(id=1, instance_id=secrets.token_hex(16),
                                       created_at=datetime.now().astimezone())
                    session.add(row)
            except IntegrityError:
                row = session.get(Installation, 1)
        _instance_ids[key] = row.instance_id
    return _instance_ids[key]


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def record_heartbeat(session: Session, *, name: str, now: datetime) -> None:
    beat = session.get(SchedulerHeartbeat, name)
    if beat is None:
        session.add(SchedulerHeartbeat(name=name, beat_at=now, started_at=now, ticks=1))
    else:
        beat.beat_at = now
        beat.ticks += 1
    session.flush()


@dataclass
class Health:
    status: str
    database: str
    scheduler_heartbeat_age_seconds: int | None
    outbox_pending: int
    outbox_oldest_pending_age_seconds: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def _age(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def health(session: Session, *, now: datetime) -> Health:
    """What an operator's monitor needs: counts and ages only, never content or addresses."""
    newest_beat = session.scalar(select(func.max(SchedulerHeartbeat.beat_at)))
    pending, oldest = session.execute(
        select(func.count(OutboxEmail.id), func.min(OutboxEmail.created_at))
        .where(OutboxEmail.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))).one()
    if newest_beat is not None and newest_beat.tzinfo is None:  # aggregates skip the type
        newest_beat = newest_beat.replace(tzinfo=now.tzinfo)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    beat_age, oldest_age = _age(newest_beat, now), _age(oldest, now)
    healthy = (beat_age is not None and beat_age <= HEARTBEAT_STALE.total_seconds()
               and (oldest_age is None or oldest_age <= OUTBOX_STUCK.total_seconds()))
    return Health(status="ok" if healthy else "degraded", database="ok",
                  scheduler_heartbeat_age_seconds=beat_age, outbox_pending=pending,
                  outbox_oldest_pending_age_seconds=oldest_age)
