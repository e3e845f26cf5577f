"""The demo centre: enough people, cohorts and rooms for a newcomer to see every page filled.

Loading is idempotent: everything is looked up by a natural key before it is created, so a
second run changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief import taxonomy
from simdebrief.errors import InvalidState
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Attendance,
    Centre,
    CheckIn,
    Cohort,
    Debrief,
    Room,
    SessionParticipant,
    SessionStatus,
    SimSession,
)
from simdebrief.services import (
    accounts,
    checkins,
    debrief_factors,
    debrief_objectives,
    debriefing,
    demo_worklist,
    directory,
    library,
    support,
)
from simdebrief.services.demo_data import (
    BASIC_ASSUMPTION,
    COHORTS,
    DEMO_CENTRE,
    DEMO_CHECKINS,
    DEMO_DEBRIEF_LENGTH,
    DEMO_FEEDBACK,
    DEMO_FOLLOWUP_ANSWERS,
    DEMO_FOLLOWUP_PAUSED,
    DEMO_OUTCOMES,
    DEMO_PASSWORD,
    DEMO_RUNNING,
    DEMO_SESSIONS,
    DEMO_URGENT_CONTACTS,
    PEOPLE,
    ROOMS,
    SUPPORT_CONTACTS,
)


def demo_logins() -> list[tuple[str, str, str]]:
    return [(p.role.value + (f" ({p.tier.value})" if p.tier else ""), p.email, DEMO_PASSWORD)
            for p in PEOPLE if p.email in {
                "admin@demo.simdebrief.org", "instructor@demo.simdebrief.org",
                "student@demo.simdebrief.org", "peer@demo.simdebrief.org",
                "psychologist@demo.simdebrief.org"}]


def ensure_demo_scenarios(session: Session, *, now: datetime, library_dir: Path) -> int:
    """The demo's sessions are of shipped scenarios: load the library when they are missing.

    Returns how many scenarios were added; raises InvalidState naming what is still missing
    (and the command that loads it), so the demo is never loaded half.
    """
    needed = {slug for _note, slug, *_rest in DEMO_SESSIONS} | {DEMO_RUNNING[1]}
    if needed <= {s.slug for s in library.active_scenarios(session)}:
        return 0
    report = library.sync_library(session, directory=library_dir, now=now) \
        if library_dir.is_dir() else library.SyncReport()
    missing = needed - {s.slug for s in library.active_scenarios(session)}
    if missing:
        raise InvalidState(_(
            "The demo needs the scenarios %(slugs)s, which are not in %(folder)s. Load the "
            "library with 'flask --app app scenarios sync' and try again.",
            slugs=", ".join(sorted(missing)), folder=str(library_dir)))
    return len(report.added)


def load_demo(session: Session, *, now: datetime, timezone: str,
              library_dir: Path) -> dict[str, int]:
    """Create the demo centre, or leave it as it is; returns how many things were added."""
    added = {"centres": 0, "users": 0, "cohorts": 0, "rooms": 0, "memberships": 0,
             "scenarios": 0, "sessions": 0, "debriefs": 0, "check-ins": 0}
    added["scenarios"] = ensure_demo_scenarios(session, now=now, library_dir=library_dir)
    centre = session.scalar(select(Centre).where(Centre.name == DEMO_CENTRE))
    if centre is None:
        # The demo logins printed in the README work with a password alone.
        centre = Centre(name=DEMO_CENTRE, timezone=timezone, basic_assumption=BASIC_ASSUMPTION,
                        support_contacts=SUPPORT_CONTACTS, created_at=now,
                        require_two_factor=False)
        session.add(centre)
        added["centres"] += 1
    users = {}
    for person in PEOPLE:
        user = accounts.find_user_by_email(session, person.email)
        if user is None:
            user = accounts.create_user(
                session, centre=centre, now=now, password=DEMO_PASSWORD,
                data=accounts.NewUser(person.email, person.name, person.role, person.tier),
            )
            added["users"] += 1
        users[person.email] = user
    for name, emails in COHORTS.items():
        cohort = session.scalar(select(Cohort).where(Cohort.centre_id == centre.id,
                                                     Cohort.name == name))
        if cohort is None:
            cohort = directory.create_cohort(session, centre=centre, name=name)
            added["cohorts"] += 1
        for email in emails:
            if directory.add_student(cohort, users[email]):
                added["memberships"] += 1
    for name, capacity, location in ROOMS:
        if session.scalar(select(Room).where(Room.centre_id == centre.id,
                                             Room.name == name)) is None:
            directory.create_room(session, centre=centre, name=name, capacity=capacity,
                                  location=location)
            added["rooms"] += 1
    session.flush()
    added["sessions"] = load_demo_sessions(session, now=now)
    debrief = load_demo_debrief(session, now=now)
    added["debriefs"] = int(debrief is not None)
    added["check-ins"] = load_demo_checkins(session, now=now)
    added["follow-ups"] = arrange_demo_followups(session, debrief, now=now) if debrief else 0
    added["crisis route"] = load_demo_crisis_route(session, centre, now=now)
    added["waiting requests"] = load_demo_waiting_requests(session, centre, now=now)
    added["running sessions"] = demo_worklist.load_running_session(session, centre, now=now)
    added["failed emails"] = demo_worklist.load_failed_email(session, centre, now=now)
    return added


def load_demo_crisis_route(session: Session, centre: Centre, *, now: datetime) -> int:
    """Urgent contacts and the psychologist on duty from this morning to tomorrow morning."""
    from simdebrief.models import OnDutyShift, UrgentContact

    if session.scalar(select(UrgentContact.id).where(UrgentContact.centre_id == centre.id)):
        return 0
    for position, (name, phone, hours, emergency) in enumerate(DEMO_URGENT_CONTACTS):
        session.add(UrgentContact(centre_id=centre.id, name=name, phone=phone,
                                  opening_hours=hours, is_emergency=emergency,
                                  position=position))
    psychologist = accounts.find_user_by_email(session, "psychologist@demo.simdebrief.org")
    zone = ZoneInfo(centre.timezone)
    morning = datetime.combine(now.astimezone(zone).date(), time(8), tzinfo=zone)
    session.add(OnDutyShift(centre_id=centre.id, supporter_id=psychologist.id,
                            starts_at=morning.astimezone(UTC),
                            ends_at=(morning + timedelta(days=1)).astimezone(UTC)))
    session.flush()
    return len(DEMO_URGENT_CONTACTS) + 1


def load_demo_waiting_requests(session: Session, centre: Centre, *, now: datetime) -> int:
    """An urgent request that waits within its target, and a peer request past its target,
    so the supporters' queue shows both."""
    from simdebrief.models import SupportRequest

    william = accounts.find_user_by_email(session, "william@demo.simdebrief.org")
    maja = accounts.find_user_by_email(session, "maja@demo.simdebrief.org")
    if session.scalar(select(SupportRequest.id).where(
            SupportRequest.learner_id.in_((william.id, maja.id)))):
        return 0
    support.raise_urgent_request(session, learner=william, now=now - timedelta(minutes=20))
    support.create_request(
        session, learner=maja, tier="peer", now=now - timedelta(hours=60),
        message="Something on placement last month is still with me. Evenings are best.",
        contact=support.Contact(phone="+45 20 00 00 00", preferred_channel="phone",
                                good_times="Weekdays after 17"))
    return 2


