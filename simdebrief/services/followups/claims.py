"""Claiming due stages and writing their outbox emails in the same transaction.

``claim_due`` takes due rows in batches (PostgreSQL ``FOR UPDATE SKIP LOCKED``; on every
engine a conditional ``UPDATE`` that repeats the due condition, with a claim token) and, in
the same transaction, writes each stage's email into the outbox with the unique key
``followup:<id>``. Two dispatchers never send a stage twice; a crash before the commit
leaves the rows due, and a claim left behind is taken again once its lease runs out.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session, joinedload

from simdebrief.models import (
    FollowUp,
    FollowUpPreference,
    FollowUpStatus,
    OutboxEmail,
    OutboxStatus,
    PreferenceState,
    TrackStatus,
)
from simdebrief.services import notifications, operations
from simdebrief.services.followups.stage_rows import preference_states

CLAIM_LEASE = timedelta(minutes=5)

#: (follow-up, now) -> (subject, body); written by the caller, which knows the templates.
Composer = Callable[[FollowUp, datetime], tuple[str, str]]


@dataclass
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    #: Not sent: the window passed, or the account was deactivated.
    skipped: int = 0
    paused: int = 0
    stopped: int = 0
    reminders: int = 0
    expired: int = 0
    #: Supporter tasks created for offered conversations nobody declined.
    conversations: int = 0

    def add(self, other: DispatchResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _due_clause(now: datetime):
    return or_(
        and_(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.due_at <= now),
        # A dispatcher that died after committing a claim but before sending leaves it here.
        and_(FollowUp.status == FollowUpStatus.CLAIMED, FollowUp.claimed_at < now - CLAIM_LEASE),
    )


def _claim_ids(session: Session, clause, order, batch: int) -> list[int]:
    candidates = select(FollowUp.id).where(clause).order_by(*order).limit(batch)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    return list(session.scalars(candidates))


def _claimed(session: Session, token: str) -> list[FollowUp]:
    return list(session.scalars(
        select(FollowUp).where(FollowUp.claim_token == token)
        .options(joinedload(FollowUp.user), joinedload(FollowUp.stage),
                 joinedload(FollowUp.track), joinedload(FollowUp.centre))
        .order_by(FollowUp.due_at, FollowUp.id)
        .execution_options(populate_existing=True)))


def _set_status(session: Session, token: str, groups: dict[tuple, list[int]],
                now: datetime) -> None:
    """One UPDATE per outcome instead of one per row: a batch is written in a few statements."""
    for (status, reminder_days), ids in groups.items():
        values: dict = {"status": status}
        if status is FollowUpStatus.SENT:
            values.update(sent_at=now, remind_at=now + timedelta(days=reminder_days)
                          if reminder_days else None)
        else:
            values["status_changed_at"] = now
        session.execute(update(FollowUp)
                        .where(FollowUp.id.in_(ids), FollowUp.claim_token == token)
                        .values(**values).execution_options(synchronize_session=False))


def _outbox_rows(session: Session, drafts: list[tuple[FollowUp, str]], compose: Composer,
                 now: datetime, mail_from: str) -> list[dict]:
    """Outbox rows for (follow-up, key) pairs whose key is not in the outbox yet."""
    if not drafts:
        return []
    existing = set(session.scalars(select(OutboxEmail.idempotency_key).where(
        OutboxEmail.idempotency_key.in_([key for _f, key in drafts]))))
    installation = operations.installation_id(session)
    rows = []
    for followup, key in drafts:
        if key in existing:
            continue
        subject, body = compose(followup, now)
        rows.append({
            "idempotency_key": key, "centre_id": followup.centre_id,
            "to_address": followup.user.email,
            "subject": subject.replace("\n", " ").replace("\r", " ")[:300],
            "body_text": body, "link_ref": notifications.followup_link_ref(followup.id),
            "message_id": notifications.message_id_for(key, mail_from,
                                                       installation=installation),
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
            "created_at": now,
        })
    return rows


def claim_due(session: Session, *, now: datetime, batch: int = 200, compose: Composer,
              mail_from: str) -> DispatchResult:
    """Claim up to ``batch`` due stages and write their emails; the caller commits.

    The claim and the outbox rows belong to one transaction, so either both are stored or
    neither: a dispatcher that dies mid-batch leaves its rows due for the next one.
    """
    result = DispatchResult()
    ids = _claim_ids(session, _due_clause(now), (FollowUp.due_at, FollowUp.id), batch)
    if not ids:
        return result
    token = secrets.token_hex(16)
    session.execute(update(FollowUp).where(FollowUp.id.in_(ids), _due_clause(now))
                    .values(status=FollowUpStatus.CLAIMED, claim_token=token, claimed_at=now)
                    .execution_options(synchronize_session=False))
    claimed = _claimed(session, token)
    states = preference_states(session, {f.user_id for f in claimed})
    drafts = []
    groups: dict[tuple, list[int]] = defaultdict(list)
    counters = {FollowUpStatus.SENT: "sent", FollowUpStatus.PAUSED: "paused",
                FollowUpStatus.STOPPED: "stopped", FollowUpStatus.SKIPPED: "skipped"}
    for followup in claimed:
        result.claimed += 1
        outcome = _outcome(followup, states.get(followup.user_id), now)
        setattr(result, counters[outcome], getattr(result, counters[outcome]) + 1)
        if outcome is FollowUpStatus.SENT:
            drafts.append((followup, f"followup:{followup.id}"))
            groups[(outcome, followup.stage.reminder_after_days)].append(followup.id)
        else:
            groups[(outcome, None)].append(followup.id)
    rows = _outbox_rows(session, drafts, compose, now, mail_from)
    if rows:
        session.execute(insert(OutboxEmail), rows)
    _set_status(session, token, groups, now)
    return result


def _outcome(followup: FollowUp, state: PreferenceState | None,
             now: datetime) -> FollowUpStatus:
    if not followup.user.is_active_account:
        return FollowUpStatus.SKIPPED
    if state is PreferenceState.STOPPED:
        return FollowUpStatus.STOPPED
    if state is PreferenceState.PAUSED:
        return FollowUpStatus.PAUSED
    if followup.track is not None and followup.track.status is TrackStatus.ENDED:
        return FollowUpStatus.STOPPED
    if now > followup.due_at + timedelta(days=followup.stage.window_days):
        return FollowUpStatus.SKIPPED
    return FollowUpStatus.SENT


def _reminder_clause(now: datetime):
    held = select(FollowUpPreference.user_id).where(
        FollowUpPreference.state != PreferenceState.ACTIVE)
    return and_(FollowUp.status == FollowUpStatus.SENT, FollowUp.remind_at <= now,
                FollowUp.reminder_sent_at.is_(None), FollowUp.expires_at > now,
                FollowUp.user_id.not_in(held))


def claim_reminders(session: Session, *, now: datetime, batch: int = 200, compose: Composer,
                    mail_from: str) -> int:
    """One reminder per sent stage nobody answered yet; the caller commits."""
    ids = _claim_ids(session, _reminder_clause(now), (FollowUp.remind_at, FollowUp.id), batch)
    if not ids:
        return 0
    token = secrets.token_hex(16)
    session.execute(update(FollowUp).where(FollowUp.id.in_(ids), _reminder_clause(now))
                    .values(reminder_sent_at=now, claim_token=token)
                    .execution_options(synchronize_session=False))
    claimed = _claimed(session, token)
    rows = _outbox_rows(session, [(f, f"followup:{f.id}:reminder") for f in claimed], compose,
                        now, mail_from)
    if rows:
        session.execute(insert(OutboxEmail), rows)
    session.flush()
    return len(claimed)


def expire_unanswered(session: Session, *, now: datetime) -> int:
    """Sent stages past their closing time become expired; the caller commits."""
    result = session.execute(
        update(FollowUp).where(FollowUp.status == FollowUpStatus.SENT,
                               FollowUp.expires_at <= now)
        .values(status=FollowUpStatus.EXPIRED, status_changed_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0
