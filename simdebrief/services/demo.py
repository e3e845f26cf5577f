"""The demo centre: enough people, cohorts and rooms for a newcomer to see every page filled.

Loading is idempotent: everything is looked up by a natural key before it is created, so a
second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief.models import Centre, Cohort, Role, Room, SupporterTier
from simdebrief.services import accounts, directory

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


def load_demo(session: Session, *, now: datetime, timezone: str) -> dict[str, int]:
    """Create the demo centre, or leave it as it is; returns how many things were added."""
    added = {"centres": 0, "users": 0, "cohorts": 0, "rooms": 0, "memberships": 0}
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
    return added