def load_demo_sessions(session: Session, *, now: datetime) -> int:
    """Past and upcoming sessions for the demo centre, relative to ``now``; idempotent."""
    centre = session.scalar(select(Centre).where(Centre.name == DEMO_CENTRE))
    if centre is None:
        return 0
    scenarios = {s.slug: s for s in library.active_scenarios(session)}
    instructor = accounts.find_user_by_email(session, "instructor@demo.simdebrief.org")
    rooms = list(session.scalars(select(Room).where(Room.centre_id == centre.id)
                                 .order_by(Room.name)))
    added = 0
    zone = ZoneInfo(centre.timezone)
    today = now.astimezone(zone).date()
    for note, slug, days, hour, hours, cohort_name, state in DEMO_SESSIONS:
        if slug not in scenarios or session.scalar(
                select(SimSession.id).where(SimSession.centre_id == centre.id,
                                            SimSession.note == note)) is not None:
            continue
        cohort = session.scalar(select(Cohort).where(Cohort.centre_id == centre.id,
                                                     Cohort.name == cohort_name))
        starts = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone)
        sim_session = SimSession(
            centre=centre, scenario_version=scenarios[slug].current_version, room=rooms[0],
            starts_at=starts.astimezone(UTC),
            ends_at=(starts + timedelta(hours=hours)).astimezone(UTC),
            status=state, note=note, created_by_id=instructor.id, created_at=now, updated_at=now,
            instructors=[instructor],
        )
        for student in cohort.students:
            attendance = Attendance.EXPECTED
            if state is SessionStatus.DEBRIEFED:
                attendance = Attendance.ABSENT if student.email.startswith("oskar") \
                    else Attendance.PRESENT
            sim_session.participants.append(SessionParticipant(
                user=student, cohort_id=cohort.id, attendance=attendance))
        if state is SessionStatus.DEBRIEFED:
            sim_session.started_at = sim_session.starts_at
        session.add(sim_session)
        added += 1
    session.flush()
    return added


