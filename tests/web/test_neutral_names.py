"""Learners meet their sessions by date, never by the scenario's title (which can give away
what happens, and shows on a shared screen): the PDF cover, "My sessions" and the "feedback
ready" email."""

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import OutboxEmail
from tests.conftest import client_for
from tests.web.test_debriefs import running_session
from tests.web.test_reports import finalise_with_factors, pdf_text

TITLE = "Antibiotic given despite a recorded penicillin allergy"


@pytest.fixture
def finalised(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock)
    finalise_with_factors(app, people, session_id)
    return session_id


def test_the_learners_pdf_and_page_name_no_scenario(app, people, finalised):
    learner = client_for(app, people, "student")
    url = f"/sessions/{finalised}/feedback/{people.ids['student']}"
    text = pdf_text(learner.get(url + ".pdf"))
    assert TITLE not in text
    assert "Herlev Sim Centre" in text  # the cover is still there
    page = learner.get(url).get_data(as_text=True)
    assert TITLE not in page
    # The instructors' summary still names its scenario.
    summary = pdf_text(client_for(app, people, "instructor").get(
        f"/sessions/{finalised}/summary.pdf"))
    assert TITLE in summary


def test_my_sessions_names_no_scenario(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock)
    page = client_for(app, people, "student").get("/my/sessions").get_data(as_text=True)
    assert f"/sessions/{session_id}" in page
    assert TITLE not in page


def test_the_feedback_ready_email_names_the_session_by_its_date(app, people, finalised):
    with app.app_context():
        bodies = db.session.scalars(select(OutboxEmail.body_text).where(
            OutboxEmail.idempotency_key.like("feedback_ready:%"))).all()
    assert len(bodies) == 2
    for body in bodies:
        assert TITLE not in body
        assert "The debrief of your simulation session of" in body


def test_the_learners_check_in_and_request_pages_name_no_scenario(app, people, planning,
                                                                   clock):
    from tests.web.test_reports import check_in

    session_id = running_session(app, people, planning, clock)
    learner = client_for(app, people, "student")
    form = learner.get(f"/me/sessions/{session_id}/check-in").get_data(as_text=True)
    assert TITLE not in form and "A short check-in after your simulation session of" in form
    check_in(app, people, session_id)
    listing = learner.get("/me/check-ins").get_data(as_text=True)
    assert TITLE not in listing and "Simulation session of" in listing
    ask = learner.get(f"/me/support/new?session={session_id}").get_data(as_text=True)
    assert TITLE not in ask and "About: Simulation session of" in ask
