"""Issue 14: the learner's feedback page (the PDF's twin) puts the learner first."""

import pytest

from simdebrief.extensions import db
from simdebrief.models import Centre, SimSession, User
from simdebrief.services import crisis
from tests.conftest import client_for
from tests.web.test_debriefs import running_session
from tests.web.test_reports import finalise_with_factors, learner_url, pdf_text


@pytest.fixture
def final(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock)
    finalise_with_factors(app, people, session_id)
    return session_id


def test_the_twin_page_and_the_pdf_follow_the_learners_order(app, people, final, clock):
    with app.app_context():
        admin_centre = db.session.get(Centre, people.centre_id)
        admin = db.session.get(User, people.ids["admin"])
        crisis.add_urgent_contact(db.session, centre=admin_centre, actor=admin,
                                  name="Student counselling", phone="+45 70 20 30 40",
                                  opening_hours="08–16", is_emergency=False, now=clock.now())
        db.session.commit()
        content = db.session.get(SimSession, final).scenario_version.content
        objective = content["learning_objectives"][0]
        teaching = next(point["text"] for point in content["teaching_points"]
                        if point["point"] == "errors_inevitable_multifactorial")
    teaching = " ".join(teaching.split())
    learner = client_for(app, people, "student")
    student = people.ids["student"]
    page = " ".join(learner.get(learner_url(final, student, "")).get_data(as_text=True)
                    .replace("&#39;", "'").replace("&#34;", '"').split())
    text = pdf_text(learner.get(learner_url(final, student)))
    for document in (page, text):
        order = ["Calm closed-loop communication.", "Check allergies aloud.",
                 " ".join(objective.split())[:40], teaching[:40],
                 "Why it happened", "Your follow-ups", "Who you can talk to",
                 "+45 70 20 30 40"]
        positions = [document.index(snippet) for snippet in order]
        assert positions == sorted(positions)
