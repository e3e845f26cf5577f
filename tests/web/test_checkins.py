"""Emotional check-ins: private, optional, encrypted, and never alerting anyone.

A learner who was absent, or whose session has not started, gets 403 with an explanation:
the session is their own, so its existence is no secret. Someone else's check-in is a 404.
"""

import re
from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import func, select, text

from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    AuditEvent,
    Centre,
    CheckIn,
    OutboxEmail,
    Role,
    SessionParticipant,
    SessionStatus,
    SimSession,
    SupportRequest,
    User,
)
from simdebrief.services import accounts, checkins
from tests.conftest import PASSWORD, START, client_for

SCENARIO = "penicillin-allergy-anaphylaxis"


def make_session(app, people, planning, *, status=SessionStatus.IN_PROGRESS,
                 present=("student", "student2"), absent=(), extra_present=()):
    """A session of the seeded centre with the given attendance; returns its id."""
    with app.app_context():
        instructor = db.session.get(User, people.ids["instructor"])
        sim_session = SimSession(
            centre_id=people.centre_id, scenario_version_id=planning.versions[SCENARIO],
            room_id=planning.room_id, starts_at=START - timedelta(hours=2),
            ends_at=START + timedelta(hours=1), status=status, created_at=START,
            updated_at=START, instructors=[instructor])
        for key in present:
            sim_session.participants.append(
                SessionParticipant(user_id=people.ids[key], attendance=Attendance.PRESENT))
        for key in absent:
            sim_session.participants.append(
                SessionParticipant(user_id=people.ids[key], attendance=Attendance.ABSENT))
        for user_id in extra_present:
            sim_session.participants.append(
                SessionParticipant(user_id=user_id, attendance=Attendance.PRESENT))
        db.session.add(sim_session)
        db.session.commit()
        return sim_session.id


def add_students(app, people, clock, count: int) -> list[int]:
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        ids = []
        for number in range(count):
            user = accounts.create_user(
                db.session, centre=centre, now=clock.now(), password=PASSWORD,
                data=accounts.NewUser(f"extra{number}@example.org", f"Extra Student {number}",
                                      Role.STUDENT))
            ids.append(user.id)
        db.session.commit()
        return ids


def check_in(client, session_id, **data):
    return client.post(f"/me/sessions/{session_id}/check-in", data=data)


def checkin_id_from(response) -> int:
    return int(response.headers["Location"].split("/me/check-ins/")[1].split("?")[0])


def test_a_check_in_is_encrypted_at_rest_and_seen_by_the_learner_alone(
    app, people, planning, student_client
):
    session_id = make_session(app, people, planning)
    form = student_client.get(f"/me/sessions/{session_id}/check-in").get_data(as_text=True)
    assert "under two minutes" in form
    assert "Only you can see your answers." in form
    assert "at least 5 learners" in form
    # The crisis route changed this promise (issue 12): a self-harm cue may alert the
    # on-duty professional, and the form says so before the learner writes.
    assert "A supporter hears from you only if you send a request to talk" in form
    assert "Before you write" in form and "on-duty professional supporter" in form
    assert "do not name colleagues" in form
    assert "0" in form and "no distress" in form and "extreme" in form
    response = check_in(student_client, session_id, distress="7",
                        symptoms=["guilt", "sleep_problems"], coping=["network"],
                        free_text="I keep seeing the syringe in my head")
    assert response.status_code == 302, response.get_data(as_text=True)
    checkin_id = checkin_id_from(response)

    with app.app_context():
        raw = db.session.execute(text("SELECT payload FROM check_in")).scalar_one()
        assert raw.startswith("vtest:")
        for clear in ("syringe", "distress", "guilt", '"7"', ": 7", ":7"):
            assert clear not in raw
        stored = db.session.get(CheckIn, checkin_id)
        assert stored.distress == 7 and stored.symptoms == ["guilt", "sleep_problems"]
        assert stored.session_id == session_id and stored.context.value == "debrief"
        details = " ".join(db.session.scalars(select(AuditEvent.detail)))
        assert "syringe" not in details

    page = student_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you for checking in" in page
    assert "7 of 10" in page and "Guilt" in page and "I keep seeing the syringe" in page
    again = student_client.get(f"/me/sessions/{session_id}/check-in").get_data(as_text=True)
    assert "You last checked in for this session" in again
    listing = student_client.get("/me/check-ins").get_data(as_text=True)
    # Named by its date, not by the scenario (tests/web/test_neutral_names.py).
    assert "Simulation session of" in listing and "penicillin allergy" not in listing
    assert f"/me/check-ins/{checkin_id}" in listing

    other = client_for(app, people, "student2")
    assert other.get(f"/me/check-ins/{checkin_id}").status_code == 404
    assert "syringe" not in other.get("/me/check-ins").get_data(as_text=True)
    for key in ("instructor", "admin", "peer"):
        client = client_for(app, people, key)
        assert client.get(f"/me/check-ins/{checkin_id}").status_code == 403
        assert client.get("/me/check-ins").status_code == 403
        assert client.get(f"/me/sessions/{session_id}/check-in").status_code == 403
    # The instructor's view of the session does not show it either.
    instructor = client_for(app, people, "instructor")
    assert "syringe" not in instructor.get(f"/sessions/{session_id}").get_data(as_text=True)


