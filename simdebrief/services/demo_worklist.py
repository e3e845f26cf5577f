"""The demo's open work, so every to-do on the dashboards has an example: a session running
now whose debrief is a draft with one learner still without feedback (also today's session),
and an email the relay gave up on. Idempotent like the rest of the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief import taxonomy
from simdebrief.models import (
    Attendance,
    Centre,
    Cohort,
    OutboxEmail,
    OutboxStatus,
    Room,
    SessionParticipant,
    SessionStatus,
    SimSession,
)
from simdebrief.services import accounts, debriefing, library, notifications
from simdebrief.services.demo_data import (
    DEMO_DRAFT_FEEDBACK,
    DEMO_DRAFT_NOTES,
    DEMO_FAILED_EMAIL,
    DEMO_RUNNING,
)
from simdebrief.services.notifications import MAX_ATTEMPTS

#: The running session began this long before the demo was loaded and lasts three hours.
STARTED_AGO, LENGTH = timedelta(hours=1), timedelta(hours=3)


def load_running_session(session: Session, centre: Centre, *, now: datetime) -> int:
    """The session under way with its draft debrief; 0 when it is there already."""
    note, slug, cohort_name, room_name = DEMO_RUNNING
    if session.scalar(select(SimSession.id).where(SimSession.centre_id == centre.id,
                                                  SimSession.note == note)):
        return 0
    scenario = next((s for s in library.active_scenarios(session) if s.slug == slug), None)
    cohort = session.scalar(select(Cohort).where(Cohort.centre_id == centre.id,
                                                 Cohort.name == cohort_name))
    room = session.scalar(select(Room).where(Room.centre_id == centre.id,
                                             Room.name == room_name))
    if scenario is None or cohort is None or room is None:
        return 0
    instructor = accounts.find_user_by_email(session, "instructor@demo.simdebrief.org")
    starts = (now - STARTED_AGO).replace(minute=(now.minute // 15) * 15, second=0,
                                         microsecond=0).astimezone(UTC)
    sim_session = SimSession(
        centre=centre, scenario_version=scenario.current_version, room=room,
        starts_at=starts, ends_at=starts + LENGTH, status=SessionStatus.IN_PROGRESS,
        started_at=starts, note=note, created_by_id=instructor.id, created_at=now,
        updated_at=now, instructors=[instructor])
    for student in cohort.students:
        sim_session.participants.append(SessionParticipant(
            user=student, cohort_id=cohort.id, attendance=Attendance.PRESENT))
    session.add(sim_session)
    session.flush()
    debrief = debriefing.start_debrief(session, sim_session=sim_session, actor=instructor,
                                       now=now)
    debriefing.save_notes(
        session, debrief=debrief, actor=instructor, now=now, based_on_version=debrief.version,
        notes=debriefing.DebriefNotes(
            prebrief={code: True for code in taxonomy.codes(taxonomy.PREBRIEF_ITEMS)},
            phase_notes=dict(DEMO_DRAFT_NOTES), framing={}, role_model_story_shared=False,
            triggers=["harmful_interaction_staff", "self_blame"], take_home_messages=""))
    for email, (strengths, improve, goals) in DEMO_DRAFT_FEEDBACK.items():
        learner = accounts.find_user_by_email(session, email)
        debriefing.save_feedback(session, debrief=debrief, learner=learner, actor=instructor,
                                 now=now, data=debriefing.FeedbackInput(strengths, improve,
                                                                        goals))
    return 1


def load_failed_email(session: Session, centre: Centre, *, now: datetime) -> int:
    """An email that failed at every attempt; 0 when it is there already."""
    if session.scalar(select(OutboxEmail.id).where(
            OutboxEmail.idempotency_key == DEMO_FAILED_EMAIL["key"])):
        return 0
    email = notifications.enqueue_email(
        session, key=DEMO_FAILED_EMAIL["key"], to=DEMO_FAILED_EMAIL["to"],
        subject=DEMO_FAILED_EMAIL["subject"], body=DEMO_FAILED_EMAIL["body"],
        now=now - timedelta(days=1), mail_from="simdebrief@demo.simdebrief.org",
        centre_id=centre.id)
    email.attempts = MAX_ATTEMPTS
    email.status = OutboxStatus.FAILED
    email.last_error = DEMO_FAILED_EMAIL["error"]
    session.flush()
    return 1
