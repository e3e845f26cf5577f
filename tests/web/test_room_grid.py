"""A week grid per room shows booked and free hours in the centre's time zone; a clash with a
room booking suggests the nearest free room at that time and the nearest free time there."""

from datetime import UTC, datetime

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import Centre, Room, SimSession
from simdebrief.services import directory, room_slots
from tests.conftest import both_databases
from tests.web.test_sessions import form_data, schedule, session_id_from


def booked(instructor_client, people, planning, **overrides):
    response = schedule(instructor_client, people, planning, **overrides)
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    return session_id_from(response)


def test_the_room_week_shows_booked_and_free_hours(app, people, planning, instructor_client):
    session_id = booked(instructor_client, people, planning)  # Thu 22 Oct, 09:00–12:00
    url = f"/calendar/rooms?room={planning.room_id}&start=2026-10-22"
    page = instructor_client.get(url).get_data(as_text=True)
    assert "Sim room 1: week of 19 October 2026" in page
    assert page.count(f'href="/sessions/{session_id}"') == 3  # 09:00, 10:00 and 11:00
    assert "67 free hours this week" in page  # 7 days × 10 hours − 3
    # A free hour to come leads to a session form with its room and time filled in.
    book = (f'href="/sessions/new?room={planning.room_id}&amp;day=2026-10-22'
            '&amp;start=12:00&amp;end=13:00"')
    assert book in page
    # An hour already over (Monday morning; it is Tuesday 09:00 now) is not offered.
    assert "day=2026-10-19" not in page
    form = instructor_client.get(
        f"/sessions/new?room={planning.room_id}&day=2026-10-22&start=12:00&end=13:00"
    ).get_data(as_text=True)
    assert 'value="2026-10-22"' in form and 'value="12:00"' in form and 'value="13:00"' in form
    assert f'<option selected value="{planning.room_id}">' in form or \
        f'<option value="{planning.room_id}" selected>' in form

    # The other room is free all week; the next week is one click away.
    other = instructor_client.get(
        f"/calendar/rooms?room={planning.small_room_id}&start=2026-10-22").get_data(
        as_text=True)
    assert "70 free hours this week" in other and f"/sessions/{session_id}" not in other
    assert 'start=2026-10-26' in other


def test_the_grid_keeps_to_local_hours_across_the_clock_change(app, people, planning,
                                                              instructor_client):
    # Monday 26 October: Copenhagen is back on UTC+1, so 09:00 local is 08:00 UTC.
    session_id = booked(instructor_client, people, planning, day="2026-10-26",
                        start_time="09:00", end_time="10:00")
    with app.app_context():
        assert db.session.get(SimSession, session_id).starts_at == datetime(
            2026, 10, 26, 8, 0, tzinfo=UTC)
    page = instructor_client.get(
        f"/calendar/rooms?room={planning.room_id}&start=2026-10-26").get_data(as_text=True)
    row_09 = page.split("<th scope=\"row\">09:00</th>")[1].split("</tr>")[0]
    row_08 = page.split("<th scope=\"row\">08:00</th>")[1].split("</tr>")[0]
    assert f"/sessions/{session_id}" in row_09 and f"/sessions/{session_id}" not in row_08


def test_a_bad_week_or_room_falls_back_with_a_message(app, people, planning,
                                                     instructor_client, student_client):
    page = instructor_client.get("/calendar/rooms?room=999999&start=2026-13-40")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "is not a date like" in text and "not one of this centre" in text
    assert student_client.get("/calendar/rooms").status_code == 403


@both_databases
def test_a_room_clash_suggests_a_free_room_and_the_nearest_free_time(
        app, people, planning, instructor_client, admin_client):
    booked(instructor_client, people, planning)  # Sim room 1, Thu 22 Oct 09:00–12:00
    clash = schedule(admin_client, people, planning, start_time="11:00", end_time="13:00",
                     instructor_ids=[people.ids["admin"]], cohort_ids=[])
    assert clash.status_code == 400
    text = clash.get_data(as_text=True)
    room_errors = text.split('id="room_id-error"')[1].split("</p>")[0]
    assert "Sim room 1 is already booked for" in room_errors
    assert "Skills lab is free at that time." in room_errors
    assert "Sim room 1 is free nearest to that time on Thu 22 Oct 2026, 12:00–14:00." in \
        room_errors

    # Two learners do not fit the one-place skills lab: no room is suggested then.
    with_cohort = schedule(admin_client, people, planning, start_time="11:00",
                           end_time="13:00", instructor_ids=[people.ids["admin"]])
    cohort_errors = with_cohort.get_data(as_text=True).split(
        'id="room_id-error"')[1].split("</p>")[0]
    assert "No other room with enough places is free at that time." in cohort_errors
    assert "Skills lab" not in cohort_errors
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        directory.create_room(db.session, centre=centre, name="Debrief room", capacity=4)
        db.session.commit()
    again = schedule(admin_client, people, planning, start_time="11:00", end_time="13:00",
                     instructor_ids=[people.ids["admin"]], cohort_ids=[],
                     student_ids=[people.ids["student2"]]).get_data(as_text=True)
    assert "Skills lab is free at that time." in again  # one learner fits
    assert form_data(people, planning)["note"] in again  # what was typed is kept


def test_the_nearest_free_time_never_lies_in_the_past(app, people, planning, clock):
    """Booked 10:00–12:00; a wanted 10:00–11:00 is nearest free at 09:00, unless that has
    passed, when it is 12:00."""
    with app.app_context():
        room = db.session.get(Room, planning.room_id)
        db.session.add(SimSession(
            centre_id=people.centre_id, scenario_version_id=min(planning.versions.values()),
            room=room, starts_at=datetime(2026, 10, 22, 8, 0, tzinfo=UTC),
            ends_at=datetime(2026, 10, 22, 10, 0, tzinfo=UTC), created_at=clock.now(),
            updated_at=clock.now()))
        db.session.flush()
        wanted = dict(starts_at=datetime(2026, 10, 22, 8, 0, tzinfo=UTC),
                      ends_at=datetime(2026, 10, 22, 9, 0, tzinfo=UTC))
        early = room_slots.nearest_free_time(db.session, room=room, now=clock.now(), **wanted)
        assert early == datetime(2026, 10, 22, 7, 0, tzinfo=UTC)  # 09:00 local
        later = room_slots.nearest_free_time(
            db.session, room=room, now=datetime(2026, 10, 22, 7, 30, tzinfo=UTC), **wanted)
        assert later == datetime(2026, 10, 22, 10, 0, tzinfo=UTC)  # 12:00 local
        assert db.session.scalar(select(SimSession.id)) is not None
