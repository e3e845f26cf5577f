"""Tier 1 after a high-risk session: the instructor checks in with each learner who was there.

Scott's first tier is a colleague or supervisor asking "are you okay?" soon after the event.
After a session with one of the centre's high-risk triggers or scenario risk flags, the
instructors' overview lists each learner who was present, for 24 hours from the session's
end, with one tick: "checked in with them". Only that it happened is stored; no score, answer
or request of the learner is shown next to it.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from simdebrief.errors import InvalidState
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Attendance,
    Centre,
    Debrief,
    SessionParticipant,
    SessionStatus,
    SimSession,
    Tier1Check,
    User,
    session_instructor,
)
from simdebrief.services import audit

WINDOW = timedelta(hours=24)


@functools.cache
def _sessions_in_window():
    """The instructors' home asks this on every view, so it is built once per process; values
    come as bound parameters. Each session comes with its debrief's named triggers (None
    before the debrief starts), so deciding which are high-risk asks nothing more."""
    return (select(SimSession, Debrief.triggers)
            .outerjoin(Debrief, Debrief.session_id == SimSession.id)
            .where(SimSession.centre_id == bindparam("centre_id"),
                   exists().where(session_instructor.c.session_id == SimSession.id,
                                  session_instructor.c.user_id == bindparam("user_id")),
                   SimSession.status.in_((SessionStatus.IN_PROGRESS, SessionStatus.DEBRIEFED)),
                   SimSession.starts_at <= bindparam("now"), SimSession.ends_after())
            .order_by(SimSession.starts_at, SimSession.id))


@functools.cache
def _present_in():
    """The learners present at these sessions, each with their user (joined by the model)."""
    return (select(SessionParticipant)
            .where(SessionParticipant.session_id.in_(bindparam("session_ids", expanding=True)),
                   SessionParticipant.attendance == Attendance.PRESENT))


@functools.cache
def _checks_in():
    return select(Tier1Check).where(
        Tier1Check.session_id.in_(bindparam("session_ids", expanding=True)))


def is_high_risk(centre: Centre, sim_session: SimSession, triggers: list | None) -> bool:
    """Whether the session had one of the centre's high-risk moments: a trigger the debrief
    named (``triggers``), or a risk flag of its scenario."""
    flags = set(sim_session.scenario_version.risk_flags or ())
    return bool(set(triggers or ()) & set(centre.high_risk_triggers or ())
                or flags & set(centre.high_risk_flags or ()))


@dataclass(frozen=True)
class LearnerToCheck:
    learner: User
    check: Tier1Check | None


@dataclass(frozen=True)
class SessionToCheck:
    sim_session: SimSession
    until: datetime
    learners: list[LearnerToCheck]

    @property
    def remaining(self) -> int:
        return sum(1 for item in self.learners if item.check is None)


def open_window(sim_session: SimSession, now: datetime) -> bool:
    return (sim_session.status in (SessionStatus.IN_PROGRESS, SessionStatus.DEBRIEFED)
            and sim_session.starts_at <= now < sim_session.ends_at + WINDOW)


def sessions_to_check(session: Session, instructor: User, now: datetime
                      ) -> list[SessionToCheck]:
    """High-risk sessions this instructor teaches whose 24 hours are running. Three queries
    at most, however many sessions are in their 24 hours (one when none is high-risk)."""
    rows = session.execute(_sessions_in_window(), {
        "centre_id": instructor.centre_id, "user_id": instructor.id, "now": now,
        **SimSession.ends_after_values(now - WINDOW)}).all()
    risky = [sim_session for sim_session, triggers in rows
             if is_high_risk(instructor.centre, sim_session, triggers)]
    if not risky:
        return []
    ids = [sim_session.id for sim_session in risky]
    checks = {(check.session_id, check.learner_id): check
              for check in session.scalars(_checks_in(), {"session_ids": ids})}
    present: dict[int, list[SessionParticipant]] = defaultdict(list)
    for participant in session.scalars(_present_in(), {"session_ids": ids}):
        present[participant.session_id].append(participant)
    result = []
    for sim_session in risky:
        learners = [LearnerToCheck(p.user, checks.get((sim_session.id, p.user_id)))
                    for p in sorted(present[sim_session.id], key=lambda p: p.user.name.lower())]
        if learners:
            result.append(SessionToCheck(sim_session, sim_session.ends_at + WINDOW, learners))
    return result


def record_check(session: Session, *, sim_session: SimSession, learner_id: int,
                 instructor: User, now: datetime) -> Tier1Check:
    """Tick "checked in with them"; ticking twice keeps the first tick."""
    participant = next((p for p in sim_session.participants if p.user_id == learner_id), None)
    if participant is None or participant.attendance is not Attendance.PRESENT:
        raise InvalidState(_("Only learners who were at the session can be ticked."))
    if not open_window(sim_session, now):
        raise InvalidState(_("The 24 hours after this session are over."))
    existing = session.scalar(select(Tier1Check).where(
        Tier1Check.session_id == sim_session.id, Tier1Check.learner_id == learner_id))
    if existing is not None:
        return existing
    check = Tier1Check(session_id=sim_session.id, learner_id=learner_id,
                       checked_by_id=instructor.id, checked_at=now)
    session.add(check)
    session.flush()
    audit.record(session, action="tier1_check.recorded", actor=instructor, now=now,
                 object_type="sim_session", object_id=sim_session.id)
    return check
