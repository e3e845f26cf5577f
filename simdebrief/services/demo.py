"""The demo centre: enough people, cohorts and rooms for a newcomer to see every page filled.

Loading is idempotent: everything is looked up by a natural key before it is created, so a
second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief import taxonomy
from simdebrief.errors import InvalidState
from simdebrief.models import (
    Attendance,
    Centre,
    CheckIn,
    Cohort,
    Debrief,
    Role,
    Room,
    SessionParticipant,
    SessionStatus,
    SimSession,
    SupporterTier,
)
from simdebrief.services import accounts, checkins, debriefing, directory, library, support

DEMO_CENTRE = "SimDebrief Demo Simulation Centre"
DEMO_PASSWORD = "demo-simulation-2026"  # noqa: S105 (published demo login, README)

BASIC_ASSUMPTION = (
    "We believe that everyone taking part today is intelligent and capable, cares about doing "
    "their best and wants to improve. Mistakes in the simulation are expected: they are what "
    "we learn from together, and nobody is graded on how they feel."
)
SUPPORT_CONTACTS = (
    "Peer supporters of the simulation centre: ask any instructor, or use “Ask for a "
    "conversation” in SimDebrief.\n"
    "Student counselling service: free and confidential, book through the university.\n"
    "Your own doctor, if sleep or mood stay affected for more than a couple of weeks."
)


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: Role
    tier: SupporterTier | None = None


PEOPLE = [
    DemoPerson("admin@demo.simdebrief.org", "Astrid Admin", Role.ADMIN),
    DemoPerson("instructor@demo.simdebrief.org", "Ida Instruktør", Role.INSTRUCTOR),
    DemoPerson("mikkel.instructor@demo.simdebrief.org", "Mikkel Holm", Role.INSTRUCTOR),
    DemoPerson("peer@demo.simdebrief.org", "Peter Peer", Role.SUPPORTER, SupporterTier.PEER),
    DemoPerson("psychologist@demo.simdebrief.org", "Pia Psykolog", Role.SUPPORTER,
               SupporterTier.PROFESSIONAL),
    DemoPerson("student@demo.simdebrief.org", "Sofie Studerende", Role.STUDENT),
    DemoPerson("emil@demo.simdebrief.org", "Emil Jørgensen", Role.STUDENT),
    DemoPerson("freja@demo.simdebrief.org", "Freja Østergaard", Role.STUDENT),
    DemoPerson("noah@demo.simdebrief.org", "Noah Ahmadi", Role.STUDENT),
    DemoPerson("laerke@demo.simdebrief.org", "Lærke Sørensen", Role.STUDENT),
    DemoPerson("oskar@demo.simdebrief.org", "Oskar Nielsen", Role.STUDENT),
    DemoPerson("maja@demo.simdebrief.org", "Maja Kowalczyk", Role.STUDENT),
    DemoPerson("william@demo.simdebrief.org", "William Andersen", Role.STUDENT),
]

COHORTS = {
    "Master year 1, autumn 2026": [
        "student@demo.simdebrief.org", "emil@demo.simdebrief.org", "freja@demo.simdebrief.org",
        "noah@demo.simdebrief.org", "laerke@demo.simdebrief.org", "oskar@demo.simdebrief.org",
    ],
    "Master year 2, autumn 2026": ["maja@demo.simdebrief.org", "william@demo.simdebrief.org"],
}

ROOMS = [("Sim room 1 (emergency bay)", 8, "Building 5, ground floor"),
         ("Sim room 2 (ward)", 6, "Building 5, ground floor"),
         ("Debrief room", 12, "Building 5, first floor")]


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
    needed = {slug for _note, slug, *_rest in DEMO_SESSIONS}
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
        centre = Centre(name=DEMO_CENTRE, timezone=timezone, basic_assumption=BASIC_ASSUMPTION,
                        support_contacts=SUPPORT_CONTACTS, created_at=now)
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
    return added


#: Danish urgent contacts (domain.md §5.5); opening hours change, so the centre keeps them
#: current. (name, phone, opening hours, emergency number)
DEMO_URGENT_CONTACTS = [
    ("Alarm 112 (ambulance, police, fire)", "112", "Day and night", True),
    ("Livslinien: anonymous counselling when thoughts of suicide come", "70 201 201",
     "Every day in the afternoon, evening and night; see livslinien.dk for today's hours",
     False),
]


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


#: (marker note, scenario slug, days from today, local start hour, hours, cohort, state)
DEMO_SESSIONS = [
    ("Demo: last week's session", "ward-unexpected-cardiac-arrest", -8, 9, 3,
     "Master year 1, autumn 2026", SessionStatus.DEBRIEFED),
    ("Demo: next week", "penicillin-allergy-anaphylaxis", 6, 9, 3,
     "Master year 1, autumn 2026", SessionStatus.SCHEDULED),
    ("Demo: in two weeks", "ward-handover-omission", 13, 13, 3,
     "Master year 2, autumn 2026", SessionStatus.SCHEDULED),
]


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


DEMO_FEEDBACK = {
    "student@demo.simdebrief.org": (
        "You started chest compressions within a minute and kept the rhythm steady.",
        "Say the rhythm check out loud so the whole team hears it.",
        "Lead the next rhythm check as team leader."),
    "emil@demo.simdebrief.org": (
        "You noticed the patient had stopped answering and called for help at once.",
        "Ask for a second pair of hands before you start the next task.",
        "Practise a structured handover to the arrest team (ISBAR)."),
    "freja@demo.simdebrief.org": (
        "Clear, calm communication with the relative on the phone.",
        "Check the allergy and medication list before giving the first drug.",
        "Read the local guideline for breaking bad news."),
}


#: How long after the demo's past session its debrief was finalised.
DEMO_DEBRIEF_LENGTH = timedelta(minutes=45)


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
            "setting_the_scene": "Goal: recognise the arrest early and work as a team. "
                                 "Basic assumption read out; 45 minutes for the debrief.",
            "reactions": "Several were shaken: it felt real when the patient stopped "
                         "answering. Two said they kept thinking they should have seen it "
                         "coming.",
            "description": "A 34-year-old patient collapsed on the ward after a day of vague "
                           "chest pain; the team found no pulse and started CPR.",
            "analysis": "Early warning scores were not repeated in the afternoon; the call "
                        "for help was quick; the defibrillator was slow to arrive.",
            "application_summary": "Repeat observations when a patient worries you, and "
                                   "say your concern out loud.",
        },
        framing={code: True for code, _label in debriefing.framing_items(sim_session.centre)},
        role_model_story_shared=True,
        triggers=["unexpected_event_or_outcome", "patient_harm_or_death"],
        take_home_messages="An unexpected arrest is rarely one person's miss.\n"
                           "Say your worry out loud: the team can only act on what it hears.\n"
                           "Feeling shaken afterwards is normal, and talking about it helps.",
    ))
    debriefing.suggest_expected_factors(session, debrief=debrief, actor=instructor, now=now)
    for kind, domain, strategy, text in (
        ("plus", "technical", "self_assessment", "Compressions started within a minute."),
        ("delta", "communication", "focused_facilitation",
         "Nobody said the early warning score out loud."),
        ("gap", "teamwork", "directive_feedback", "No clear team leader for the first minutes."),
    ):
        debriefing.add_analysis_item(session, debrief=debrief, actor=instructor, now=now,
                                     data=debriefing.AnalysisInput(kind, domain, strategy, text))
    for learner in debriefing.debrief_learners(sim_session):
        strengths, improve, goals = DEMO_FEEDBACK.get(learner.email, (
            "You stayed with the patient and kept the team informed.",
            "Ask for help a little earlier.",
            "Take part in one more arrest scenario this term."))
        debriefing.save_feedback(session, debrief=debrief, learner=learner, actor=instructor,
                                 now=now, data=debriefing.FeedbackInput(strengths, improve,
                                                                        goals))
    debriefing.finalise(session, debrief=debrief, actor=instructor, now=now)
    return debrief


#: Check-ins of the demo's past session: (email, distress, symptoms, coping, support wanted)
DEMO_CHECKINS = [
    ("student@demo.simdebrief.org", 3, ["intrusive_memories"], ["network"], []),
    ("emil@demo.simdebrief.org", 6, ["guilt", "sleep_problems", "self_doubt"], [],
     ["talk_to_peer"]),
    ("freja@demo.simdebrief.org", 2, [], ["network", "work_private_separation"], []),
    ("noah@demo.simdebrief.org", 4, ["anxiety", "fear_of_future_errors"], ["formal_offer"],
     ["process_information"]),
    ("laerke@demo.simdebrief.org", 1, [], ["work_private_separation"], []),
]


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


#: Answers to the demo session's follow-ups: (email, stage key, distress, symptoms, stage
#: answers). A learner and stage not listed here closed without an answer.
DEMO_FOLLOWUP_ANSWERS = [
    ("student@demo.simdebrief.org", "FU0_end_of_debrief", 4, ["intrusive_memories"],
     {"takeaways": "yes"}),
    ("student@demo.simdebrief.org", "FU1_early", 3, [],
     {"sleep": "disturbed", "intrusive": "sometimes", "open_questions": "a_little"}),
    ("emil@demo.simdebrief.org", "FU0_end_of_debrief", 6, ["guilt", "sleep_problems"],
     {"takeaways": "partly"}),
    ("emil@demo.simdebrief.org", "FU1_early", 5, [],
     {"sleep": "badly", "intrusive": "often", "open_questions": "yes"}),
    ("noah@demo.simdebrief.org", "FU0_end_of_debrief", 4, ["fear_of_future_errors"], {}),
    ("laerke@demo.simdebrief.org", "FU0_end_of_debrief", 1, [], {"takeaways": "yes"}),
    ("freja@demo.simdebrief.org", "FU0_end_of_debrief", 2, [], {"takeaways": "yes"}),
]
#: Paused follow-ups right after the debrief: one click, no reason asked.
DEMO_FOLLOWUP_PAUSED = "freja@demo.simdebrief.org"


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
