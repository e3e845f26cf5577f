"""Triage of requests to talk: waiting times against the centre's response targets,
escalating an overdue request (once each), and supporters' availability."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, Select, and_, func, select, update
from sqlalchemy.orm import Session

from simdebrief.models import (
    Centre,
    Role,
    SupporterTier,
    SupportRequest,
    SupportRequestEvent,
    User,
)
from simdebrief.services import audit, signals
from simdebrief.services.support import TO_PROFESSIONALS, WAITING, queue_query, queue_values


def response_target(centre: Centre, request: SupportRequest) -> timedelta:
    """How soon the centre wants a waiting request taken."""
    if request.urgent:
        return timedelta(minutes=centre.urgent_response_minutes)
    if request.tier is SupporterTier.PROFESSIONAL:
        return timedelta(hours=centre.professional_response_hours)
    return timedelta(hours=centre.peer_response_hours)


def overdue_at(centre: Centre, request, since: datetime) -> datetime:
    """When a request waiting since ``since`` passes the centre's target for its tier and
    urgency. The one rule behind the queue's marks, the counts on the homes and escalation;
    ``request`` needs only ``tier`` and ``urgent`` (a row of counts will do)."""
    return since + response_target(centre, request)


def last_referral_at() -> ScalarSelect:
    """When a request was last referred (None if never), read by SQL beside it: a request
    waits from its last referral, or from its creation (``waiting_since``). The one reading
    behind the queue's marks, the homes' counts and escalation."""
    return (select(func.max(SupportRequestEvent.at))
            .where(SupportRequestEvent.request_id == SupportRequest.id,
                   SupportRequestEvent.action == "referred")
            .correlate(SupportRequest).scalar_subquery())


def waiting_since(request, referred_at: datetime | None) -> datetime:
    """When the request started waiting for its current tier (a referral starts anew);
    ``request`` needs only ``created_at`` (a row of counts will do)."""
    return referred_at or request.created_at


@dataclass(frozen=True)
class TriageRow:
    request: SupportRequest
    #: How long it has waited to be taken; None once a supporter has it.
    waiting: timedelta | None
    due_at: datetime | None
    overdue: bool


def triage(requests: Iterable[tuple[SupportRequest, datetime | None]], centre: Centre,
           now: datetime) -> list[TriageRow]:
    """Each request of ``centre`` with its waiting time and target; urgent and overdue ones
    first. ``requests`` are (request, last referral) rows, as ``with_last_referral`` reads
    them: the time a referral restarts the wait is read by SQL, not from each request's
    loaded history."""
    rows = []
    for request, referred_at in requests:
        if request.status in WAITING:
            since = waiting_since(request, referred_at)
            due = overdue_at(centre, request, since)
            rows.append(TriageRow(request, now - since, due, now >= due))
        else:
            rows.append(TriageRow(request, None, None, False))
    return sorted(rows, key=lambda row: (row.waiting is None, not row.request.urgent,
                                         not row.overdue, row.request.created_at,
                                         row.request.id))


@functools.lru_cache(maxsize=4)
def with_last_referral(queue: Select) -> Select:
    """The queue's requests, each with when it was last referred (None if never): what
    ``triage`` needs. Built once per queue statement (there are two, ``queue_query``)."""
    return queue.add_columns(last_referral_at().label("referred_at"))


def request_centre(request: SupportRequest) -> Centre:
    return request.learner.centre


def waiting_count(session: Session, supporter: User) -> int:
    """Requests in the supporter's queue that nobody has taken yet."""
    return session.scalar(_waiting_in(queue_query(supporter)), queue_values(supporter))


@functools.lru_cache(maxsize=4)
def _waiting_in(queue: Select) -> Select:
    """Built once per queue statement (there are two): the navigation asks it on every
    supporter's page."""
    waiting = queue.where(SupportRequest.status.in_(WAITING))
    return select(func.count()).select_from(waiting.order_by(None).subquery())


def escalate_overdue(session: Session, now: datetime) -> list[SupportRequest]:
    """Pass up every waiting request that is past its target and not yet escalated.

    Each request escalates exactly once: the conditional update claims it, so two scheduler
    instances cannot both send the email. A peer request moves to the professional tier, so
    the professionals who are told can take it; a professional or urgent one stays where it
    is and the admins are told. Announced as ``support_overdue``.
    """
    candidates = session.execute(
        select(SupportRequest, last_referral_at())
        .where(SupportRequest.status.in_(WAITING), SupportRequest.escalated_at.is_(None))).all()
    escalated = []
    for request, referred_at in candidates:
        since = waiting_since(request, referred_at)
        if now < overdue_at(request_centre(request), request, since):
            continue
        claimed = session.execute(
            update(SupportRequest)
            .where(and_(SupportRequest.id == request.id,
                        SupportRequest.escalated_at.is_(None),
                        SupportRequest.status.in_(WAITING)))
            .values(escalated_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        session.refresh(request)
        action = "escalated"
        if request.tier is SupporterTier.PEER and not request.urgent:
            request.tier = SupporterTier.PROFESSIONAL
            action = TO_PROFESSIONALS
        request.events.append(SupportRequestEvent(at=now, actor_id=None, action=action))
        session.flush()
        audit.record(session, action="support_request.escalated", now=now,
                     object_type="support_request", object_id=request.id,
                     detail=f"tier={request.tier.value} urgent={int(request.urgent)} "
                            f"waited_minutes={int((now - since).total_seconds() // 60)}")
        signals.support_overdue.send(request, now=now)
        escalated.append(request)
    return escalated


def escalation_recipients(session: Session, request: SupportRequest) -> list[User]:
    """The next tier up: professionals for a peer request (now of their tier), the centre's
    admins for a professional or urgent one."""
    if request.events and request.events[-1].action == TO_PROFESSIONALS:
        return list(session.scalars(
            select(User).where(User.centre_id == request.centre_id,
                               User.role == Role.SUPPORTER,
                               User.supporter_tier == SupporterTier.PROFESSIONAL,
                               User.is_active_account.is_(True)).order_by(User.id)))
    return list(session.scalars(
        select(User).where(User.centre_id == request.centre_id, User.role == Role.ADMIN,
                           User.is_active_account.is_(True)).order_by(User.id)))


def set_availability(session: Session, *, supporter: User, available: bool,
                     now: datetime) -> None:
    """A supporter marks themselves available or away; away, they get no request emails."""
    if supporter.supporter_available == bool(available):
        return
    supporter.supporter_available = bool(available)
    session.flush()
    audit.record(session, action="supporter.available" if available else "supporter.away",
                 actor=supporter, now=now, object_type="user", object_id=supporter.id)
