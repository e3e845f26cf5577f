"""Each role's start page lists its to-dos, each linking to where it is done, and says so
plainly when there is nothing to do; the page asks the database a fixed number of questions."""

from datetime import timedelta

from sqlalchemy import insert

from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    Centre,
    Debrief,
    DebriefStatus,
    OutboxStatus,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
    session_instructor,
)
from simdebrief.services import notifications, support
from tests.conftest import both_databases, client_for
from tests.web.test_debriefs import notes, running_session, started
from tests.web.test_page_queries import counted_queries

TITLE = "Antibiotic given despite a recorded penicillin allergy"


def write_feedback(client, session_id, learner_id, text="Clear closed-loop orders."):
    response = client.post(f"/sessions/{session_id}/debrief/feedback/{learner_id}", data={
        "strengths": text, "to_improve": "Say the allergy check aloud.",
        "learning_goals": "Lead an allergy check."})
    assert response.status_code in (302, 303)


@both_databases
def test_an_instructor_sees_drafts_and_learners_without_feedback_until_done(
        app, people, planning, clock):
    instructor = client_for(app, people, "instructor")
    empty = instructor.get("/dashboard").get_data(as_text=True)
    assert "No debrief of yours is waiting to be finalised." in empty
    assert "Every learner in your open debriefs has feedback." in empty

    session_id = running_session(app, people, planning, clock)
    page = instructor.get("/dashboard").get_data(as_text=True)
    assert "debrief not started" in page
    assert f'href="/sessions/{session_id}/debrief"' in page

    started(instructor, session_id)
    write_feedback(instructor, session_id, people.ids["student"])
    page = instructor.get("/dashboard").get_data(as_text=True)
    assert "draft, last saved" in page
    assert f'href="/sessions/{session_id}/debrief/feedback"' in page
    student2 = people.ids["student2"]
    assert (f'href="/sessions/{session_id}/debrief/feedback/{student2}"' in page
            and "Write feedback to Søren Andersen" in page)
    assert "Write feedback to Sara Student" not in page  # she has hers

    write_feedback(instructor, session_id, student2)
    page = instructor.get("/dashboard").get_data(as_text=True)
    assert "Every learner in your open debriefs has feedback." in page
    assert "draft, last saved" in page

    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    assert instructor.post(f"/sessions/{session_id}/debrief/finalise").status_code in (302, 303)
    done = instructor.get("/dashboard").get_data(as_text=True)
    assert "No debrief of yours is waiting to be finalised." in done
    assert f'href="/sessions/{session_id}/debrief"' not in done


def test_another_instructors_draft_is_not_on_my_dashboard(app, people, planning, clock):
    running_session(app, people, planning, clock)
    admin = client_for(app, people, "admin").get("/dashboard").get_data(as_text=True)
    assert "No debrief of yours is waiting to be finalised." in admin


@both_databases
def test_the_admin_sees_undelivered_emails_waiting_requests_and_todays_sessions(
        app, people, planning, clock):
    admin = client_for(app, people, "admin")
    empty = admin.get("/dashboard").get_data(as_text=True)
    assert "Every email has been sent or is on its way." in empty
    assert "No request to talk is waiting." in empty
    assert "No sessions today." in empty

    session_id = running_session(app, people, planning, clock)
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        for key, status in (("a", OutboxStatus.FAILED), ("b", OutboxStatus.FAILED),
                            ("c", OutboxStatus.REJECTED), ("d", OutboxStatus.SENT)):
            email = notifications.enqueue_email(
                db.session, key=f"dash:{key}", to="x@example.org", subject="Hello",
                body="Hi", now=clock.now(), mail_from="a@example.org", centre_id=centre.id)
            email.status = status
        learner = db.session.get(User, people.ids["student"])
        support.create_request(db.session, learner=learner, tier="peer", now=clock.now(),
                               message="I keep thinking about the rash.")
        db.session.commit()
    page = admin.get("/dashboard").get_data(as_text=True)
    assert "2 emails could not be sent after every retry" in page
    assert 'href="/admin/outbox?status=failed"' in page
    assert "1 email was refused by the mail server (undeliverable)" in page
    assert 'href="/admin/outbox?status=rejected"' in page
    assert "1 request is waiting for a supporter." in page
    assert "waited longer than your response target" not in page
    assert "I keep thinking about the rash." not in page
    assert f'href="/sessions/{session_id}"' in page and TITLE in page

    clock.advance(hours=49)  # past the peer target of 48 hours; the session was yesterday
    later = client_for(app, people, "admin").get("/dashboard").get_data(as_text=True)
    assert "1 of them has waited longer than your response target." in later
    assert "No sessions today." in later
    assert "I keep thinking about the rash." not in later


def test_supporters_see_the_waiting_requests_of_their_tier(app, people, clock):
    peer = client_for(app, people, "peer")
    assert "No request is waiting to be taken right now." in peer.get(
        "/dashboard").get_data(as_text=True)
    with app.app_context():
        learner = db.session.get(User, people.ids["student"])
        support.create_request(db.session, learner=learner, tier="peer", now=clock.now())
        db.session.commit()
    page = peer.get("/dashboard").get_data(as_text=True)
    assert "1 request is waiting to be taken." in page and 'href="/support/"' in page


def add_drafts(app, people, planning, clock, count: int, first: int = 0) -> None:
    """``count`` running sessions of the instructor, days ago (out of the tier-1 window),
    each with a draft and two learners without feedback, inserted in bulk."""
    now = clock.now()
    with app.app_context():
        rows = [{"centre_id": people.centre_id,
                 "scenario_version_id": planning.versions["ward-handover-omission"],
                 "room_id": planning.room_id, "starts_at": now - timedelta(days=first + n + 2),
                 "ends_at": now - timedelta(days=first + n + 2) + timedelta(hours=2),
                 "status": SessionStatus.IN_PROGRESS, "created_at": now, "updated_at": now}
                for n in range(count)]
        ids = list(db.session.scalars(insert(SimSession).returning(SimSession.id), rows))
        db.session.execute(insert(session_instructor), [
            {"session_id": i, "user_id": people.ids["instructor"]} for i in ids])
        db.session.execute(insert(SessionParticipant), [
            {"session_id": i, "user_id": people.ids[key], "attendance": Attendance.PRESENT}
            for i in ids for key in ("student", "student2")])
        db.session.execute(insert(Debrief), [
            {"session_id": i, "framework": "PEARLS", "status": DebriefStatus.DRAFT,
             "created_at": now, "updated_at": now, "prebrief": {}, "phase_notes": {},
             "framing": {}, "triggers": [], "take_home_messages": "", "version": 1,
             "role_model_story_shared": False}
            for i in ids])
        db.session.commit()


def dashboard_queries(app, client) -> tuple[int, str]:
    with counted_queries(app) as statements:
        response = client.get("/dashboard")
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


@both_databases
def test_the_dashboards_ask_as_many_questions_at_40_drafts_as_at_3(app, people, planning,
                                                                    clock):
    clients = {key: client_for(app, people, key) for key in ("instructor", "admin")}
    add_drafts(app, people, planning, clock, 3)
    for client in clients.values():
        client.get("/dashboard")  # the first view after login may record the session's use
    small = {key: dashboard_queries(app, c)[0] for key, c in clients.items()}
    add_drafts(app, people, planning, clock, 37, first=3)
    large = {}
    for key, client in clients.items():
        large[key], page = dashboard_queries(app, client)
        if key == "instructor":
            assert page.count("Write feedback to Søren Andersen") == 10  # capped list
    assert large == small
