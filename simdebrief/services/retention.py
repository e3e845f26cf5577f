"""Retention: how long each kind of data is kept, and the daily purge.

Each centre sets the periods (``Centre.retention_*``). Emotional data (a learner's
check-ins, follow-up answers among them) goes a number of months after the learner's last
follow-up stage closed or their last check-in, whichever is later; the learner is told 14 days
before. Closed requests for a conversation go months after closing. Outbox bodies, failed
logins and audit events are not owned by one centre, so the shortest period of all centres
applies to them.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from simdebrief.models import (
    AuditEvent,
    Centre,
    CheckIn,
    FollowUp,
    SupportRequest,
    SupportStatus,
    User,
)
from simdebrief.services import audit, notifications

#: How long before their emotional data goes a learner is told.
NOTICE_AHEAD = timedelta(days=14)
KINDS = ("check_ins", "support_requests", "outbox_bodies", "audit_events")
#: Failed logins are no centre's setting: the login limits keep them for a day
#: (``accounts.forget_old_throttling``), and the audit log records refused logins.
DEFAULTS = {"retention_emotional_months": 6, "retention_support_months": 12,
            "retention_outbox_days": 30, "retention_audit_years": 5}


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later (or earlier), clamped at the month's end."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def emotional_data_anchors(session: Session, user_ids=None) -> dict[int, datetime]:
    """Per learner with check-ins: the later of their last check-in and last stage's close."""
    checkin_query = select(CheckIn.user_id, func.max(CheckIn.created_at)).group_by(
        CheckIn.user_id)
    stage_query = select(FollowUp.user_id, func.max(FollowUp.expires_at)).group_by(
        FollowUp.user_id)
    if user_ids is not None:
        checkin_query = checkin_query.where(CheckIn.user_id.in_(user_ids))
        stage_query = stage_query.where(FollowUp.user_id.in_(user_ids))
    anchors = dict(session.execute(checkin_query).all())
    for user_id, last_stage in session.execute(stage_query).all():
        if user_id in anchors:
            anchors[user_id] = _anchor(anchors[user_id], last_stage)
    return anchors


def _anchor(last_checkin: datetime, last_stage: datetime | None) -> datetime:
    """The later of a learner's last check-in and their last stage's close."""
    return last_checkin if last_stage is None else max(last_checkin, last_stage)


@functools.cache
def _latest_emotional_data():
    """Built once: the learner's pages ask it on every view, and building the statement
    costs more than running it."""
    return select(
        select(func.max(CheckIn.created_at)).where(CheckIn.user_id == bindparam("user_id"))
        .scalar_subquery(),
        select(func.max(FollowUp.expires_at)).where(FollowUp.user_id == bindparam("user_id"))
        .scalar_subquery())


def emotional_purge_at(session: Session, user: User) -> datetime | None:
    """When this learner's emotional data goes, or None when they have none. The anchor of
    ``emotional_data_anchors`` for one learner, asked in one query (their pages show it)."""
    last_checkin, last_stage = session.execute(_latest_emotional_data(),
                                               {"user_id": user.id}).one()
    if last_checkin is None:
        return None
    return add_months(_anchor(last_checkin, last_stage), user.centre.retention_emotional_months)


def upcoming_purge(session: Session, user: User, now: datetime) -> datetime | None:
    """The purge date when it is at most 14 days away (what the learner's pages announce)."""
    purge_at = emotional_purge_at(session, user)
    if purge_at is not None and purge_at - NOTICE_AHEAD <= now:
        return purge_at
    return None


def learners_to_notify(session: Session, now: datetime) -> list[tuple[User, datetime]]:
    """Active learners whose emotional data goes within 14 days and who were not told of that
    date (a deactivated account could not open the page the email points to)."""
    anchors = emotional_data_anchors(session)
    if not anchors:
        return []
    users = session.scalars(select(User).where(User.id.in_(anchors),
                                               User.is_active_account.is_(True),
                                               User.erased_at.is_(None))).all()
    due = []
    for user in users:
        purge_at = add_months(anchors[user.id], user.centre.retention_emotional_months)
        if now < purge_at <= now + NOTICE_AHEAD and user.retention_notice_for != purge_at:
            due.append((user, purge_at))
    return due


def mark_notified(user: User, purge_at: datetime) -> None:
    user.retention_notice_for = purge_at


@dataclass(frozen=True)
class GlobalPeriods:
    outbox: timedelta
    audit_years: int


def global_periods(session: Session) -> GlobalPeriods:
    """For data no single centre owns: the shortest period any centre set."""
    row = session.execute(select(
        func.min(Centre.retention_outbox_days), func.min(Centre.retention_audit_years))).one()
    outbox, audit_years = (
        value if value is not None else DEFAULTS[name] for value, name in zip(
            row, ("retention_outbox_days", "retention_audit_years"), strict=True))
    return GlobalPeriods(timedelta(days=outbox), audit_years)


def _purge_check_ins(session: Session, now: datetime) -> int:
    anchors = emotional_data_anchors(session)
    if not anchors:
        return 0
    months_by_user = dict(session.execute(
        select(User.id, Centre.retention_emotional_months).join(Centre, User.centre)
        .where(User.id.in_(anchors))).all())
    expired = [user_id for user_id, anchor in anchors.items()
               if add_months(anchor, months_by_user[user_id]) <= now]
    if not expired:
        return 0
    return session.execute(delete(CheckIn).where(CheckIn.user_id.in_(expired))
                           .execution_options(synchronize_session=False)).rowcount


def _purge_support_requests(session: Session, now: datetime) -> int:
    removed = 0
    for centre_id, months in session.execute(
            select(Centre.id, Centre.retention_support_months)).all():
        removed += session.execute(
            delete(SupportRequest).where(
                SupportRequest.centre_id == centre_id,
                SupportRequest.status == SupportStatus.CLOSED,
                SupportRequest.closed_at <= add_months(now, -months))
            .execution_options(synchronize_session=False)).rowcount
    return removed


def purge(session: Session, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Remove everything past its period; counts per kind. A dry run counts the same rows
    (the purge runs inside a savepoint that is rolled back) and changes nothing."""
    if dry_run:
        savepoint = session.begin_nested()
        try:
            return _purge(session, now, record=False)
        finally:
            savepoint.rollback()
    return _purge(session, now, record=True)


def _purge(session: Session, now: datetime, *, record: bool) -> dict[str, int]:
    periods = global_periods(session)
    counts = {
        "check_ins": _purge_check_ins(session, now),
        "support_requests": _purge_support_requests(session, now),
        "outbox_bodies": notifications.purge_sent_bodies(session, now=now)
        + notifications.purge_old_bodies(session, now=now, older_than=periods.outbox),
        "audit_events": session.execute(
            delete(AuditEvent).where(AuditEvent.at <= add_months(now, -12 * periods.audit_years))
            .execution_options(synchronize_session=False)).rowcount,
    }
    session.flush()
    if record and any(counts.values()):
        audit.record(session, action="retention.purged", now=now, object_type="retention",
                     detail=" ".join(f"{kind}={count}" for kind, count in counts.items()))
    return counts