def load_demo_debrief(session: Session, *, now: datetime) -> Debrief | None:
    """A finalised debrief for the demo's past session, so every page has something to show;
    None when it is there already."""
    sim_session = session.scalar(select(SimSession).where(
        SimSession.note == DEMO_SESSIONS[0][0]))
    if sim_session is None or debriefing.debrief_for(session, sim_session) is not None:
        return None
    instructor = sim_session.instructors[0]
    # The debrief took place right after the session, so follow-ups count from then.
    now = min(sim_session.ends_at + DEMO_DEBRIEF_LENGTH, now)
    debrief = debriefing.start_debrief(session, sim_session=sim_session, actor=instructor,
                                       now=now)
    debriefing.save_notes(session, debrief=debrief, actor=instructor, now=now,
                          based_on_version=debrief.version, notes=debriefing.DebriefNotes(
        prebrief={code: True for code in taxonomy.codes(taxonomy.PREBRIEF_ITEMS)},
        phase_notes={
            "setting_the_scene": "Goals: act on a carer's “not herself”, run the arrest "
                                 "as a team, and look after each other after a death that was "
                                 "planned into the scenario. The centre's basic assumption "
                                 "read out; 55 minutes; anyone may step out.",
            "reactions": "The room was quiet at first. Most said the hardest moment was the "
                         "registrar saying “I'm stopping”. One kept wondering whether "
                         "calling the registrar a few minutes earlier would have changed "
                         "anything; several said her age, the same as theirs, made it close.",
            "description": "Linnea Holm, 23, moderate intellectual disability, day 2 of a right "
                           "lower lobe pneumonia. Call bell at 02:10: her support worker Mikkel "
                           "said she was not herself; heart rate 128, breathing 30, saturation "
                           "89 % on 4 L. PEA arrest at 02:15. CPR and adrenaline; alteplase "
                           "50 mg at 02:20 for a suspected massive pulmonary embolism; CPR "
                           "continued seventy minutes after the lytic; time of death 03:31.",
            "analysis": "Mikkel's account of her usual evening was heard but not passed on. A "
                        "rising heart rate with a falling CRP was put down to pneumonia. No "
                        "thrombosis prophylaxis despite the pill and two days in bed. The team "
                        "raised pulmonary embolism itself at minute 9; compressions were good "
                        "and swapped every two minutes once a leader was named.",
            "application_summary": "When a carer or relative says “this is not like "
                                   "her”, treat it as an observation and act on it. Call "
                                   "the registrar early. After thrombolysis, CPR goes on for 60 "
                                   "to 90 minutes. Send a short message to everyone who was "
                                   "there after a hard shift.",
        },
        framing={code: True for code, _label in debriefing.framing_items(sim_session.centre)},
        role_model_story_shared=True,
        triggers=["unexpected_event_or_outcome", "patient_harm_or_death",
                  "first_patient_death"],
        take_home_messages="A death after good resuscitation is not a verdict on the team.\n"
                           "When someone who knows the patient says “this is not like "
                           "her”, act on it.\n"
                           "After thrombolysis for a pulmonary embolism, keep CPR going 60 to "
                           "90 minutes before stopping.\n"
                           "Feeling shaken after a death is a normal reaction; talk about it, "
                           "and answer the follow-up tomorrow.",
    ))
    debrief_factors.suggest_expected_factors(session, debrief=debrief, actor=instructor, now=now)
    for kind, domain, strategy, text in (
        ("plus", "technical", "self_assessment",
         "Compressions started within a minute of the pulse check and were swapped every two "
         "minutes."),
        ("delta", "communication", "focused_facilitation",
         "The support worker's “she usually asks for her music” did not reach the "
         "registrar at handover."),
        ("gap", "teamwork", "directive_feedback",
         "No leader was named until the registrar asked “who's leading?” at minute 7."),
        ("gap", "cognitive", "focused_facilitation",
         "A heart rate of 128 with a falling CRP was explained by pneumonia; pulmonary embolism "
         "came up only after the arrest."),
    ):
        debrief_factors.add_analysis_item(
            session, debrief=debrief, actor=instructor, now=now,
            data=debrief_factors.AnalysisInput(kind, domain, strategy, text))
    for learner in debriefing.debrief_learners(sim_session):
        strengths, improve, goals = DEMO_FEEDBACK.get(learner.email, (
            "You stayed with the team through the whole resuscitation.",
            "Say what you notice out loud, even when everyone around you is busy.",
            "Take part in one more arrest scenario this term."))
        debriefing.save_feedback(session, debrief=debrief, learner=learner, actor=instructor,
                                 now=now, data=debriefing.FeedbackInput(strengths, improve,
                                                                        goals))
    record_demo_outcomes(session, debrief, instructor, now=now)
    debriefing.finalise(session, debrief=debrief, actor=instructor, now=now)
    return debrief


