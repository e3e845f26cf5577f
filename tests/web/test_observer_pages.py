"""An observer of a debrief reads its analysis items and amendments; no edit form is put in
front of them that would only answer 403."""

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import AnalysisItem
from tests.conftest import client_for
from tests.web.test_debrief_record import add_colleague
from tests.web.test_debriefs import finalised, session_id, started

__all__ = ["session_id"]  # the fixture, imported for pytest


def make_observer(lead, people, session_id, colleague_id):
    response = lead.post(f"/sessions/{session_id}/debrief/roles", data={
        f"role_{colleague_id}": "observer", f"role_{people.ids['instructor']}": "lead"})
    assert response.status_code in (302, 303)


def test_an_observer_sees_an_analysis_item_read_only(app, people, session_id):
    colleague, colleague_id = add_colleague(app, session_id)
    lead = started(client_for(app, people, "instructor"), session_id)
    lead.post(f"/sessions/{session_id}/debrief/analysis", data={
        "kind": "plus", "domain": "teamwork", "strategy": "self_assessment",
        "text": "Closed-loop orders throughout."})
    with app.app_context():
        item_id = db.session.scalar(select(AnalysisItem.id))
    url = f"/sessions/{session_id}/debrief/analysis/{item_id}"
    assert "Save item" in lead.get(url).get_data(as_text=True)

    make_observer(lead, people, session_id, colleague_id)
    page = colleague.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Closed-loop orders throughout." in text
    assert "Teamwork and behaviour" in text
    assert "Save item" not in text and "<textarea" not in text
    assert "you observe it" in text
    assert colleague.post(url, data={"kind": "delta", "domain": "teamwork",
                                     "strategy": "self_assessment",
                                     "text": "Changed"}).status_code == 403


def test_an_observer_reads_the_amendments_without_an_amend_form(app, people, session_id):
    colleague, colleague_id = add_colleague(app, session_id)
    lead = started(client_for(app, people, "instructor"), session_id)
    make_observer(lead, people, session_id, colleague_id)
    finalised(app, people, session_id)
    assert lead.post(f"/sessions/{session_id}/debrief/amend", data={
        "target": "take_home_messages", "text": "Check allergies aloud, every time.",
        "reason": "Typo"}).status_code in (302, 303)
    assert "Record an amendment" in lead.get(
        f"/sessions/{session_id}/debrief/amend").get_data(as_text=True)

    page = colleague.get(f"/sessions/{session_id}/debrief/amend")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Record an amendment" not in text and "<textarea" not in text
    assert "you can read its amendments but not record one" in text
    assert "Check allergies aloud, every time." in text