def test_only_learners_who_were_there_can_check_in_once_the_session_started(
    app, people, planning, student_client
):
    absent_from = make_session(app, people, planning, present=("student2",),
                               absent=("student",))
    response = student_client.get(f"/me/sessions/{absent_from}/check-in")
    assert response.status_code == 403
    assert "learners who took part" in response.get_data(as_text=True)
    assert check_in(student_client, absent_from, distress="3").status_code == 403
    not_started = make_session(app, people, planning, status=SessionStatus.SCHEDULED)
    assert student_client.get(f"/me/sessions/{not_started}/check-in").status_code == 403
    debriefed = make_session(app, people, planning, status=SessionStatus.DEBRIEFED)
    assert student_client.get(f"/me/sessions/{debriefed}/check-in").status_code == 200
    # Not in the session at all, or another centre's learner: it does not exist for them.
    not_mine = make_session(app, people, planning, present=("student2",))
    assert student_client.get(f"/me/sessions/{not_mine}/check-in").status_code == 404
    elsewhere = client_for(app, people, "other_student")
    assert elsewhere.get(f"/me/sessions/{debriefed}/check-in").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckIn.id))) == 0


def test_the_session_page_invites_a_check_in_only_when_possible(
    app, people, planning, student_client
):
    session_id = make_session(app, people, planning, present=("student",),
                              absent=("student2",))
    page = student_client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "How are you doing? (under two minutes)" in page
    assert f"/me/sessions/{session_id}/check-in" in page
    assert f"/me/support/new?session={session_id}" in page
    absent = client_for(app, people, "student2").get(f"/sessions/{session_id}")
    text_ = absent.get_data(as_text=True)
    assert "How are you doing?" not in text_
    assert "Ask for a conversation" in text_


def test_skip_is_one_post_with_no_questions(app, people, planning, student_client):
    session_id = make_session(app, people, planning)
    response = check_in(student_client, session_id, skip="Skip for now", distress="99")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{session_id}")
    with app.app_context():
        row = db.session.scalar(select(CheckIn))
        assert row.skipped is True and row.payload is None
    listing = student_client.get("/me/check-ins").get_data(as_text=True)
    assert "Skipped" in listing


@pytest.mark.parametrize("data,offered", [
    ({"distress": "4"}, True),                              # the centre's threshold
    ({"distress": "3"}, False),
    ({"distress": "0", "support_wanted": ["talk_to_peer"]}, True),
    ({"support_wanted": ["none"], "distress": "2"}, False),
    ({}, False),                                            # nothing answered at all
])
def test_the_offer_is_prominent_at_the_threshold_and_alerts_nobody(
    app, people, planning, student_client, data, offered
):
    session_id = make_session(app, people, planning)
    response = check_in(student_client, session_id, **data)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = student_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("Would it help to talk to someone?" in page) is offered
    assert ("not a sign of weakness" in page) is offered
    assert ("never a burden" in page) is offered
    if offered:
        assert "Talk to a peer supporter" in page and "Talk to a professional" in page
        assert "tier=peer" in page and "tier=professional" in page
    # The resources are always there: the centre's contacts and the scenario's list.
    assert "Peer supporters: ask at the front desk." in page
    assert "The student counselling service" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0
        assert db.session.scalar(select(func.count(SupportRequest.id))) == 0


