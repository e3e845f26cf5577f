"""The centre's week and month, a learner's own sessions, and the calendar feeds."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from icalendar import Calendar
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    AuditEvent,
    Cohort,
    Room,
    SessionStatus,
    SimSession,
    User,
)
from tests.conftest import client_for
from tests.unit.test_calendar_ics import (
    CONFEDERATE_SCRIPT,
    INSTRUCTOR_NOTE,
    add_room,
    add_session,
    add_version,
)

FEED_URL = re.compile(r"https://sim\.example\.org(/calendar/(?:feed|room)/[^\"<\s]+\.ics)")


@pytest.fixture
def plan(app, people, clock):
    """Sessions around the daylight-saving change of 25 October 2026 (clock: 20 October).

    Sara (cohort A) takes part in "Summer-time arrest" (19 Oct, past) and "Winter-time
    handover" (2 Nov); Søren (cohort B) is in neither but in "Cohort B allergy" (21 Oct),
    which is cancelled later in some tests.
    """
    now = clock.now()
    with app.app_context():
        users = {key: db.session.get(User, user_id) for key, user_id in people.ids.items()}
        cohort_a = Cohort(centre_id=people.centre_id, name="Cohort A", students=[users["student"]])
        cohort_b = Cohort(centre_id=people.centre_id, name="Cohort B",
                          students=[users["student2"]])
        db.session.add_all([cohort_a, cohort_b])
        db.session.flush()
        room = add_room(people.centre_id, name="Sim room 1", location="Building 5")
        other_room = add_room(people.other_centre_id, name="Elsewhere room")
        ids = {"room": room.id, "other_room": other_room.id}
        for key, title, day, learners, cohort in (
            ("summer", "Summer-time arrest", date(2026, 10, 19), ["student"], cohort_a),
            ("winter", "Winter-time handover", date(2026, 11, 2), ["student"], cohort_a),
            ("allergy", "Cohort B allergy", date(2026, 10, 21), ["student2"], cohort_b),
        ):
            sim_session = add_session(
                centre_id=people.centre_id, version=add_version(title=title, now=now),
                room=room, day=day, at=time(9), instructors=[users["instructor"]],
                learners=[users[k] for k in learners], now=now, note=INSTRUCTOR_NOTE,
                cohort_id=cohort.id)
            ids[key] = sim_session.id
        db.session.commit()
    return ids


def text_of(response) -> str:
    return response.get_data(as_text=True)


def feed_path(page: str, kind: str = "feed") -> str:
    paths = [p for p in FEED_URL.findall(page) if f"/calendar/{kind}/" in p]
    assert paths, f"no {kind} address on the page"
    return paths[0]


def section_for(page: str, day_id: str) -> str:
    """The HTML of one day's section in the week view."""
    start = page.index(f'id="day-{day_id}"')
    end = page.find("<section", start)
    return page[start:end if end != -1 else len(page)]


# --- week and month ------------------------------------------------------------------------


def test_week_shows_this_week_by_default_grouped_by_local_day(instructor_client, plan):
    page = text_of(instructor_client.get("/calendar/week"))
    assert "Week of 19 October 2026" in page
    monday = section_for(page, "2026-10-19")
    assert "Summer-time arrest" in monday and "09:00" in monday and "11:00" in monday
    assert "Sim room 1" in monday and "1 participant" in monday and "Scheduled" in monday
    assert f'href="/sessions/{plan["summer"]}"' in monday
    wednesday = section_for(page, "2026-10-21")
    assert "Cohort B allergy" in wednesday
    assert "Winter-time handover" not in page
    assert 'aria-current="date"' in section_for(page, "2026-10-20")
    assert "?start=2026-10-26" in page and "?start=2026-10-12" in page


def test_week_after_the_clock_change_still_shows_nine_oclock(admin_client, plan):
    page = text_of(admin_client.get("/calendar/week?start=2026-11-04"))
    assert "Week of 2 November 2026" in page
    monday = section_for(page, "2026-11-02")
    assert "Winter-time handover" in monday
    assert ">09:00</time>" in monday and ">11:00</time>" in monday
    assert 'datetime="2026-11-02T09:00+01:00"' in monday
    assert "Summer-time arrest" not in page
    before = text_of(admin_client.get("/calendar/week?start=2026-10-19"))
    assert 'datetime="2026-10-19T09:00+02:00"' in before and ">09:00</time>" in before


