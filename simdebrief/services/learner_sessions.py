"""A learner's past sessions and whether they have read each session's feedback.

"Read" is the ``feedback.read`` audit event written when the learner opens their feedback
(the feedback page or their debrief page): the audit trail already says who opened what and
when, so no column is needed. It holds ids only, never what the feedback says.
"""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import String, bindparam, cast, select
from sqlalchemy.orm import Session, joinedload, lazyload

from simdebrief.languages import gettext as _
from simdebrief.models import (
    Attendance,
    AuditEvent,
    DashRating,
    Debrief,
    DebriefStatus,
    Room,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
)
from simdebrief.services import audit
from simdebrief.timefmt import local_text

FEEDBACK_READ = "feedback.read"


#: A learner's lists name a session by its date and room, never by its scenario
#: (``neutral_title``): the scenario's version, with its whole document, is not read with
#: them, and of the room only its name.
_LISTED_TO_LEARNER = (lazyload(SimSession.scenario_version),
                      joinedload(SimSession.room).load_only(Room.name))


def past_sessions(session: Session, user: User, now: datetime,
                  limit: int | None = None) -> list[SimSession]:
    """Sessions the learner was invited to that have ended (not cancelled), recent first."""
    return list(session.scalars(_past_sessions(limit), {"user_id": user.id, "now": now}))


@functools.cache
def _past_sessions(limit: int | None):
    """Built once per limit (the learner's home asks on every view; building the statement
    costs more than running it). Values come as bound parameters."""
    query = (select(SimSession).join(SessionParticipant)
             .where(SessionParticipant.user_id == bindparam("user_id"),
                    SimSession.ends_at <= bindparam("now"),
                    SimSession.status != SessionStatus.CANCELLED)
             .options(*_LISTED_TO_LEARNER)
             .order_by(SimSession.starts_at.desc(), SimSession.id.desc()))
    return query if limit is None else query.limit(limit)


#: New-feedback notices on the learner's home: the most recent few, whatever the history.
UNREAD_ON_DASHBOARD = 5


def unread_feedback(session: Session, user: User,
                    limit: int = UNREAD_ON_DASHBOARD) -> list[SimSession]:
    """Finalised debriefs the learner attended and has not opened yet, recent first.

    The "read" events are matched in SQL (through the audit trail's object index) and only
    ``limit`` sessions are loaded, so a long history costs no more than a short one."""
    return list(session.scalars(_unread_feedback(limit), {"user_id": user.id}))


@functools.cache
def _unread_feedback(limit: int):
    opened = (select(AuditEvent.id)
              .where(AuditEvent.object_type == "sim_session",
                     AuditEvent.object_id == cast(SimSession.id, String),
                     AuditEvent.actor_id == bindparam("user_id"),
                     AuditEvent.action == FEEDBACK_READ)
              .correlate(SimSession))
    return (select(SimSession).join(SessionParticipant)
            .join(Debrief, Debrief.session_id == SimSession.id)
            .where(SessionParticipant.user_id == bindparam("user_id"),
                   SessionParticipant.attendance == Attendance.PRESENT,
                   Debrief.status == DebriefStatus.FINAL, ~opened.exists())
            .options(*_LISTED_TO_LEARNER)
            .order_by(Debrief.finalised_at.desc(), SimSession.id.desc())
            .limit(limit))


def has_read_feedback(session: Session, user: User, sim_session: SimSession) -> bool:
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.actor_id == user.id, AuditEvent.action == FEEDBACK_READ,
        AuditEvent.object_type == "sim_session",
        AuditEvent.object_id == str(sim_session.id)).limit(1)) is not None


def record_feedback_read(session: Session, *, learner: User, sim_session: SimSession,
                         now: datetime) -> None:
    """Note, once, that the learner opened their own feedback of this session."""
    if not has_read_feedback(session, learner, sim_session):
        audit.record(session, action=FEEDBACK_READ, actor=learner, now=now,
                     object_type="sim_session", object_id=sim_session.id)


def has_rated(session: Session, debrief: Debrief, learner: User) -> bool:
    """Whether the learner has sent their DASH rating of this debrief."""
    return session.scalar(select(DashRating.id).where(
        DashRating.debrief_id == debrief.id, DashRating.learner_id == learner.id)) is not None


def neutral_title(sim_session: SimSession) -> str:
    """How a session is named to its learner: by its date, never by the scenario (whose
    title can give away what happens, and which a shared screen should not show)."""
    return neutral_title_at(sim_session.starts_at, sim_session.centre.timezone)


def neutral_title_at(starts_at: datetime, zone: str) -> str:
    return _("Simulation session of %(when)s", when=local_text(starts_at, zone, "long_datetime"))
