"""Tracks: a learner starts one for a real clinical event that no scenario is about; the
complaint track branches when the learner says a decision has come."""

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, EventTrack, FollowUpStatus, TrackKind
from tests.conftest import client_for
from tests.web.test_followups import dispatch, rows, stage_link


def start(app, people, kind: str) -> int:
    learner = client_for(app, people, "student")
    response = learner.post("/me/follow-ups/tracks/new", data={"kind": kind})
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(select(EventTrack.id).where(EventTrack.kind == kind))


def test_a_real_event_track_needs_no_scenario_and_offers_a_conversation(app, people, clock):
    page = client_for(app, people, "student").get("/me/follow-ups/tracks/new").get_data(
        as_text=True)
    assert "Something happened at work that stays with me" in page
    track_id = start(app, people, "real_event")
    with app.app_context():
        track = db.session.get(EventTrack, track_id)
        assert track.kind is TrackKind.REAL_EVENT and track.related_session_id is None
    mine = rows(app, track_id=track_id)
    assert [f.stage_key for f in mine] == ["RW_next_day", "RW_one_week", "RW_one_month"]
    with app.app_context():
        from simdebrief.models import FollowUp

        week = db.session.get(FollowUp, mine[1].id)
        assert week.stage.offers_conversation
    timeline = client_for(app, people, "student").get("/me/follow-ups").get_data(as_text=True)
    assert "After a real clinical event" in timeline
    # The group links to the track's own page, and lists its first stage.
    assert f'href="/me/follow-ups/tracks/{track_id}"' in timeline
    assert timeline.count("<tr>") >= 2


def test_the_complaint_track_branches_when_a_decision_has_come(app, people, clock, client):
    track_id = start(app, people, "complaint")
    first = rows(app, track_id=track_id)[0]
    assert all(f.stage_key != "CT_after_decision" for f in rows(app, track_id=track_id))
    clock.advance(seconds=(first.due_at - clock.now()).total_seconds())
    dispatch(app, clock.now())
    link = stage_link(app, first.id)
    # Still waiting: nothing changes.
    client.post(link, data={"q_complaint_stage": "waiting"})
    assert all(f.status is FollowUpStatus.SCHEDULED for f in rows(app, track_id=track_id)[1:])

    second = rows(app, track_id=track_id)[1]
    clock.advance(seconds=(second.due_at - clock.now()).total_seconds())
    dispatch(app, clock.now())
    client.post(stage_link(app, second.id), data={"q_complaint_stage": "decided"})
    after = {f.stage_key: f for f in rows(app, track_id=track_id)}
    months = [f for key, f in after.items() if key.startswith("CT_month")]
    assert all(f.status is FollowUpStatus.SKIPPED for f in months if f.id != second.id)
    closing = after["CT_after_decision"]
    assert closing.status is FollowUpStatus.SCHEDULED
    assert closing.anchor_at == clock.now() and closing.due_at > clock.now()
    with app.app_context():
        from simdebrief.models import FollowUp

        assert db.session.get(FollowUp, closing.id).stage.offers_conversation
        assert db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == "event_track.branched")).startswith("event=decision")
    # Saying it again does not branch twice.
    third_count = len(rows(app, track_id=track_id))
    client.post(stage_link(app, second.id), data={"q_complaint_stage": "decided"})
    assert len(rows(app, track_id=track_id)) == third_count
