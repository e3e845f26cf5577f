"""Issue 14: a learner's past sessions lead somewhere. From the dashboard a learner reaches
a past session's feedback in two clicks; the session page gathers the feedback, their own
check-in, the session's follow-ups with the pause control, and the DASH rating."""

import re

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, FollowUpPreference, PreferenceState
from tests.conftest import client_for
from tests.web.test_debriefs import running_session
from tests.web.test_reports import finalise_with_factors

FEEDBACK = "Calm closed-loop communication."


@pytest.fixture
def past(app, people, planning, clock):
    """A finalised debrief of a session that has ended."""
    session_id = running_session(app, people, planning, clock)
    finalise_with_factors(app, people, session_id)
    clock.advance(hours=5)
    return session_id


def links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)]


def test_a_learner_reaches_past_feedback_from_the_dashboard_in_two_clicks(app, people, past):
    learner = client_for(app, people, "student")
    dashboard = learner.get("/dashboard").get_data(as_text=True)
    assert "Your past sessions" in dashboard
    session_page = f"/sessions/{past}"
    assert session_page in links(dashboard)  # click 1
    page = learner.get(session_page).get_data(as_text=True)
    feedback_page = f"/sessions/{past}/feedback/{people.ids['student']}"
    assert feedback_page in links(page)  # click 2
    assert FEEDBACK in learner.get(feedback_page).get_data(as_text=True)


def test_the_new_feedback_card_stays_until_the_feedback_is_opened(app, people, past):
    learner = client_for(app, people, "student")
    feedback_page = f"/sessions/{past}/feedback/{people.ids['student']}"
    dashboard = learner.get("/dashboard").get_data(as_text=True)
    assert "New feedback for you" in dashboard and feedback_page in links(dashboard)
    assert "New feedback for you" in learner.get("/dashboard").get_data(as_text=True)
    learner.get(feedback_page)
    assert "New feedback for you" not in learner.get("/dashboard").get_data(as_text=True)
    # The other learner has not read theirs; an instructor opening it changes nothing.
    client_for(app, people, "instructor").get(
        f"/sessions/{past}/feedback/{people.ids['student2']}")
    other = client_for(app, people, "student2").get("/dashboard").get_data(as_text=True)
    assert "New feedback for you" in other
    with app.app_context():
        reads = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "feedback.read")))
    assert [(event.actor_id, event.object_id, event.detail) for event in reads] == [
        (people.ids["student"], str(past), "")]


def test_my_sessions_links_every_past_session(app, people, past):
    page = client_for(app, people, "student").get("/my/sessions")
    assert page.status_code == 200
    assert f"/sessions/{past}" in links(page.get_data(as_text=True))


def test_the_session_page_has_the_follow_ups_the_rating_and_the_pause_control(
        app, people, past):
    learner = client_for(app, people, "student")
    page = learner.get(f"/sessions/{past}").get_data(as_text=True)
    assert "Your follow-ups after this session" in page
    assert "One week on" in page and "The offer of a conversation" in page
    assert f"/sessions/{past}/debrief/rate" in links(page)
    assert "Pause all follow-ups" in page
    action = re.search(r'action="([^"]*/me/follow-ups/choice[^"]*)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"action": "pause"}
    if token:
        data["csrf_token"] = token.group(1)
    response = learner.post(action.replace("&amp;", "&"), data=data)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith(f"/sessions/{past}")
    with app.app_context():
        preference = db.session.get(FollowUpPreference, people.ids["student"])
        assert preference.state is PreferenceState.PAUSED
    assert "Turn follow-ups back on" in learner.get(f"/sessions/{past}").get_data(as_text=True)


def test_another_learners_feedback_stays_out_of_reach(app, people, past):
    learner = client_for(app, people, "student")
    assert learner.get(
        f"/sessions/{past}/feedback/{people.ids['student2']}").status_code == 404


def test_the_session_page_leads_to_the_learners_own_check_in_only(app, people, planning,
                                                                   clock):
    from tests.web.test_reports import check_in

    session_id = running_session(app, people, planning, clock)
    check_in(app, people, session_id)
    own = client_for(app, people, "student").get(f"/sessions/{session_id}").get_data(
        as_text=True)
    assert "Your check-in" in own and any("/me/check-ins/" in href for href in links(own))
    other = client_for(app, people, "student2").get(f"/sessions/{session_id}").get_data(
        as_text=True)
    assert not any("/me/check-ins/" in href for href in links(other))


def test_progress_and_follow_ups_name_each_session_neutrally(app, people, planning, clock):
    """Two sessions each have a "One month on": every list says which session it follows,
    by date, and never by the scenario's title."""
    from simdebrief.models import SimSession

    first = running_session(app, people, planning, clock)
    finalise_with_factors(app, people, first)
    clock.advance(days=2)
    second = another_session(app, people, planning, clock)
    finalise_with_factors(app, people, second)
    with app.app_context():
        titles = [db.session.get(SimSession, i).title for i in (first, second)]
    learner = client_for(app, people, "student")
    for url in ("/me/follow-ups", "/me/progress"):
        page = learner.get(url).get_data(as_text=True)
        assert page.count("Simulation session of") >= 2, url
        assert not any(title in page for title in titles), url
    timeline = learner.get("/me/follow-ups").get_data(as_text=True)
    assert timeline.count("One month on") == 2
    assert f"/sessions/{first}" in links(timeline) and f"/sessions/{second}" in links(timeline)


def another_session(app, people, planning, clock):
    """Like running_session, in a room of its own."""
    from datetime import timedelta

    from simdebrief.models import Centre, User
    from simdebrief.services import directory, scheduling
    from tests.web.test_debriefs import SCENARIO

    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        instructor = db.session.get(User, people.ids["instructor"])
        students = (people.ids["student"], people.ids["student2"])
        room = directory.create_room(db.session, centre=centre, name="Small room", capacity=8)
        change = scheduling.schedule_session(
            db.session, centre=centre, actor=instructor, now=clock.now(), confirmed=True,
            plan=scheduling.SessionPlan(
                scenario_version_id=planning.versions[SCENARIO],
                starts_at=clock.now() + timedelta(hours=1),
                ends_at=clock.now() + timedelta(hours=4), room_id=room.id,
                instructor_ids=(instructor.id,), student_ids=students))
        scheduling.start_session(db.session, sim_session=change.session, actor=instructor,
                                 present_ids=set(students), now=clock.now())
        db.session.commit()
        return change.session.id
