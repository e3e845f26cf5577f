"""Scheduling, changing, cancelling and running sessions, with conflicts and notifications."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import relay_outbox, send_session_reminders
from simdebrief.models import Attendance, OutboxEmail, SessionStatus, SimSession
from tests.conftest import both_databases, client_for

SCENARIO = "penicillin-allergy-anaphylaxis"


def form_data(people, planning, **overrides):
    data = {
        "scenario_version_id": planning.versions[SCENARIO],
        "day": "2026-10-22",
        "start_time": "09:00",
        "end_time": "12:00",
        "room_id": planning.room_id,
        "instructor_ids": [people.ids["instructor"]],
        "cohort_ids": [planning.cohort_id],
        "student_ids": [],
        "note": "Bring the allergy wristbands.",
    }
    data.update(overrides)
    return data


def schedule(client, people, planning, **overrides):
    return client.post("/sessions/new", data=form_data(people, planning, **overrides))


def session_id_from(response) -> int:
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def outbox(app):
    with app.app_context():
        return [(e.to_address, e.subject) for e in
                db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))]


@both_databases
def test_instructor_schedules_a_cohort_and_participants_are_told(
    app, people, planning, instructor_client
):
    response = schedule(instructor_client, people, planning)
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    page = instructor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thu 22 Oct 2026, 09:00–12:00" in page  # Copenhagen time, stored as UTC
    assert "Sara Student" in page and "Søren Andersen" in page
    with app.app_context():
        sim_session = db.session.scalar(select(SimSession))
        assert sim_session.starts_at == datetime(2026, 10, 22, 7, 0, tzinfo=UTC)
        assert {p.cohort_id for p in sim_session.participants} == {planning.cohort_id}
    notified = outbox(app)
    assert sorted(to for to, _s in notified) == ["student2@example.org", "student@example.org"]
    assert all("invited to a simulation session" in subject for _t, subject in notified)


def test_a_room_booked_twice_is_refused_naming_the_other_session(
    app, people, planning, instructor_client, admin_client
):
    schedule(instructor_client, people, planning)
    clash = schedule(admin_client, people, planning, start_time="11:00", end_time="13:00",
                     instructor_ids=[people.ids["admin"]], cohort_ids=[])
    text = clash.get_data(as_text=True)
    assert clash.status_code == 400
    assert "Sim room 1 is already booked for" in text
    assert "penicillin allergy" in text and "09:00–12:00" in text
    # What was typed is kept.
    assert "Bring the allergy wristbands." in text
    assert 'value="11:00"' in text


def test_instructor_and_participant_overlaps_are_refused(
    app, people, planning, instructor_client, admin_client
):
    from simdebrief.models import Centre
    from simdebrief.services import directory

    with app.app_context():
        directory.create_room(db.session, centre=db.session.get(Centre, people.centre_id),
                              name="Sim room 2", capacity=8)
        db.session.commit()
    schedule(instructor_client, people, planning)
    rooms = instructor_client.get("/sessions/new").get_data(as_text=True)
    assert "Sim room 2" in rooms
    with app.app_context():
        from simdebrief.models import Room

        other_room = db.session.scalar(select(Room.id).where(Room.name == "Sim room 2"))
    clash = schedule(admin_client, people, planning, room_id=other_room, start_time="10:00",
                     end_time="11:00")
    text = clash.get_data(as_text=True)
    assert clash.status_code == 400
    assert "Ivan Instructor already teaches" in text
    assert "Sara Student takes part in" in text


def test_more_participants_than_the_room_holds_is_refused(app, people, planning,
                                                          instructor_client):
    response = schedule(instructor_client, people, planning, room_id=planning.small_room_id)
    assert response.status_code == 400
    assert "Skills lab holds 1 people, but 2 participants are planned." in \
        response.get_data(as_text=True)


def test_more_learners_than_roles_is_a_warning_the_instructor_may_override(
    app, people, planning, instructor_client
):
    from simdebrief.models import Centre, Role
    from simdebrief.services import accounts

    with app.app_context():
        from simdebrief.models import ScenarioVersion

        places = db.session.get(ScenarioVersion, planning.versions[SCENARIO]).role_places
        centre = db.session.get(Centre, people.centre_id)
        extra = [accounts.create_user(
            db.session, centre=centre, now=datetime(2026, 10, 1, tzinfo=UTC),
            data=accounts.NewUser(f"x{n}@example.org", f"Extra {n}", Role.STUDENT)).id
            for n in range(places - 1)]
        db.session.commit()
    crowd = extra + [people.ids["student"], people.ids["student2"]]
    assert len(crowd) == places + 1
    first = schedule(instructor_client, people, planning, cohort_ids=[], student_ids=crowd,
                     room_id=planning.room_id)
    assert first.status_code == 400
    assert f"roles for {places} learners, but {places + 1} are planned" in \
        first.get_data(as_text=True)
    confirmed = schedule(instructor_client, people, planning, cohort_ids=[],
                         student_ids=crowd, confirm_warnings="y")
    assert confirmed.status_code in (302, 303)


def test_missing_fields_are_named_next_to_the_field(app, people, planning, instructor_client):
    response = schedule(instructor_client, people, planning, room_id="0", day="",
                        note="Keep this note")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a room." in text and "Enter the date" in text
    assert "Keep this note" in text


def test_a_start_in_the_past_is_refused(app, people, planning, instructor_client):
    response = schedule(instructor_client, people, planning, day="2026-10-19")
    assert response.status_code == 400
    assert "The start time has already passed." in response.get_data(as_text=True)


def test_daylight_saving_week_after_october_change_keeps_nine_oclock(
    app, people, planning, instructor_client
):
    before = schedule(instructor_client, people, planning, day="2026-10-23")
    after = schedule(instructor_client, people, planning, day="2026-10-30")
    with app.app_context():
        first = db.session.get(SimSession, session_id_from(before))
        second = db.session.get(SimSession, session_id_from(after))
        assert first.starts_at.hour == 7 and second.starts_at.hour == 8  # UTC
    page = instructor_client.get(f"/sessions/{session_id_from(after)}").get_data(as_text=True)
    assert "Fri 30 Oct 2026, 09:00–12:00" in page


def test_a_time_skipped_by_the_spring_change_is_explained(app, people, planning,
                                                          instructor_client):
    response = schedule(instructor_client, people, planning, day="2027-03-28",
                        start_time="02:30", end_time="04:00")
    assert response.status_code == 400
    assert "This time does not exist on that day" in response.get_data(as_text=True)


def test_rescheduling_tells_everyone_and_removing_tells_the_removed(
    app, people, planning, instructor_client
):
    session_id = session_id_from(schedule(instructor_client, people, planning))
    changed = instructor_client.post(f"/sessions/{session_id}/edit", data=form_data(
        people, planning, start_time="10:00", end_time="13:00", cohort_ids=[],
        student_ids=[people.ids["student"]]))
    assert changed.status_code in (302, 303), changed.get_data(as_text=True)
    subjects = outbox(app)[2:]
    assert ("student@example.org", "Your simulation session has changed") in subjects
    assert ("student2@example.org", "You are no longer in a simulation session") in subjects
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        assert sim_session.sequence == 1
        assert [p.user_id for p in sim_session.participants] == [people.ids["student"]]


def test_cancelling_notifies_and_locks_the_session(app, people, planning, instructor_client):
    session_id = session_id_from(schedule(instructor_client, people, planning))
    empty = instructor_client.post(f"/sessions/{session_id}/cancel", data={"reason": ""})
    assert empty.status_code == 400
    instructor_client.post(f"/sessions/{session_id}/cancel",
                           data={"reason": "The manikin is being repaired."})
    assert ("student@example.org", "Your simulation session is cancelled") in outbox(app)
    with app.app_context():
        body = db.session.scalar(select(OutboxEmail.body_text).where(
            OutboxEmail.subject == "Your simulation session is cancelled").limit(1))
        assert "The manikin is being repaired." in body
        assert db.session.get(SimSession, session_id).status is SessionStatus.CANCELLED
    edit = instructor_client.get(f"/sessions/{session_id}/edit")
    assert edit.status_code in (302, 303)


def test_starting_records_attendance_and_opens_the_debrief(app, people, planning, clock,
                                                          instructor_client):
    session_id = session_id_from(schedule(instructor_client, people, planning))
    too_early = instructor_client.post(f"/sessions/{session_id}/attendance",
                                       data={"present_ids": [people.ids["student"]]})
    assert too_early.status_code == 400
    assert "at most two hours before" in too_early.get_data(as_text=True)

    clock.set(datetime(2026, 10, 22, 6, 45, tzinfo=UTC))
    instructor_client = client_for(app, people, "instructor")  # two days later: log in again
    started = instructor_client.post(f"/sessions/{session_id}/attendance",
                                     data={"present_ids": [people.ids["student"]]})
    assert started.status_code in (302, 303)
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        attendance = {p.user_id: p.attendance for p in sim_session.participants}
        assert sim_session.status is SessionStatus.IN_PROGRESS
    assert attendance == {people.ids["student"]: Attendance.PRESENT,
                          people.ids["student2"]: Attendance.ABSENT}
    page = instructor_client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert f"/sessions/{session_id}/debrief" in page


def test_learner_sees_their_session_without_instructor_material(
    app, people, planning, instructor_client
):
    session_id = session_id_from(schedule(instructor_client, people, planning, cohort_ids=[],
                                          student_ids=[people.ids["student"]]))
    participant = client_for(app, people, "student")
    page = participant.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Your simulation session" in page
    assert "pause or stop them at any time" in page
    assert "penicillin" not in page.lower() and "confederate" not in page.lower()

    outsider = client_for(app, people, "student2")
    assert outsider.get(f"/sessions/{session_id}").status_code == 404
    assert outsider.get(f"/sessions/{session_id}.ics").status_code == 404
    assert client_for(app, people, "other_student").get(
        f"/sessions/{session_id}").status_code == 404
    assert client_for(app, people, "other_admin").get(
        f"/sessions/{session_id}").status_code == 404
    assert client_for(app, people, "peer").get(f"/sessions/{session_id}").status_code == 404


def test_only_the_sessions_instructors_and_admins_may_change_it(
    app, people, planning, instructor_client
):
    from simdebrief.models import Role
    from simdebrief.services import accounts

    with app.app_context():
        from simdebrief.models import Centre

        accounts.create_user(db.session, centre=db.session.get(Centre, people.centre_id),
                             now=datetime(2026, 10, 1, tzinfo=UTC),
                             password="correct horse battery staple",
                             data=accounts.NewUser("colleague@example.org", "Carl Colleague",
                                                   Role.INSTRUCTOR))
        db.session.commit()
    session_id = session_id_from(schedule(instructor_client, people, planning))
    colleague = app.test_client()
    colleague.post("/login", data={"email": "colleague@example.org",
                                   "password": "correct horse battery staple"})
    assert colleague.get(f"/sessions/{session_id}").status_code == 200
    assert colleague.get(f"/sessions/{session_id}/edit").status_code == 403
    assert colleague.post(f"/sessions/{session_id}/cancel",
                          data={"reason": "x"}).status_code == 403
    assert client_for(app, people, "admin").get(
        f"/sessions/{session_id}/edit").status_code == 200


@pytest.fixture
def smtp_planning(smtp_app, clock):
    from tests.conftest import Planning, seed_people, sync_shipped_library

    people = seed_people(smtp_app, clock.now())
    versions = sync_shipped_library(smtp_app, clock.now())
    from simdebrief.models import Centre, User
    from simdebrief.services import directory

    with smtp_app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        room = directory.create_room(db.session, centre=centre, name="Sim room 1", capacity=8)
        cohort = directory.create_cohort(db.session, centre=centre, name="Master year 1")
        directory.add_student(cohort, db.session.get(User, people.ids["student"]))
        db.session.commit()
        return people, Planning(versions, room.id, room.id, cohort.id)


def test_reminder_is_sent_once_through_smtp_and_again_after_a_reschedule(
    smtp_app, smtp_server, clock, smtp_planning
):
    people, planning = smtp_planning
    instructor = client_for(smtp_app, people, "instructor")
    session_id = session_id_from(schedule(instructor, people, planning))  # 22 Oct 09:00 local
    relay_outbox(smtp_app, now=clock.now())
    assert len(smtp_server.wait_for(1)) == 1  # the invitation

    assert send_session_reminders(smtp_app, now=clock.now()) == 0  # 48 h before
    clock.set(datetime(2026, 10, 21, 7, 30, tzinfo=UTC))  # 23.5 h before
    assert send_session_reminders(smtp_app, now=clock.now()) == 1
    assert send_session_reminders(smtp_app, now=clock.now()) == 0
    relay_outbox(smtp_app, now=clock.now())
    messages = smtp_server.wait_for(2)
    reminder = messages[1]
    assert reminder["Subject"] == "Reminder: your simulation session on Thursday 22 October"
    body = reminder.get_payload(decode=True).decode()
    assert "pre-brief" in body and "debrief" in body
    assert "pause or stop them at any time" in body
    assert "Peer supporters: ask at the front desk." in body

    instructor = client_for(smtp_app, people, "instructor")  # a day later: log in again
    instructor.post(f"/sessions/{session_id}/edit", data=form_data(
        people, planning, start_time="13:00", end_time="15:00"))
    assert send_session_reminders(smtp_app, now=clock.now()) == 0  # new start is 27.5 h away
    clock.set(datetime(2026, 10, 21, 11, 30, tzinfo=UTC))
    assert send_session_reminders(smtp_app, now=clock.now()) == 1
    relay_outbox(smtp_app, now=clock.now())
    assert len(smtp_server.wait_for(4)) == 4  # changed notice + new reminder
