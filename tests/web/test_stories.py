"""Honest stories: the shipped stories say they are composite teaching stories; a centre adds
real stories only with the author's consent, and near-peers who agreed to be contacted."""

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import CentreStory, NearPeerContact
from tests.conftest import client_for
from tests.web.test_followups import FU2, dispatch, one, session_id, stage_link  # noqa: F401


def test_real_stories_need_consent_and_reach_learners_beside_the_composite_one(
        app, people, session_id, clock, client):  # noqa: F811
    admin = client_for(app, people, "admin")
    story = {"story-title": "My first night", "story-author_description": "a nurse, 10 years on",
             "story-text": "I froze, and a colleague stayed with me.", "story-submit": "y"}
    refused = admin.post("/admin/centre/stories", data=story)
    assert refused.status_code == 400
    assert "only be shared with the author&#39;s consent" in refused.get_data(as_text=True)
    assert "I froze, and a colleague stayed with me." in refused.get_data(as_text=True)
    assert admin.post("/admin/centre/stories",
                      data={**story, "story-consent": "y"}).status_code == 302
    peer = {"peer-name": "Mette Mentor", "peer-description": "resident, happy to talk",
            "peer-how_to_reach": "mette@example.org", "peer-submit": "y"}
    assert admin.post("/admin/centre/stories", data=peer).status_code == 400
    assert admin.post("/admin/centre/stories",
                      data={**peer, "peer-consent": "y"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(CentreStory.title)) == "My first night"
        assert db.session.scalar(select(NearPeerContact.name)) == "Mette Mentor"

    week = one(app, people.ids["student"], FU2)
    clock.advance(seconds=(week.due_at - clock.now()).total_seconds())
    dispatch(app, clock.now())
    page = client.get(stage_link(app, week.id)).get_data(as_text=True)
    assert "A composite teaching story." in page and "not one real person" in page
    assert "A first-person story" not in page
    assert "I froze, and a colleague stayed with me." in page and "a nurse, 10 years on" in page
    assert "Mette Mentor" in page and "mette@example.org" in page
    # Another centre's stories stay there.
    other = client_for(app, people, "other_admin").get("/admin/centre/stories")
    assert "My first night" not in other.get_data(as_text=True)


def test_the_learners_feedback_labels_its_story_as_composite(app):
    from simdebrief.services import report_wording

    with app.test_request_context():
        intro = report_wording.wording().story_intro
    assert intro.startswith("A composite teaching story") and "not one real person" in intro