def test_cancelled_sessions_say_so_in_the_week(app, instructor_client, plan):
    with app.app_context():
        db.session.get(SimSession, plan["allergy"]).status = SessionStatus.CANCELLED
        db.session.commit()
    wednesday = section_for(text_of(instructor_client.get("/calendar/week")), "2026-10-21")
    assert "Cohort B allergy" in wednesday and "Cancelled" in wednesday


@pytest.mark.parametrize("value", ["2026-13-45", "next week", "0000-01-01", "2026-1-5",
                                   "9999-12-31", "x" * 500])
def test_a_bad_week_start_shows_this_week_with_a_message(instructor_client, plan, value):
    response = instructor_client.get("/calendar/week", query_string={"start": value})
    assert response.status_code == 200
    page = text_of(response)
    assert "is not a date like 2026-10-19" in page
    assert "Week of 19 October 2026" in page and "Summer-time arrest" in page


def test_month_is_a_table_with_sessions_in_their_day_cells(instructor_client, plan):
    response = instructor_client.get("/calendar/month?month=2026-11")
    page = text_of(response)
    assert response.status_code == 200
    assert "<caption>November 2026</caption>" in page
    assert page.count('<th scope="col">') == 7
    assert 'title="Monday"' in page and 'title="Sunday"' in page
    cell = page[page.index('aria-label="Monday 2 November"'):]
    cell = cell[:cell.index("</td>")]
    assert "Winter-time handover" in cell and ">09:00</time>" in cell
    assert "Summer-time arrest" not in page
    assert "month=2026-10" in page and "month=2026-12" in page


def test_month_defaults_to_this_month_and_survives_bad_input(admin_client, plan):
    page = text_of(admin_client.get("/calendar/month"))
    assert "<caption>October 2026</caption>" in page
    assert "Summer-time arrest" in page and "Cohort B allergy" in page
    for value in ("2026-00", "2026-13", "October", "2026-10-01", "10000-01"):
        response = admin_client.get("/calendar/month", query_string={"month": value})
        assert response.status_code == 200, value
        assert "is not a month like 2026-10" in text_of(response)
        assert "<caption>October 2026</caption>" in text_of(response)


@pytest.mark.parametrize("key", ["student", "peer"])
def test_the_centre_calendar_is_for_staff_only(app, people, plan, key):
    client = client_for(app, people, key)
    for url in ("/calendar/week", "/calendar/month"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Summer-time arrest" not in text_of(response)


def test_another_centre_does_not_see_our_sessions(app, people, plan):
    other_admin = client_for(app, people, "other_admin")
    page = text_of(other_admin.get("/calendar/week?start=2026-10-19"))
    assert "Week of 19 October 2026" in page
    assert "Summer-time arrest" not in page and "Cohort B allergy" not in page


# --- the learner's own sessions --------------------------------------------------------------


def test_a_learner_sees_only_their_own_sessions_upcoming_first(app, people, student_client,
                                                              plan):
    with app.app_context():
        past = db.session.get(SimSession, plan["summer"])
        past.status = SessionStatus.DEBRIEFED
        past.participants[0].attendance = Attendance.PRESENT
        db.session.commit()
    page = text_of(student_client.get("/my/sessions"))
    # Sessions are named by their dates: no scenario title reaches a learner's list.
    assert "Winter-time handover" not in page and "Summer-time arrest" not in page
    assert "21 Oct 2026" not in page  # Cohort B's session
    upcoming, past_part = page.split("Past sessions")
    assert "19 Oct 2026" in past_part and "19 Oct 2026" not in upcoming
    assert "Mon 2 Nov 2026, 09:00" in upcoming and "Sim room 1, Building 5" in upcoming
    assert "Present" in past_part and "Debriefed" in past_part
    assert "pause or stop them at any time" in page
    assert INSTRUCTOR_NOTE not in page and CONFEDERATE_SCRIPT not in page
    assert "/calendar/feeds" in page and "webcal://sim.example.org/calendar/feed/" in page

    other = text_of(client_for(app, people, "student2").get("/my/sessions"))
    assert "21 Oct 2026" in other
    assert "2 Nov 2026" not in other and "19 Oct 2026" not in other


@pytest.mark.parametrize("key", ["admin", "instructor", "peer"])
def test_my_sessions_is_for_learners(app, people, key):
    assert client_for(app, people, key).get("/my/sessions").status_code == 403


# --- feeds ---------------------------------------------------------------------------------


def test_a_learners_feed_holds_their_sessions_only(app, people, student_client, client, plan):
    page = text_of(student_client.get("/calendar/feeds"))
    assert "How to subscribe" in page
    response = client.get(feed_path(page))  # a calendar app: no login
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    calendar = Calendar.from_ical(response.data)
    assert {str(e["SUMMARY"]) for e in calendar.events} == {"Summer-time arrest",
                                                          "Winter-time handover"}
    assert INSTRUCTOR_NOTE.encode() not in response.data
    assert CONFEDERATE_SCRIPT.encode() not in response.data

    other_page = text_of(client_for(app, people, "student2").get("/calendar/feeds"))
    other = Calendar.from_ical(client.get(feed_path(other_page)).data)
    assert {str(e["SUMMARY"]) for e in other.events} == {"Cohort B allergy"}


def test_an_instructors_feed_holds_the_sessions_they_teach(instructor_client, client, plan):
    page = text_of(instructor_client.get("/calendar/feeds"))
    assert "Room calendars" not in page
    body = client.get(feed_path(page)).data
    titles = {str(e["SUMMARY"]) for e in Calendar.from_ical(body).events}
    assert titles == {"Summer-time arrest", "Winter-time handover", "Cohort B allergy"}
    assert INSTRUCTOR_NOTE.encode() in body


def test_resetting_the_feed_address_retires_the_old_one(app, people, student_client, client,
                                                        plan):
    old = feed_path(text_of(student_client.get("/calendar/feeds")))
    assert client.get(old).status_code == 200
    response = student_client.post("/calendar/feeds/reset", follow_redirects=True)
    assert response.status_code == 200
    page = text_of(response)
    assert "the old one no longer works" in page
    new = feed_path(page)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "calendar.user_feed_reset"))
        assert event.actor_id == people.ids["student"]


