"""The to-dos on each role's start page, each read with a fixed number of queries.

Instructors: debriefs to finalise and the learners still without feedback in them. Admins:
emails that could not be delivered, requests to talk waiting or past their target (counts
only, nothing a learner wrote) and today's sessions. Every list is capped; the page links to
the full list where one exists.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, joinedload

from simdebrief.models import (
    Attendance,
    Centre,
    Debrief,
    DebriefStatus,
    LearnerFeedback,
    OutboxEmail,
    OutboxStatus,
    Room,
    ScenarioVersion,
    SessionParticipant,
    SessionStatus,
    SimSession,
    SupportRequest,
    User,
    session_instructor,
)
from simdebrief.services.support import WAITING
from simdebrief.services.support_triage import last_referral_at, overdue_at, waiting_since
from simdebrief.timefmt import local_to_utc, to_local

#: At most this many sessions in a to-do list; the sessions list has the rest.
LIST_LIMIT = 10


@dataclass
class DebriefToDo:
    """A session this instructor teaches whose debrief is not finalised yet."""

    sim_session: SimSession
    debrief: Debrief | None
    #: (id, name) of present learners with no written feedback yet.
    without_feedback: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AdminToDos:
    failed_emails: int
    undeliverable_emails: int
    waiting_requests: int
    overdue_requests: int
    today: list[SimSession]


def instructor_todos(session: Session, instructor: User) -> list[DebriefToDo]:
    """Sessions the instructor teaches that have started and are not debriefed: the debrief
    is a draft or not begun. Two queries whatever the number of sessions."""
    rows = session.execute(_debriefs_to_do(), {"user_id": instructor.id,
                                               "centre_id": instructor.centre_id}).all()
    todos = [DebriefToDo(sim_session, debrief) for sim_session, debrief in rows]
    drafts = {todo.debrief.id: todo for todo in todos if todo.debrief is not None}
    if not drafts:
        return todos
    missing = session.execute(_learners_without_feedback(),
                              {"debrief_ids": list(drafts)}).all()
    for debrief_id, learner_id, name in missing:
        drafts[debrief_id].without_feedback.append((learner_id, name))
    return todos


@functools.cache
def _debriefs_to_do():
    """Built once per process, as the next one: the instructors' home asks both on every
    view, and building them cost more than running them. Values come as bound parameters."""
    return (select(SimSession, Debrief)
            .join(session_instructor,
                  and_(session_instructor.c.session_id == SimSession.id,
                       session_instructor.c.user_id == bindparam("user_id")))
            .outerjoin(Debrief, Debrief.session_id == SimSession.id)
            .where(SimSession.centre_id == bindparam("centre_id"),
                   SimSession.status == SessionStatus.IN_PROGRESS,
                   or_(Debrief.id.is_(None), Debrief.status == DebriefStatus.DRAFT))
            .options(joinedload(SimSession.scenario_version).load_only(ScenarioVersion.title),
                     joinedload(SimSession.room).load_only(Room.name))
            .order_by(SimSession.starts_at, SimSession.id).limit(LIST_LIMIT))


@functools.cache
def _learners_without_feedback():
    written = or_(func.trim(LearnerFeedback.strengths) != "",
                  func.trim(LearnerFeedback.to_improve) != "",
                  func.trim(LearnerFeedback.learning_goals) != "")
    return (select(Debrief.id, User.id, User.name)
            .join(SessionParticipant, SessionParticipant.session_id == Debrief.session_id)
            .join(User, User.id == SessionParticipant.user_id)
            .outerjoin(LearnerFeedback, and_(LearnerFeedback.debrief_id == Debrief.id,
                                             LearnerFeedback.learner_id == User.id))
            .where(Debrief.id.in_(bindparam("debrief_ids", expanding=True)),
                   SessionParticipant.attendance == Attendance.PRESENT,
                   or_(LearnerFeedback.id.is_(None), ~written))
            .order_by(func.lower(User.name), User.id))


def local_day_bounds(zone: str, now: datetime) -> tuple[datetime, datetime]:
    """The start and end (UTC) of today in the centre's zone."""
    today = to_local(now, zone).date()
    return (local_to_utc(today, time(0, 0), zone),
            local_to_utc(today + timedelta(days=1), time(0, 0), zone))


def todays_sessions(session: Session, centre: Centre, now: datetime) -> list[SimSession]:
    start, end = local_day_bounds(centre.timezone, now)
    return list(session.scalars(
        select(SimSession)
        .where(SimSession.centre_id == centre.id, SimSession.overlapping(start, end),
               SimSession.status != SessionStatus.CANCELLED)
        .options(joinedload(SimSession.scenario_version).load_only(ScenarioVersion.title),
                 joinedload(SimSession.room).load_only(Room.name))
        .order_by(SimSession.starts_at, SimSession.id).limit(LIST_LIMIT * 2)))


def request_counts(session: Session, centre: Centre, now: datetime,
                   among: Select | None = None, values: dict | None = None) -> tuple[int, int]:
    """(waiting, overdue) requests to talk of the centre, or of those ``among`` selects (a
    supporter's queue, with its bound ``values``): counted from their tier, urgency and times
    only, never from what the learner wrote, by the rule the queue marks each request with
    (``support_triage``)."""
    rows = session.execute(_waiting_requests(among),
                           {**(values or {}), "centre_id": centre.id}).all()
    overdue = sum(now >= overdue_at(centre, row, waiting_since(row, row.at)) for row in rows)
    return len(rows), overdue


@functools.lru_cache(maxsize=4)
def _waiting_requests(among: Select | None) -> Select:
    """Built once per selection: ``among`` is None or one of the supporters' two queue
    statements (``support.queue_query``), each built once itself. Bounded all the same, as a
    statement is kept by its identity."""
    query = (select(SupportRequest.tier, SupportRequest.urgent, SupportRequest.created_at,
                    last_referral_at().label("at"))
             .where(SupportRequest.centre_id == bindparam("centre_id"),
                    SupportRequest.status.in_(WAITING)))
    if among is not None:
        chosen = among.order_by(None).subquery()
        query = query.where(SupportRequest.id.in_(select(chosen.c.id)))
    return query


def admin_todos(session: Session, centre: Centre, now: datetime) -> AdminToDos:
    email_counts: dict[OutboxStatus, int] = defaultdict(int, session.execute(
        select(OutboxEmail.status, func.count(OutboxEmail.id))
        .where(OutboxEmail.centre_id == centre.id,
               OutboxEmail.status.in_((OutboxStatus.FAILED, OutboxStatus.REJECTED)))
        .group_by(OutboxEmail.status)).all())
    waiting, overdue = request_counts(session, centre, now)
    return AdminToDos(failed_emails=email_counts[OutboxStatus.FAILED],
                      undeliverable_emails=email_counts[OutboxStatus.REJECTED],
                      waiting_requests=waiting, overdue_requests=overdue,
                      today=todays_sessions(session, centre, now))
