"""The demo centre's people, texts and answers: data only, loaded by ``demo``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from simdebrief.models import (
    Role,
    SessionStatus,
    SupporterTier,
)

DEMO_CENTRE = "SimDebrief Demo Simulation Centre"


DEMO_PASSWORD = "demo-simulation-2026"  # noqa: S105 (published demo login, README)


BASIC_ASSUMPTION = (
    "In this centre we start from the view that what each of you did today made sense to you "
    "at the time, and we are curious about your reasons rather than looking for someone to "
    "blame. Scenarios are built to be hard, so things will go wrong here: that is what we "
    "learn from together. Nobody is graded on what they feel or share in the debrief."
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


#: Danish urgent contacts (domain.md §5.5); opening hours change, so the centre keeps them
#: current. (name, phone, opening hours, emergency number)
DEMO_URGENT_CONTACTS = [
    ("Alarm 112 (ambulance, police, fire)", "112", "Day and night", True),
    ("Livslinien: anonymous counselling when thoughts of suicide come", "70 201 201",
     "Every day in the afternoon, evening and night; see livslinien.dk for today's hours",
     False),
]


#: (marker note, scenario slug, days from today, local start hour, hours, cohort, state)
DEMO_SESSIONS = [
    ("Demo: last week's session", "ward-unexpected-cardiac-arrest", -8, 9, 3,
     "Master year 1, autumn 2026", SessionStatus.DEBRIEFED),
    ("Demo: next week", "penicillin-allergy-anaphylaxis", 6, 9, 3,
     "Master year 1, autumn 2026", SessionStatus.SCHEDULED),
    ("Demo: in two weeks", "ward-handover-omission", 13, 13, 3,
     "Master year 2, autumn 2026", SessionStatus.SCHEDULED),
]


#: Personal feedback after the demo's past session (the night-time arrest of Linnea Holm, 23),
#: one entry per learner present, each about what that learner did: (strengths, to improve,
#: goals).
DEMO_FEEDBACK = {
    "student@demo.simdebrief.org": (
        "As ward doctor you did a structured ABCDE and asked for an ECG within two minutes; "
        "when she arrested you said “PEA” out loud and started the team on the "
        "4 Hs and 4 Ts.",
        "You examined for three minutes before calling the registrar. With a heart rate of 128 "
        "and saturation of 89 % in a 23-year-old, call first and examine while help comes.",
        "Practise a 30-second ISBAR call to a registrar about a deteriorating patient, and lead "
        "the reversible-causes check in your next arrest scenario."),
    "emil@demo.simdebrief.org": (
        "You started compressions within a minute of the pulse check, at the depth the feedback "
        "device asked for, and handed over cleanly at every two-minute swap.",
        "You saw Linnea point at her chest before she collapsed and kept it to yourself. As the "
        "student in the room, what you see still counts: say it.",
        "On your next placement, tell the team one observation out loud in every patient "
        "review you join."),
    "freja@demo.simdebrief.org": (
        "You asked Mikkel what Linnea is usually like in the evening and brought the 24-hour "
        "chart that showed her heart rate and oxygen need rising.",
        "Put the carer's words into your call to the doctor: “her support worker says "
        "this is not like her” is an observation the doctor needs to hear.",
        "Find the venous thromboembolism assessment in your ward's admission bundle and check "
        "who completes it and when."),
    "noah@demo.simdebrief.org": (
        "You took over compressions without a pause and wrote the adrenaline times on the "
        "whiteboard, which the registrar used at each rhythm check.",
        "In the long resuscitation after the alteplase, call out the elapsed time every ten "
        "minutes so that the leader can plan the 60 to 90 minutes of CPR.",
        "Read the resuscitation guideline's section on thrombolysis in cardiac arrest and on "
        "mechanical chest compression during prolonged CPR."),
    "laerke@demo.simdebrief.org": (
        "Your observation notes gave the debrief its clearest timeline, from the call bell at "
        "02:10 to the time of death at 03:31.",
        "After the decision to stop, Mikkel stood alone by the wall. Next time go to him "
        "yourself, or ask the team out loud who will.",
        "Prepare one opening sentence for a relative or carer after a death and try it in "
        "the communication session on breaking bad news."),
}


#: How long after the demo's past session its debrief was finalised.
DEMO_DEBRIEF_LENGTH = timedelta(minutes=45)


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


#: The demo's objectives: met, partly met and not met, in turn.
DEMO_OUTCOMES = (("met", "Seen in the first minutes of the arrest."),
                 ("partly", "Named late; the group found it in the analysis."),
                 ("not_met", "Not reached in this session; it is next term's focus."))


#: A session running now whose debrief is a draft, so the instructor's dashboard has a debrief
#: to finalise and a learner still without feedback: (note, scenario, cohort, room).
DEMO_RUNNING = ("Demo: running now, debrief in progress",
                "postpartum-haemorrhage-delayed-escalation", "Master year 2, autumn 2026",
                "Sim room 2 (ward)")
#: The draft's notes so far (PEARLS phases), about the postpartum haemorrhage scenario.
DEMO_DRAFT_NOTES = {
    "setting_the_scene": "Goals: escalate a bleeding concern with the emergency bell, weigh "
                         "blood loss rather than guess it, and talk about being brushed off "
                         "on the phone. 50 minutes; anyone may step out.",
    "reactions": "Maja said she felt she should have known it was not lochia; William was "
                 "angry on her behalf about the phone call.",
    "description": "Fifty minutes after an induced first birth; the midwife called away. The "
                   "student's report of bleeding was put down to lochia on the phone; the "
                   "bell was pulled at minute 7, oxytocin and tranexamic acid by minute 12.",
}
#: Feedback written so far: Maja has hers, William does not yet.
DEMO_DRAFT_FEEDBACK = {
    "maja@demo.simdebrief.org": (
        "You weighed the pads and said the running total out loud (“650 and rising”), "
        "which turned the phone call around.",
        "Pull the emergency bell as soon as you are worried; you do not need permission.",
        "Practise a ten-second bell message: who, where, what, how much blood."),
}
#: An email the relay gave up on after every retry, so the admin's dashboard has one to show.
DEMO_FAILED_EMAIL = {
    "key": "demo:failed-reminder",
    "to": "n.jensen@old-placement.example",
    "subject": "Reminder: your simulation session next week",
    "body": "Hello,\n\nThis is a reminder of your simulation session next week at the "
            "simulation centre. Please arrive ten minutes early.\n\n-- \nSimDebrief",
    "error": "Connection timed out: the receiving mail server did not answer (after 20 tries).",
}