def record_demo_outcomes(session: Session, debrief: Debrief, instructor, *,
                         now: datetime) -> None:
    """Objectives, phase times and the factors' discussion, as an educator records them."""
    objectives = debriefing.scenario_objectives(debrief)
    debrief_objectives.save_objectives(
        session, debrief=debrief, actor=instructor, now=now, outcomes={
        position: debrief_objectives.OutcomeInput(*DEMO_OUTCOMES[position % len(DEMO_OUTCOMES)])
        for position in range(len(objectives))})
    phases = debriefing.framework_phases(debrief)
    start = now - DEMO_DEBRIEF_LENGTH
    step = DEMO_DEBRIEF_LENGTH / max(len(phases), 1)
    debrief_objectives.set_phase_times(session, debrief=debrief, actor=instructor, now=now, times={
        code: (start + step * number, start + step * (number + 1))
        for number, (code, _label) in enumerate(phases)})
    for problem in debrief.problems:
        for factor in problem.factors[:-1]:
            debrief_factors.mark_factor_discussed(session, factor=factor, actor=instructor, now=now)
    if debrief.problems:
        debrief_factors.classify_problem(session, problem=debrief.problems[0], actor=instructor,
                                         just_culture="human_error", now=now)


def load_demo_checkins(session: Session, *, now: datetime) -> int:
    """Check-ins after the demo debrief, and one learner's request to talk to a peer."""
    sim_session = session.scalar(select(SimSession).where(
        SimSession.note == DEMO_SESSIONS[0][0]))
    if sim_session is None or session.scalar(
            select(CheckIn.id).where(CheckIn.session_id == sim_session.id)) is not None:
        return 0
    answered = 0
    for email, distress, symptoms, coping, wanted in DEMO_CHECKINS:
        learner = accounts.find_user_by_email(session, email)
        checkin = checkins.submit_checkin(
            session, user=learner, sim_session=sim_session, now=now,
            answers=checkins.Answers(distress=distress, symptoms=tuple(symptoms),
                                     coping=tuple(coping), support_wanted=tuple(wanted)))
        answered += 1
        if "talk_to_peer" in wanted:
            support.create_request(
                session, learner=learner, tier="peer", now=now, sim_session=sim_session,
                checkin=checkin, instructors_informed=True,
                message="I keep thinking about the arrest at night. Could we talk this week?")
    return answered


def arrange_demo_followups(session: Session, debrief: Debrief, *, now: datetime) -> int:
    """Play out the follow-ups that finalising the demo debrief scheduled: the first stages
    answered or closed, one learner's paused, and the one-week stage due (the scheduler sends
    those; the demo student's is already open to answer)."""
    from simdebrief.models import FollowUp, FollowUpStatus
    from simdebrief.services.followups import answers, learner_choices

    created = list(session.scalars(select(FollowUp).where(
        FollowUp.session_id == debrief.session_id)))
    rows = {(f.user.email, f.stage_key): f for f in created}
    demo_answers = {(email, key): rest for email, key, *rest in DEMO_FOLLOWUP_ANSWERS}
    learners = sorted({email for email, _key in rows})
    for email in learners:
        keys = ("FU0_end_of_debrief",) if email == DEMO_FOLLOWUP_PAUSED else (
            "FU0_end_of_debrief", "FU1_early", "FU2_one_week")
        for key in keys:
            followup = rows.get((email, key))
            if followup is None or followup.due_at > now or \
                    followup.status is not FollowUpStatus.SCHEDULED:
                continue
            if key == "FU2_one_week" and not email.startswith("student@"):
                continue  # left due: the scheduler sends these
            followup.status = FollowUpStatus.SENT
            followup.sent_at = followup.due_at
            if (email, key) in demo_answers:
                distress, symptoms, extra = demo_answers[(email, key)]
                answered = min(followup.due_at + timedelta(hours=2), now)
                answers.complete_stage(
                    session, followup=followup, now=answered, stage_answers=extra,
                    answers=checkins.Answers(distress=distress, symptoms=tuple(symptoms)))
            elif followup.expires_at <= now:
                followup.status = FollowUpStatus.EXPIRED
                followup.status_changed_at = followup.expires_at
        if email == DEMO_FOLLOWUP_PAUSED:
            first = rows[(email, "FU0_end_of_debrief")]
            learner_choices.set_choice(session, user=first.user, action="pause", via="link",
                                       now=min(first.due_at + timedelta(hours=3), now))
    session.flush()
    return len(created)