def test_unknown_or_deactivated_feeds_are_not_found(app, people, student_client, client, plan):
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404
    assert client.get("/calendar/room/not-a-token.ics").status_code == 404
    path = feed_path(text_of(student_client.get("/calendar/feeds")))
    with app.app_context():
        db.session.get(User, people.ids["student"]).is_active_account = False
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 404
    assert b"Summer-time arrest" not in response.data


def test_room_feeds_for_admins_and_their_reset(app, people, admin_client, client, plan):
    page = text_of(admin_client.get("/calendar/feeds"))
    assert "Room calendars" in page and "Elsewhere room" not in page
    old = feed_path(page, "room")
    response = client.get(old)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert {str(e["SUMMARY"]) for e in Calendar.from_ical(response.data).events} == {
        "Summer-time arrest", "Winter-time handover", "Cohort B allergy"}
    for private in (b"Sara Student", INSTRUCTOR_NOTE.encode(), CONFEDERATE_SCRIPT.encode()):
        assert private not in response.data

    reset = admin_client.post(f"/calendar/feeds/rooms/{plan['room']}/reset",
                              follow_redirects=True)
    assert "The calendar address of Sim room 1 has been changed" in text_of(reset)
    assert client.get(old).status_code == 404
    assert client.get(feed_path(text_of(reset), "room")).status_code == 200


def test_room_feed_reset_is_for_admins_of_the_same_centre(app, people, plan):
    with app.app_context():
        before = db.session.get(Room, plan["room"]).calendar_token
    other_admin = client_for(app, people, "other_admin")
    assert other_admin.post(f"/calendar/feeds/rooms/{plan['room']}/reset").status_code == 404
    admin = client_for(app, people, "admin")
    assert admin.post(f"/calendar/feeds/rooms/{plan['other_room']}/reset").status_code == 404
    assert admin.post("/calendar/feeds/rooms/999999/reset").status_code == 404
    for key in ("instructor", "student"):
        response = client_for(app, people, key).post(
            f"/calendar/feeds/rooms/{plan['room']}/reset")
        assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Room.calendar_token)
                                 .where(Room.id == plan["room"])) == before


def test_anonymous_visitors_log_in_except_for_the_feeds(app, people, client, plan):
    for method, url in (("GET", "/calendar/week"), ("GET", "/calendar/month"),
                        ("GET", "/my/sessions"), ("GET", "/calendar/feeds"),
                        ("POST", "/calendar/feeds/reset"),
                        ("POST", f"/calendar/feeds/rooms/{plan['room']}/reset")):
        response = client.open(url, method=method)
        assert response.status_code in (302, 303), url
        assert "/login" in response.headers["Location"], url
    with app.app_context():
        token = db.session.get(User, people.ids["student"]).calendar_token
        room_token = db.session.get(Room, plan["room"]).calendar_token
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
    assert client.get(f"/calendar/room/{room_token}.ics").status_code == 200
