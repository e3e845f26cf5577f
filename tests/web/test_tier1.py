"""Tier 1 by the instructor: after a high-risk session the overview lists each learner who was
there with one tick, "checked in with them", for 24 hours; nothing of how they are is shown."""

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, SessionStatus, SimSession, Tier1Check
from tests.web.test_checkins import check_in, make_session


def high_risk_session(app, people, planning, monkeypatch):
    """A running session of a scenario in which the patient dies (risk flag: death)."""
    import tests.web.test_checkins as helpers

    monkeypatch.setattr(helpers, "SCENARIO", "ward-unexpected-cardiac-arrest")
    return make_session(app, people, planning, present=("student",), absent=("student2",))


def test_after_a_high_risk_session_the_instructor_ticks_each_learner_within_24_hours(
        app, people, planning, clock, instructor_client, student_client, monkeypatch):
    session_id = high_risk_session(app, people, planning, monkeypatch)
    check_in(student_client, session_id, distress="9", free_text="I keep seeing it")
    page = instructor_client.get("/dashboard").get_data(as_text=True)
    assert "Check in with your learners" in page
    assert "Sara Student" in page and "Søren Andersen" not in page  # only who was there
    assert "1 learner still to check in with" in page
    for private in ("I keep seeing it", "istress", "check-in"):
        assert private not in page.split("Check in with your learners")[1].split("</section>")[0]

    url = f"/sessions/{session_id}/checked-in/{people.ids['student']}"
    assert instructor_client.post(url).status_code == 302
    assert instructor_client.post(url).status_code == 302  # a second tick changes nothing
    page = instructor_client.get("/dashboard").get_data(as_text=True)
    assert "checked in with them (" in page and "0 learners still to check in with" in page
    with app.app_context():
        assert db.session.scalar(select(Tier1Check.learner_id)) == people.ids["student"]
        assert len(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "tier1_check.recorded")).all()) == 1
    # Someone absent cannot be ticked.
    absent = instructor_client.post(f"/sessions/{session_id}/checked-in/{people.ids['student2']}")
    assert absent.status_code == 302
    with app.app_context():
        assert len(db.session.scalars(select(Tier1Check)).all()) == 1

    clock.advance(hours=25)  # the session ended an hour after START: the day is over
    from tests.conftest import client_for

    later = client_for(app, people, "instructor").get("/dashboard").get_data(as_text=True)
    assert "Check in with your learners" not in later


def test_a_low_risk_session_asks_for_no_tick(app, people, planning, instructor_client):
    make_session(app, people, planning)  # penicillin scenario, no risk flags, no debrief
    assert "Check in with your learners" not in instructor_client.get("/dashboard").get_data(
        as_text=True)


def test_a_named_high_risk_trigger_is_enough(app, people, planning, clock, instructor_client):
    from simdebrief.models import User
    from simdebrief.services import debriefing

    session_id = make_session(app, people, planning)
    with app.app_context():
        debrief = debriefing.start_debrief(
            db.session, sim_session=db.session.get(SimSession, session_id),
            actor=db.session.get(User, people.ids["instructor"]), now=clock.now())
        debrief.triggers = ["paediatric_event"]
        db.session.commit()
    assert "Check in with your learners" in instructor_client.get("/dashboard").get_data(
        as_text=True)


def test_only_the_sessions_instructors_may_tick(app, people, planning, admin_client,
                                               monkeypatch):
    session_id = high_risk_session(app, people, planning, monkeypatch)
    with app.app_context():
        assert db.session.get(SimSession, session_id).status is SessionStatus.IN_PROGRESS
    url = f"/sessions/{session_id}/checked-in/{people.ids['student']}"
    assert admin_client.post(url).status_code == 403
    assert "Check in with your learners" not in admin_client.get("/dashboard").get_data(
        as_text=True)


def test_the_instructors_home_asks_as_much_with_three_high_risk_sessions_as_with_one(
        app, people, planning, clock, instructor_client, monkeypatch):
    """Each running session's debrief, ticks and learners come in one query for all of them:
    the home asks the same number of statements whatever the number of sessions."""
    from tests.web.test_page_queries import counted_queries

    def statements_for_home() -> tuple[str, list[str]]:
        with counted_queries(app) as statements:
            page = instructor_client.get("/dashboard").get_data(as_text=True)
        return page, [s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT",
                                                                 "RELEASE"))]

    first = high_risk_session(app, people, planning, monkeypatch)
    url = f"/sessions/{first}/checked-in/{people.ids['student']}"
    assert instructor_client.post(url).status_code == 302
    page, with_one = statements_for_home()
    assert page.count("still to check in with") == 1
    for _ in range(2):
        high_risk_session(app, people, planning, monkeypatch)
    page, with_three = statements_for_home()
    assert page.count("still to check in with") == 3
    assert page.count("checked in with them (") == 1  # the tick stays with its session
    assert len(with_three) == len(with_one), with_three
