"""Signed follow-up links: every link checks its expiry in every state, an answered stage's
link shows that and nothing else, and no link page is kept by a cache."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from simdebrief.extensions import db
from simdebrief.models import FollowUpChoice, FollowUpStatus, SupportRequest
from tests.conftest import both_databases
from tests.web.test_debriefs import finalised, running_session
from tests.web.test_followups import FU0, dispatch, one, stage_link


@pytest.fixture
def sent_session(app, people, planning, clock) -> int:
    session_id = running_session(app, people, planning, clock, absent=("student2",))
    finalised(app, people, session_id)
    return session_id


def support_requests(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(SupportRequest.id)))


def choices(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(FollowUpChoice.id)))


@both_databases
def test_an_answered_stage_link_shows_answered_and_nothing_else(
        app, people, sent_session, clock, client):
    dispatch(app, clock.now())
    first = one(app, people.ids["student"], FU0)
    link = stage_link(app, first.id)
    client.post(link, data={"distress": "8", "support_wanted": ["talk_to_peer"]})
    assert one(app, people.ids["student"], FU0).status is FollowUpStatus.COMPLETED

    page = client.get(link)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "This check-in is answered" in text
    assert "/talk" not in text and "/choice" not in text
    # Neither a request to talk nor a change of follow-ups through an answered stage's link.
    asked = client.post(f"{link}/talk", data={"tier": "peer", "share_checkin": "y",
                                              "message": "hello"})
    assert asked.status_code == 303 and support_requests(app) == 0
    stopped = client.post(f"{link}/choice", data={"action": "stop"})
    assert stopped.status_code == 303 and choices(app) == 0

    # Once the stage's time is over, the answered link is as dead as any other.
    clock.set(first.expires_at + timedelta(minutes=1))
    for response in (client.get(link), client.get(f"{link}/talk"),
                     client.post(f"{link}/talk", data={"tier": "peer", "message": "hi"}),
                     client.post(f"{link}/choice", data={"action": "pause"})):
        assert response.status_code == 410
        assert "This check-in has closed" in response.get_data(as_text=True)
    assert support_requests(app) == 0 and choices(app) == 0


def test_an_expired_open_link_asks_for_nothing_and_changes_nothing(
        app, people, sent_session, clock, client):
    dispatch(app, clock.now())
    first = one(app, people.ids["student"], FU0)
    link = stage_link(app, first.id)
    clock.set(first.expires_at + timedelta(seconds=1))
    assert client.post(f"{link}/talk", data={"tier": "peer"}).status_code == 410
    assert client.post(f"{link}/choice", data={"action": "stop"}).status_code == 410
    assert support_requests(app) == 0 and choices(app) == 0


def test_link_pages_are_never_cached(app, people, sent_session, clock, client):
    dispatch(app, clock.now())
    link = stage_link(app, one(app, people.ids["student"], FU0).id)
    for path in (link, f"{link}/talk", f"{link}x"):
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    client.post(link, data={"distress": "2"})
    assert client.get(link).headers.get("Cache-Control") == "no-store"


def test_the_link_talk_form_does_not_tick_telling_the_instructors(
        app, people, sent_session, clock, client):
    dispatch(app, clock.now())
    link = stage_link(app, one(app, people.ids["student"], FU0).id)
    page = client.get(f"{link}/talk?tier=peer").get_data(as_text=True)
    [box] = [line for line in page.splitlines() if 'name="instructors_informed"' in line]
    assert "checked" not in box