def test_bad_input_is_explained_next_to_the_field_and_kept(
    app, people, planning, student_client
):
    session_id = make_session(app, people, planning)
    response = check_in(student_client, session_id, distress="11", symptoms=["anxiety"],
                        free_text="Still a bit shaky")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="distress-error"' in page and "Choose a number from 0 to 10" in page
    assert "Still a bit shaky" in page
    assert re.search(r'value="anxiety"[^>]*checked', page)

    response = check_in(student_client, session_id, distress="6",
                        free_text="bad\x00byte")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="free_text-error"' in page and "character that is not allowed" in page
    assert 'value="6" checked' in page

    response = check_in(student_client, session_id,
                        support_wanted=["none", "talk_to_peer"])
    assert response.status_code == 400
    assert 'id="support_wanted-error"' in response.get_data(as_text=True)
    response = check_in(student_client, session_id, symptoms=["not_a_code"])
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckIn.id))) == 0


def test_group_figures_only_from_the_minimum_group_size(app, people, planning, clock):
    """Changed by the data-protection issue: figures come from each learner's debrief
    check-in once the debrief is finalised, with no range and small counts hidden."""
    extra = add_students(app, people, clock, 3)
    session_id = make_session(app, people, planning, extra_present=extra)
    learners = [people.ids["student"], people.ids["student2"], *extra]
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        users = [db.session.get(User, user_id) for user_id in learners]
        for user, distress, symptoms in zip(users[:4], (2, 5, 7, 9),
                                            (["guilt"], ["guilt", "anxiety"], [], None),
                                            strict=True):
            checkins.submit_checkin(
                db.session, user=user, sim_session=sim_session, now=clock.now(),
                answers=checkins.Answers(distress=distress, symptoms=tuple(symptoms or ())))
        checkins.skip_checkin(db.session, user=users[4], sim_session=sim_session,
                              now=clock.now())
        # A learner who answers twice during the debrief counts once, with the last answer.
        checkins.submit_checkin(db.session, user=users[0], sim_session=sim_session,
                                now=clock.now(), answers=checkins.Answers(distress=3))
        checkins.submit_checkin(db.session, user=users[4], sim_session=sim_session,
                                now=clock.now(),
                                answers=checkins.Answers(distress=4, symptoms=("guilt",)))
        db.session.commit()
        # While the check-in is open, nothing: each new answer would show in the figures.
        assert checkins.aggregate_for_session(db.session, sim_session) is None
        with app.test_request_context():
            html = render_template("checkins/_aggregate.html", sim_session=sim_session,
                                   aggregate=None, support_flags=set())
        assert "Group figures appear once the debrief is finalised" in html

        sim_session.status = SessionStatus.DEBRIEFED
        db.session.commit()
        aggregate = checkins.aggregate_for_session(db.session, sim_session)
        assert aggregate is not None
        assert aggregate.answered == 5 and aggregate.distress_median == 5
        assert not hasattr(aggregate, "distress_low") and not hasattr(aggregate, "distress_high")
        cells = dict(aggregate.symptom_cells)
        assert all(cell.value is None for cell in cells.values())  # 2 guilt, 1 anxiety, 0 …
        # A later check-in (here the learner's own, after the session) changes nothing.
        checkins.submit_checkin(db.session, user=users[1], sim_session=sim_session,
                                now=clock.now(), answers=checkins.Answers(
                                    distress=10, symptoms=("guilt", "shame")))
        db.session.commit()
        assert checkins.aggregate_for_session(db.session, sim_session) == aggregate
        with app.test_request_context():
            html = render_template("checkins/_aggregate.html", sim_session=sim_session,
                                   aggregate=aggregate,
                                   support_flags={people.ids["student2"]})
        assert "From the debrief check-ins of 5 learners" in html
        assert "Range" not in html and "3–9" not in html
        assert "Guilt" in html and "fewer than 5" in html
        assert "Søren Andersen" in html and "Sara Student" not in html


def test_distress_figures_need_enough_scores_too(app, people, planning, clock):
    extra = add_students(app, people, clock, 3)
    session_id = make_session(app, people, planning, extra_present=extra)
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        ids = [people.ids["student"], people.ids["student2"], *extra]
        sim_session.status = SessionStatus.IN_PROGRESS
        for number, user_id in enumerate(ids):
            answers = checkins.Answers(distress=8 if number == 0 else None,
                                       coping=("network",))
            checkins.submit_checkin(db.session, user=db.session.get(User, user_id),
                                    sim_session=sim_session, now=clock.now(), answers=answers)
        sim_session.status = SessionStatus.DEBRIEFED
        aggregate = checkins.aggregate_for_session(db.session, sim_session)
        assert aggregate.answered == 5 and aggregate.distress_median is None
