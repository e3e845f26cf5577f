"""Two relays against one PostgreSQL database and a slow mail server, with a lease shorter
than a batch takes to send: every follow-up email still arrives exactly once.

Each relay runs in its own thread with its own app (its own connections), as two scheduler
processes would. The lease must lapse in real time for the race to exist, so these apps read
the system clock; the slow server sleeps, the test itself does not.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from simdebrief.clock import SystemClock
from simdebrief.extensions import db
from simdebrief.jobs import relay_outbox
from simdebrief.models import OutboxEmail, OutboxStatus
from simdebrief.services import notifications
from tests.conftest import make_app

pytestmark = [pytest.mark.slow, pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)]

FROM = "SimDebrief <no-reply@sim.example.org>"
EMAILS = 8


def relay_app(db_url, smtp_server):
    return make_app(db_url, SystemClock(), SIMDEBRIEF_SMTP_HOST="127.0.0.1",
                    SIMDEBRIEF_SMTP_PORT=smtp_server.port, SIMDEBRIEF_SMTP_TIMEOUT=5,
                    SIMDEBRIEF_OUTBOX_LEASE_SECONDS=2)


def test_two_relays_and_a_slow_server_deliver_each_follow_up_once(db_url, smtp_server):
    smtp_server.handler.delay = 0.9
    apps = [relay_app(db_url, smtp_server) for _ in range(2)]
    with apps[0].app_context():
        for n in range(EMAILS):
            notifications.enqueue_email(
                db.session, key=f"followup:{n}", to=f"learner{n}@example.org",
                subject="How are you doing?", body="One question.",
                now=datetime.now(UTC), mail_from=FROM)
        db.session.commit()

    results: dict[int, list] = {0: [], 1: []}
    errors = []

    def keep_relaying(number: int, app) -> None:
        """A scheduler's ticks, back to back, until nothing is left to send. The first relay
        claims six emails at once (5.4 s of sending under a 2 s lease); the second keeps
        asking, so it would take over any of them whose lease lapsed."""
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                results[number].append(relay_outbox(app, batch=(6, 2)[number]))
                with app.app_context():
                    left = db.session.scalar(select(func.count(OutboxEmail.id)).where(
                        OutboxEmail.status != OutboxStatus.SENT))
                    db.session.remove()
                if not left:
                    return
                time.sleep(0.05)
        except Exception as exc:  # reported below: a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=keep_relaying, args=(n, app))
               for n, app in enumerate(apps)]
    for thread in threads:
        thread.start()
        time.sleep(0.2)  # the first relay claims first
    for thread in threads:
        thread.join(60)
    assert not errors

    messages = smtp_server.wait_for(EMAILS)
    arrivals = Counter(m["To"] for m in messages)
    assert arrivals == Counter({f"learner{n}@example.org": 1 for n in range(EMAILS)})
    assert len({m["Message-ID"] for m in messages}) == EMAILS
    every = results[0] + results[1]
    assert sum(r.delivered for r in every) == EMAILS
    assert sum(r.lost for r in every) == 0
    # Both relays did part of the work: a second scheduler shares it, it does not just wait.
    assert all(sum(r.delivered for r in results[n]) for n in (0, 1))
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
