"""What an operator sees: /healthz, the scheduler's heartbeat and its log lines."""

from __future__ import annotations

import logging

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import _safely, record_heartbeat, relay_outbox
from simdebrief.models import Installation
from simdebrief.services import notifications, operations


def test_healthz_reports_counts_and_ages_without_login_or_content(app, client, clock):
    with app.app_context():
        notifications.enqueue_email(db.session, key="k", to="learner@example.org",
                                    subject="Private subject", body="Private body",
                                    now=clock.now(), mail_from="a@example.org")
        db.session.commit()
    clock.advance(minutes=10)
    before = client.get("/healthz")
    assert before.status_code == 200
    assert before.json == {"status": "degraded", "database": "ok",
                           "scheduler_heartbeat_age_seconds": None, "outbox_pending": 1,
                           "outbox_oldest_pending_age_seconds": 600}
    assert b"learner@" not in before.data and b"Private" not in before.data

    record_heartbeat(app)
    clock.advance(seconds=45)
    relay_outbox(app)
    after = client.get("/healthz").json
    assert after["status"] == "ok" and after["scheduler_heartbeat_age_seconds"] == 45
    assert after["outbox_pending"] == 0 and after["outbox_oldest_pending_age_seconds"] is None

    clock.advance(minutes=5)
    assert client.get("/healthz").json["status"] == "degraded"  # the scheduler went quiet


def test_healthz_says_503_when_the_database_is_gone(tmp_path, clock):
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'gone.sqlite3'}", clock)
    with app.app_context():
        db.drop_all()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}


def test_each_scheduled_job_logs_one_line_per_tick_with_its_counts(app, clock, caplog):
    with caplog.at_level(logging.INFO, logger="simdebrief.jobs"):
        _safely(relay_outbox, app)()
        _safely(record_heartbeat, app)()
    lines = [r.getMessage() for r in caplog.records if r.name == "simdebrief.jobs"]
    assert lines[0] == ("relay_outbox: 0 claimed, 0 delivered, 0 failed, 0 rejected, "
                        "0 released, 0 lost")
    assert lines[1].startswith("record_heartbeat: ")


def test_the_installation_id_is_made_once_and_kept(app):
    with app.app_context():
        first = operations.installation_id(db.session)
        db.session.commit()
        operations._instance_ids.clear()
        assert operations.installation_id(db.session) == first
        assert len(first) == 32
        assert db.session.scalars(select(Installation)).one().instance_id == first


def test_two_heartbeats_of_one_process_are_one_row(app, clock):
    record_heartbeat(app)
    clock.advance(seconds=30)
    record_heartbeat(app)
    with app.app_context():
        from simdebrief.models import SchedulerHeartbeat

        beat = db.session.scalars(select(SchedulerHeartbeat)).one()
        assert beat.ticks == 2 and beat.beat_at == clock.now()
