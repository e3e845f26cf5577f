"""iCalendar output: what a calendar app reads back from feeds and single-session files."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar, Event
from sqlalchemy import event

from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    Centre,
    Room,
    Scenario,
    ScenarioVersion,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
)
from simdebrief.services import calendar as ics
from simdebrief.services import scheduling
from simdebrief.timefmt import local_to_utc

ZONE = "Europe/Copenhagen"
CONFEDERATE_SCRIPT = "Registrar says: do it alone, I have clinic"
INSTRUCTOR_NOTE = "Bring the cannulation arm from storage"


# --- helpers shared with tests/web/test_calendar.py ----------------------------------------


def add_version(*, title: str, now: datetime, slug: str | None = None) -> ScenarioVersion:
    """A scenario with one version whose content holds a confederate script."""
    slug = slug or title.lower().replace(" ", "-")
    scenario = Scenario(slug=slug, created_at=now)
    version = ScenarioVersion(
        scenario=scenario, number=1, content_hash="0" * 64,
        content={"title": title, "confederate_script": CONFEDERATE_SCRIPT},
        source_file=f"{slug}.yaml", title=title, summary="A test scenario.",
        clinical_setting="ward_medical", adverse_event_type="communication_failure",
        trigger_types=[], risk_flags=[], duration_minutes=20, role_places=6, synced_at=now)
    db.session.add(version)
    db.session.flush()
    return version


def add_room(centre_id: int, name: str = "Sim room 1", location: str = "") -> Room:
    room = Room(centre_id=centre_id, name=name, capacity=8, location=location)
    db.session.add(room)
    db.session.flush()
    return room


def add_session(
    *, centre_id: int, version: ScenarioVersion, room: Room, day: date, at: time = time(9),
    minutes: int = 120, instructors: list[User] = (), learners: list[User] = (),
    now: datetime, status: SessionStatus = SessionStatus.SCHEDULED, note: str = "",
    cohort_id: int | None = None,
) -> SimSession:
    starts_at = local_to_utc(day, at, ZONE)
    sim_session = SimSession(
        centre_id=centre_id, scenario_version=version, room=room, starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes), created_at=now, updated_at=now,
        instructors=list(instructors), status=status, note=note)
    for learner in learners:
        sim_session.participants.append(SessionParticipant(user_id=learner.id,
                                                           cohort_id=cohort_id))
    db.session.add(sim_session)
    db.session.flush()
    return sim_session


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def events_by_title(calendar: Calendar) -> dict[str, Event]:
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def ctx(app, people):
    """An app and request context (gettext and the clock need it) with the seeded people."""
    with app.test_request_context():
        yield {key: db.session.get(User, user_id) for key, user_id in people.ids.items()}


@pytest.fixture
def setup(ctx, people, clock):
    now = clock.now()
    version = add_version(title="Cardiac arrest on the ward", now=now)
    room = add_room(people.centre_id, location="Building 5, floor 2")
    return {"now": now, "version": version, "room": room, **ctx}


# --- tests ----------------------------------------------------------------------------------


def test_times_are_in_the_centre_zone_across_the_daylight_saving_change(setup, people):
    s = setup
    before = add_session(centre_id=people.centre_id, version=s["version"], room=s["room"],
                         day=date(2026, 10, 19), instructors=[s["instructor"]],
                         learners=[s["student"]], now=s["now"])
    after = add_session(centre_id=people.centre_id, version=s["version"], room=s["room"],
                        day=date(2026, 11, 2), instructors=[s["instructor"]],
                        learners=[s["student"]], now=s["now"])
    db.session.commit()

    calendar = parse(ics.feed_for_user(db.session, s["student"], s["now"]))
    found = {e["UID"]: e for e in calendar.walk("VEVENT")}
    summer = found[f"{before.calendar_uid}@simdebrief"]
    winter = found[f"{after.calendar_uid}@simdebrief"]
    for entry in (summer, winter):
        assert entry["DTSTART"].params["TZID"] == ZONE
        assert entry.start.hour == 9 and entry.start.minute == 0
        assert entry.end.hour == 11
    assert summer.start.astimezone(UTC) == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    assert winter.start.astimezone(UTC) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    zones = calendar.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == [ZONE]
    assert b"DTSTART;TZID=Europe/Copenhagen:20261102T090000" in calendar.to_ical()


def test_an_edit_keeps_the_uid_and_raises_the_sequence(setup, people):
    s = setup
    sim_session = add_session(centre_id=people.centre_id, version=s["version"], room=s["room"],
                              day=date(2026, 10, 27), instructors=[s["instructor"]],
                              learners=[s["student"]], now=s["now"])
    db.session.commit()
    first = parse(ics.single_session_ics(sim_session, s["now"], "learner")).events[0]

    new_start = local_to_utc(date(2026, 10, 28), time(13), ZONE)
    scheduling.update_session(
        db.session, sim_session=sim_session, actor=s["instructor"], now=s["now"],
        plan=scheduling.SessionPlan(
            scenario_version_id=s["version"].id, starts_at=new_start,
            ends_at=new_start + timedelta(hours=2), room_id=s["room"].id,
            instructor_ids=(s["instructor"].id,), student_ids=(s["student"].id,)))
    db.session.commit()
    second = parse(ics.feed_for_user(db.session, s["student"], s["now"])).events[0]

    assert second["UID"] == first["UID"] == f"{sim_session.calendar_uid}@simdebrief"
    assert int(second["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert second.start == datetime(2026, 10, 28, 13, 0, tzinfo=second.start.tzinfo)
    assert str(second["STATUS"]) == "CONFIRMED"


def test_a_cancelled_session_stays_in_the_feed_as_cancelled(setup, people):
    s = setup
    sim_session = add_session(centre_id=people.centre_id, version=s["version"], room=s["room"],
                              day=date(2026, 10, 27), instructors=[s["instructor"]],
                              learners=[s["student"]], now=s["now"])
    db.session.commit()
    scheduling.cancel_session(db.session, sim_session=sim_session, actor=s["instructor"],
                              reason="The simulator is broken", now=s["now"])
    db.session.commit()

    for body in (ics.feed_for_user(db.session, s["student"], s["now"]),
                 ics.feed_for_user(db.session, s["instructor"], s["now"]),
                 ics.feed_for_room(db.session, s["room"], s["now"])):
        (entry,) = parse(body).events
        assert str(entry["STATUS"]) == "CANCELLED"
        assert int(entry["SEQUENCE"]) == 1
        assert entry["UID"] == f"{sim_session.calendar_uid}@simdebrief"
    learner_entry = parse(ics.feed_for_user(db.session, s["student"], s["now"])).events[0]
    assert "cancelled" in str(learner_entry["DESCRIPTION"])
    assert "The simulator is broken" in str(learner_entry["DESCRIPTION"])
    room_entry = parse(ics.feed_for_room(db.session, s["room"], s["now"])).events[0]
    assert "The simulator is broken" not in str(room_entry["DESCRIPTION"])


def test_learners_read_what_to_expect_and_nothing_of_the_scenario(setup, people):
    s = setup
    sim_session = add_session(centre_id=people.centre_id, version=s["version"], room=s["room"],
                              day=date(2026, 10, 27), instructors=[s["instructor"]],
                              learners=[s["student"], s["student2"]], now=s["now"],
                              note=INSTRUCTOR_NOTE)
    db.session.commit()

    learner_file = ics.single_session_ics(sim_session, s["now"], ics.Audience.LEARNER)
    entry = parse(learner_file).events[0]
    text = str(entry["DESCRIPTION"])
    assert "debrief" in text and "pause or stop them at any time" in text
    assert str(entry["SUMMARY"]) == "Cardiac arrest on the ward"
    assert str(entry["LOCATION"]) == "Sim room 1, Building 5, floor 2"
    assert entry.stamp == s["now"]
    for secret in (CONFEDERATE_SCRIPT, INSTRUCTOR_NOTE, "A test scenario."):
        assert secret.encode() not in learner_file

    staff = str(parse(ics.single_session_ics(sim_session, s["now"], "staff"))
                .events[0]["DESCRIPTION"])
    assert "2 participants" in staff and INSTRUCTOR_NOTE in staff
    assert "Ivan Instructor" in staff
    assert CONFEDERATE_SCRIPT not in staff

    room_file = ics.feed_for_room(db.session, s["room"], s["now"])
    for private in (INSTRUCTOR_NOTE, "Sara Student", "Søren Andersen", CONFEDERATE_SCRIPT):
        assert private.encode() not in room_file
    assert b"Cardiac arrest on the ward" in room_file


def test_each_person_gets_only_their_own_sessions(setup, people):
    s = setup
    other_version = add_version(title="Handover omission", now=s["now"])
    mine = add_session(centre_id=people.centre_id, version=s["version"], room=s["room"],
                       day=date(2026, 10, 27), instructors=[s["instructor"]],
                       learners=[s["student"]], now=s["now"])
    add_session(centre_id=people.centre_id, version=other_version, room=s["room"],
                day=date(2026, 10, 28), instructors=[s["admin"]],
                learners=[s["student2"]], now=s["now"])
    db.session.commit()

    def titles(user):
        return set(events_by_title(parse(ics.feed_for_user(db.session, user, s["now"]))))

    assert titles(s["student"]) == {"Cardiac arrest on the ward"}
    assert titles(s["student2"]) == {"Handover omission"}
    assert titles(s["instructor"]) == {"Cardiac arrest on the ward"}
    assert titles(s["admin"]) == {"Handover omission"}
    assert titles(s["peer"]) == set()
    assert mine.participants[0].attendance is Attendance.EXPECTED


def test_feeds_reach_back_ninety_days(setup, people):
    s = setup
    today = date(2026, 10, 20)
    for days_ago, title in ((100, "Too old"), (80, "Recent enough"), (-30, "Next month")):
        add_session(centre_id=people.centre_id,
                    version=add_version(title=title, now=s["now"]), room=s["room"],
                    day=today - timedelta(days=days_ago), instructors=[s["instructor"]],
                    learners=[s["student"]], now=s["now"])
    db.session.commit()

    for body in (ics.feed_for_user(db.session, s["student"], s["now"]),
                 ics.feed_for_room(db.session, s["room"], s["now"])):
        assert set(events_by_title(parse(body))) == {"Recent enough", "Next month"}


def count_queries(callback) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        callback()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_query_count_does_not_grow_with_the_number_of_sessions(setup, people):
    s = setup
    # Held for the whole test: the session's identity map holds objects weakly, and whether
    # the centre was still there (or collected, to be read again) changed the counts.
    centre = db.session.get(Centre, people.centre_id)

    def add(count: int, offset: int):
        for i in range(count):
            add_session(centre_id=people.centre_id,
                        version=add_version(title=f"Scenario {offset + i}", now=s["now"]),
                        room=s["room"], day=date(2026, 10, 21) + timedelta(days=offset + i),
                        instructors=[s["instructor"]], learners=[s["student"], s["student2"]],
                        now=s["now"])
        db.session.commit()
        db.session.expire_all()

    add(1, 0)
    student = db.session.get(User, s["student"].id)
    one_user = count_queries(lambda: ics.feed_for_user(db.session, student, s["now"]))
    one_room = count_queries(lambda: ics.feed_for_room(db.session, s["room"], s["now"]))
    add(6, 1)
    student = db.session.get(User, s["student"].id)
    many_user = count_queries(lambda: ics.feed_for_user(db.session, student, s["now"]))
    many_room = count_queries(lambda: ics.feed_for_room(db.session, s["room"], s["now"]))
    assert len(parse(ics.feed_for_user(db.session, student, s["now"])).events) == 7
    assert many_user == one_user
    assert many_room == one_room
    assert centre.id == people.centre_id


def test_further_event_sources_can_be_added_to_a_personal_feed(setup, people):
    s = setup
    add_session(centre_id=people.centre_id, version=s["version"], room=s["room"],
                day=date(2026, 10, 27), instructors=[s["instructor"]],
                learners=[s["student"]], now=s["now"])
    db.session.commit()

    def follow_ups(_session, user, now):
        return [Event.new(uid=f"follow-up-{user.id}@simdebrief", stamp=now,
                          start=datetime(2026, 11, 3, 9, tzinfo=UTC),
                          end=datetime(2026, 11, 3, 9, 15, tzinfo=UTC),
                          summary="Follow-up")]

    body = ics.feed_for_user(db.session, s["student"], s["now"],
                             sources=[*ics.USER_FEED_SOURCES, follow_ups])
    assert set(events_by_title(parse(body))) == {"Cardiac arrest on the ward", "Follow-up"}


def test_a_centre_elsewhere_gets_its_own_zone(setup, people):
    s = setup
    centre = db.session.get(Centre, people.other_centre_id)
    centre.timezone = "America/New_York"
    room = add_room(centre.id, name="Lab A")
    starts_at = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York (EST)
    sim_session = SimSession(centre_id=centre.id, scenario_version=s["version"], room=room,
                             starts_at=starts_at, ends_at=starts_at + timedelta(hours=1),
                             created_at=s["now"], updated_at=s["now"])
    db.session.add(sim_session)
    db.session.commit()

    calendar = parse(ics.single_session_ics(sim_session, s["now"], "staff"))
    entry = calendar.events[0]
    assert entry["DTSTART"].params["TZID"] == "America/New_York"
    assert (entry.start.hour, entry.start.minute) == (9, 0)
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["America/New_York"]
