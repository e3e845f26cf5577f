"""Scheduling simulation sessions: conflicts, changes, attendance, reminders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from simdebrief.errors import InvalidInput, InvalidState, SimDebriefError
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Attendance,
    Centre,
    Cohort,
    Role,
    Room,
    ScenarioVersion,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
    session_instructor,
)
from simdebrief.models.sessions import MAX_SESSION_LENGTH
from simdebrief.services import audit, room_slots, signals
from simdebrief.timefmt import span_text

#: How early before its planned start a session may be started.
EARLY_START = timedelta(hours=2)
ACTIVE = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)


class NeedsConfirmation(SimDebriefError):
    """The plan is possible but unusual; the instructor may confirm it anyway."""

    def __init__(self, warnings: list[str]):
        self.warnings = warnings
        super().__init__("; ".join(warnings))


@dataclass(frozen=True)
class SessionPlan:
    scenario_version_id: int
    starts_at: datetime
    ends_at: datetime
    room_id: int
    instructor_ids: tuple[int, ...]
    student_ids: tuple[int, ...] = ()
    cohort_ids: tuple[int, ...] = ()
    note: str = ""


@dataclass
class SessionChange:
    """Who must be told what after a change; the caller turns this into emails."""

    session: SimSession
    added: list[User] = field(default_factory=list)
    removed: list[User] = field(default_factory=list)
    rescheduled: list[User] = field(default_factory=list)
    cancelled: list[User] = field(default_factory=list)


def _describe(other: SimSession, zone: str) -> str:
    return _("“%(title)s” on %(when)s", title=other.title,
             when=span_text(other.starts_at, other.ends_at, zone))


def _overlapping(session: Session, plan: SessionPlan, centre: Centre, exclude_id: int | None):
    query = select(SimSession).where(
        SimSession.centre_id == centre.id,
        SimSession.status.in_(ACTIVE),
        SimSession.starts_at < plan.ends_at,
        SimSession.ends_at > plan.starts_at,
    )
    if exclude_id is not None:
        query = query.where(SimSession.id != exclude_id)
    return query


def _load_people(session: Session, centre: Centre, plan: SessionPlan, errors):
    instructors = list(session.scalars(select(User).where(User.id.in_(plan.instructor_ids))))
    if not instructors:
        errors.setdefault("instructor_ids", []).append(_("Choose at least one instructor."))
    for person in instructors:
        if person.centre_id != centre.id or person.role not in (Role.INSTRUCTOR, Role.ADMIN) \
                or not person.is_active_account:
            errors.setdefault("instructor_ids", []).append(
                _("%(name)s cannot teach sessions here.", name=person.name))
    cohorts = list(session.scalars(select(Cohort).where(Cohort.id.in_(plan.cohort_ids))
                                   .options(selectinload(Cohort.students))))
    students: dict[int, tuple[User, int | None]] = {}
    for cohort in cohorts:
        if cohort.centre_id != centre.id:
            errors.setdefault("cohort_ids", []).append(_("Unknown cohort."))
            continue
        for student in cohort.students:
            if student.is_active_account:
                students.setdefault(student.id, (student, cohort.id))
    for student in session.scalars(select(User).where(User.id.in_(plan.student_ids))):
        if student.centre_id != centre.id or student.role is not Role.STUDENT:
            errors.setdefault("student_ids", []).append(
                _("%(name)s is not a student of this centre.", name=student.name))
            continue
        students.setdefault(student.id, (student, None))
    return instructors, students


def _alternatives(session: Session, centre: Centre, room: Room, plan: SessionPlan,
                  now: datetime, exclude_id: int | None, places: int) -> list[str]:
    """What to try instead of a booked room: another room free at that time (the smallest
    that fits), and the nearest time this room is free for as long."""
    zone = centre.timezone
    suggestions = []
    others = room_slots.free_rooms(session, centre=centre, starts_at=plan.starts_at,
                                   ends_at=plan.ends_at, places=places,
                                   exclude_room_id=room.id, exclude_id=exclude_id)
    if others:
        suggestions.append(_("%(room)s is free at that time.", room=others[0].name))
    else:
        suggestions.append(_("No other room with enough places is free at that time."))
    start = room_slots.nearest_free_time(session, room=room, starts_at=plan.starts_at,
                                         ends_at=plan.ends_at, now=now, exclude_id=exclude_id)
    if start is not None:
        suggestions.append(_("%(room)s is free nearest to that time on %(when)s.",
                             room=room.name,
                             when=span_text(start, start + (plan.ends_at - plan.starts_at),
                                            zone)))
    return suggestions


def check_plan(
    session: Session, *, centre: Centre, plan: SessionPlan, now: datetime,
    existing: SimSession | None = None, confirmed: bool = False,
):
    """Validate a plan; returns (version, room, instructors, {student_id: (user, cohort_id)})."""
    errors: dict[str, list[str]] = {}
    zone = centre.timezone
    version = session.get(ScenarioVersion, plan.scenario_version_id)
    if version is None or version.scenario.retired_at is not None and (
            existing is None or existing.scenario_version_id != version.id):
        errors["scenario_version_id"] = [_("Choose a scenario from the library.")]
    if plan.ends_at <= plan.starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    elif plan.ends_at - plan.starts_at > MAX_SESSION_LENGTH:
        errors["ends_at"] = [_("A session can last at most 12 hours.")]
    moved = existing is None or existing.starts_at != plan.starts_at
    if moved and plan.starts_at < now:
        errors["starts_at"] = [_("The start time has already passed.")]
    room = session.get(Room, plan.room_id)
    if room is None or room.centre_id != centre.id or (
            not room.is_active and (existing is None or existing.room_id != room.id)):
        errors["room_id"] = [_("Choose a room of this centre.")]
        room = None
    instructors, students = _load_people(session, centre, plan, errors)
    if errors:
        raise InvalidInput(errors)

    exclude = existing.id if existing else None
    overlapping = _overlapping(session, plan, centre, exclude)
    clash = session.scalars(overlapping.where(SimSession.room_id == room.id)).first()
    if clash is not None:
        errors.setdefault("room_id", []).append(
            _("%(room)s is already booked for %(other)s.", room=room.name,
              other=_describe(clash, zone)))
        errors["room_id"].extend(_alternatives(session, centre, room, plan, now, exclude,
                                               places=len(students)))
    for person in instructors:
        clash = session.scalars(overlapping.join(
            session_instructor, and_(session_instructor.c.session_id == SimSession.id,
                                     session_instructor.c.user_id == person.id))).first()
        if clash is not None:
            errors.setdefault("instructor_ids", []).append(
                _("%(name)s already teaches %(other)s.", name=person.name,
                  other=_describe(clash, zone)))
    if students:
        rows = session.execute(
            overlapping.add_columns(SessionParticipant.user_id)
            .join(SessionParticipant, SessionParticipant.session_id == SimSession.id)
            .where(SessionParticipant.user_id.in_(list(students)))
        ).all()
        for other, user_id in rows:
            errors.setdefault("student_ids", []).append(
                _("%(name)s takes part in %(other)s.", name=students[user_id][0].name,
                  other=_describe(other, zone)))
    if len(students) > room.capacity:
        errors.setdefault("room_id", []).append(
            _("%(room)s holds %(capacity)d people, but %(count)d participants are planned.",
              room=room.name, capacity=room.capacity, count=len(students)))
    if errors:
        raise InvalidInput(errors)
    if not confirmed and len(students) > version.role_places:
        raise NeedsConfirmation([_(
            "The scenario has roles for %(places)d learners, but %(count)d are planned. "
            "Extra learners can observe; confirm if that is intended.",
            places=version.role_places, count=len(students))])
    return version, room, instructors, students


def schedule_session(
    session: Session, *, centre: Centre, actor: User, plan: SessionPlan, now: datetime,
    confirmed: bool = False,
) -> SessionChange:
    version, room, instructors, students = check_plan(
        session, centre=centre, plan=plan, now=now, confirmed=confirmed)
    sim_session = SimSession(
        centre=centre, scenario_version=version, room=room, starts_at=plan.starts_at,
        ends_at=plan.ends_at, note=plan.note.strip(), created_by_id=actor.id, created_at=now,
        updated_at=now, instructors=instructors,
    )
    for user, cohort_id in students.values():
        sim_session.participants.append(SessionParticipant(user=user, cohort_id=cohort_id))
    session.add(sim_session)
    session.flush()
    audit.record(session, action="session.scheduled", actor=actor, now=now,
                 object_type="sim_session", object_id=sim_session.id)
    change = SessionChange(sim_session, added=[u for u, _c in students.values()])
    signals.session_changed.send(change, now=now)
    return change


def update_session(
    session: Session, *, sim_session: SimSession, actor: User, plan: SessionPlan,
    now: datetime, confirmed: bool = False,
) -> SessionChange:
    if not sim_session.is_open_for_changes:
        raise InvalidState(_("Only scheduled sessions can be changed."))
    version, room, instructors, students = check_plan(
        session, centre=sim_session.centre, plan=plan, now=now, existing=sim_session,
        confirmed=confirmed)
    change = SessionChange(sim_session)
    moved = (sim_session.starts_at, sim_session.ends_at, sim_session.room_id) != (
        plan.starts_at, plan.ends_at, room.id) or sim_session.scenario_version_id != version.id
    current = {p.user_id: p for p in sim_session.participants}
    for user_id, participant in current.items():
        if user_id not in students:
            change.removed.append(participant.user)
            sim_session.participants.remove(participant)
        elif moved:
            change.rescheduled.append(participant.user)
    for user_id, (user, cohort_id) in students.items():
        if user_id not in current:
            sim_session.participants.append(SessionParticipant(user=user, cohort_id=cohort_id))
            change.added.append(user)
    sim_session.scenario_version = version
    sim_session.room = room
    sim_session.starts_at, sim_session.ends_at = plan.starts_at, plan.ends_at
    sim_session.instructors = instructors
    sim_session.note = plan.note.strip()
    sim_session.updated_at = now
    if moved or change.added or change.removed:
        sim_session.sequence += 1
    session.flush()
    audit.record(session, action="session.updated", actor=actor, now=now,
                 object_type="sim_session", object_id=sim_session.id,
                 detail=f"added={len(change.added)} removed={len(change.removed)} "
                        f"moved={moved}")
    signals.session_changed.send(change, now=now)
    return change


def cancel_session(
    session: Session, *, sim_session: SimSession, actor: User, reason: str, now: datetime
) -> SessionChange:
    if sim_session.status is not SessionStatus.SCHEDULED:
        raise InvalidState(_("Only sessions that have not started can be cancelled."))
    sim_session.status = SessionStatus.CANCELLED
    sim_session.cancel_reason = reason.strip()
    sim_session.sequence += 1
    sim_session.updated_at = now
    audit.record(session, action="session.cancelled", actor=actor, now=now,
                 object_type="sim_session", object_id=sim_session.id)
    change = SessionChange(sim_session, cancelled=[p.user for p in sim_session.participants])
    signals.session_changed.send(change, now=now)
    return change


def start_session(
    session: Session, *, sim_session: SimSession, actor: User, present_ids: set[int],
    now: datetime,
) -> None:
    """Start the session and record who came; absent learners get no follow-ups later."""
    if sim_session.status is not SessionStatus.SCHEDULED:
        raise InvalidState(_("This session has already started or is cancelled."))
    if now < sim_session.starts_at - EARLY_START:
        raise InvalidState(_("A session can be started at most two hours before its start."))
    for participant in sim_session.participants:
        participant.attendance = (Attendance.PRESENT if participant.user_id in present_ids
                                  else Attendance.ABSENT)
    sim_session.status = SessionStatus.IN_PROGRESS
    sim_session.started_at = now
    sim_session.updated_at = now
    audit.record(session, action="session.started", actor=actor, now=now,
                 object_type="sim_session", object_id=sim_session.id,
                 detail=f"present={len(present_ids)} of {len(sim_session.participants)}")


def update_attendance(
    session: Session, *, sim_session: SimSession, actor: User, present_ids: set[int],
    now: datetime,
) -> None:
    if sim_session.status is not SessionStatus.IN_PROGRESS:
        raise InvalidState(_("Attendance can be corrected while the session is running."))
    for participant in sim_session.participants:
        participant.attendance = (Attendance.PRESENT if participant.user_id in present_ids
                                  else Attendance.ABSENT)
    audit.record(session, action="session.attendance_changed", actor=actor, now=now,
                 object_type="sim_session", object_id=sim_session.id)


def mark_debriefed(session: Session, *, sim_session: SimSession, actor: User,
                   now: datetime) -> None:
    if sim_session.status is not SessionStatus.IN_PROGRESS:
        raise InvalidState(_("Only a running session can be marked as debriefed."))
    sim_session.status = SessionStatus.DEBRIEFED
    sim_session.updated_at = now
    audit.record(session, action="session.debriefed", actor=actor, now=now,
                 object_type="sim_session", object_id=sim_session.id)


def participants_due_a_reminder(session: Session, *, now: datetime) -> list[SessionParticipant]:
    """Expected participants of scheduled sessions inside their centre's reminder window.

    ``reminded_for`` holds the start time a reminder was sent for, so a rescheduled session
    is reminded again and an unchanged one never twice.
    """
    longest_window = timedelta(hours=24 * 14)
    rows = session.scalars(
        select(SessionParticipant)
        .join(SimSession, SessionParticipant.session_id == SimSession.id)
        .where(
            SimSession.status == SessionStatus.SCHEDULED,
            SimSession.starts_at > now,
            SimSession.starts_at <= now + longest_window,
            SessionParticipant.attendance == Attendance.EXPECTED,
        )
        .options(selectinload(SessionParticipant.session).selectinload(SimSession.centre))
    ).all()
    due = []
    for participant in rows:
        sim_session = participant.session
        window = timedelta(hours=sim_session.centre.reminder_hours)
        if sim_session.starts_at - window <= now and \
                participant.reminded_for != sim_session.starts_at:
            due.append(participant)
    return due


def sessions_between(session: Session, *, centre: Centre, start: datetime, end: datetime):
    return list(session.scalars(
        select(SimSession)
        .where(SimSession.centre_id == centre.id, SimSession.overlapping(start, end))
        .order_by(SimSession.starts_at)
        .options(selectinload(SimSession.instructors),
                 selectinload(SimSession.participants))
    ).unique())


def sessions_for_learner(session: Session, user: User):
    return list(session.scalars(
        select(SimSession)
        .join(SessionParticipant, SessionParticipant.session_id == SimSession.id)
        .where(SessionParticipant.user_id == user.id)
        .order_by(SimSession.starts_at)
        .options(selectinload(SimSession.participants))
    ).unique())
