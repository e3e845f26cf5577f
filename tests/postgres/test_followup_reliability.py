"""Follow-ups against a real PostgreSQL server, real dispatcher processes and a real SMTP
server: nothing lost across restarts, nothing sent twice by two dispatchers, an SMTP outage
only delays, a killed dispatcher leaves nothing half done, and DST keeps 09:00 at 09:00.

Each dispatcher is ``flask --app app followups dispatch --once --now …`` in its own process.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    Centre,
    Debrief,
    DebriefStatus,
    FollowUp,
    FollowUpStatus,
    OutboxEmail,
    Role,
    Room,
    Scenario,
    ScenarioVersion,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
)
from simdebrief.services import notifications, operations
from simdebrief.services.followups import enrolment
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
CPH = ZoneInfo("Europe/Copenhagen")
SECRET = "reliability-secret-key-that-is-long-enough"
KEYS = "1:" + base64.urlsafe_b64encode(b"k" * 32).decode()
MAIL_FROM = "SimDebrief <no-reply@sim.example.org>"
#: The debrief ends at 15:00 on Tuesday 20 October 2026, summer time (UTC+2).
ANCHOR = datetime(2026, 10, 20, 15, 0, tzinfo=CPH)

on_postgres = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
pytestmark = [pytest.mark.slow, on_postgres]


@pytest.fixture
def app(db_url, clock):
    app = make_app(db_url, clock, SECRET_KEY=SECRET, SIMDEBRIEF_CHECKIN_KEYS=KEYS,
                   SIMDEBRIEF_MAIL_FROM=MAIL_FROM)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def environment(db_url: str, smtp_port: int) -> dict:
    env = {**os.environ, "SIMDEBRIEF_DATABASE_URL": db_url, "SIMDEBRIEF_SECRET_KEY": SECRET,
           "SIMDEBRIEF_CHECKIN_KEYS": KEYS, "SIMDEBRIEF_SMTP_HOST": "127.0.0.1",
           "SIMDEBRIEF_SMTP_PORT": str(smtp_port), "SIMDEBRIEF_SMTP_TIMEOUT": "3",
           "SIMDEBRIEF_MAIL_FROM": MAIL_FROM, "SIMDEBRIEF_SCHEDULER": "off",
           "SIMDEBRIEF_BASE_URL": "https://sim.example.org"}
    env.pop("SIMDEBRIEF_ENV", None)
    return env


def dispatcher(env: dict, when: datetime, *extra: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", "followups", "dispatch", "--once",
            "--now", when.isoformat(), *extra]


def run(env: dict, when: datetime, *extra: str) -> dict[str, int]:
    """One dispatcher process to the end; returns what it printed, as numbers."""
    done = subprocess.run(dispatcher(env, when, *extra), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return parse(done.stdout)


def parse(output: str) -> dict[str, int]:
    followup_line = re.search(r"follow-ups at \S+: (\d+) claimed, (\d+) sent", output)
    outbox_line = re.search(r"outbox: (\d+) claimed, (\d+) delivered, (\d+) failed", output)
    assert followup_line and outbox_line, output
    return {"claimed": int(followup_line[1]), "sent": int(followup_line[2]),
            "relayed": int(outbox_line[1]), "delivered": int(outbox_line[2]),
            "failed": int(outbox_line[3])}


def seed(app, learners: int, anchor: datetime = ANCHOR) -> int:
    """A finalised session with ``learners`` present; their stages scheduled by the service."""
    now = anchor.astimezone(UTC)
    with app.app_context():
        centre = Centre(name="Reliability centre", timezone="Europe/Copenhagen", created_at=now)
        instructor = User(centre=centre, email="instructor@example.org", name="Ivan",
                          role=Role.INSTRUCTOR, created_at=now)
        scenario = Scenario(slug="reliability", created_at=now)
        version = ScenarioVersion(
            scenario=scenario, number=1, content_hash="0" * 64, content={},
            source_file="reliability.yaml", title="Reliability drill", summary="",
            clinical_setting="ward", adverse_event_type="other", trigger_types=[],
            risk_flags=[], duration_minutes=60, role_places=learners, synced_at=now)
        room = Room(centre=centre, name="Hall", capacity=learners)
        sim_session = SimSession(
            centre=centre, scenario_version=version, room=room,
            starts_at=now - timedelta(hours=3), ends_at=now, status=SessionStatus.DEBRIEFED,
            created_at=now, updated_at=now, started_at=now - timedelta(hours=3),
            instructors=[instructor])
        for number in range(learners):
            learner = User(centre=centre, email=f"learner{number}@example.org",
                           name=f"Learner {number}", role=Role.STUDENT, created_at=now)
            sim_session.participants.append(SessionParticipant(
                user=learner, attendance=Attendance.PRESENT))
        debrief = Debrief(session=sim_session, framework="PEARLS", status=DebriefStatus.FINAL,
                          created_at=now, updated_at=now, finalised_at=now)
        db.session.add_all([centre, scenario, sim_session, debrief])
        db.session.flush()
        created = enrolment.schedule_for_debrief(db.session, debrief, now)
        assert len(created) == learners * 5
        db.session.commit()
        return sim_session.id


def make_all_due(app, when: datetime) -> int:
    """Every stage due at the same moment: the heaviest possible tick."""
    with app.app_context():
        count = db.session.execute(update(FollowUp).values(
            due_at=when, expires_at=when + timedelta(days=7))).rowcount
        db.session.commit()
        return count


def counts(app) -> Counter:
    with app.app_context():
        return Counter(dict(db.session.execute(
            select(FollowUp.status, func.count(FollowUp.id)).group_by(FollowUp.status)).all()))


def followup_keys(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxEmail.idempotency_key).where(
            OutboxEmail.idempotency_key.like("followup:%"))))


def expected_message_ids(app) -> set[str]:
    with app.app_context():
        ids = db.session.scalars(select(FollowUp.id).where(
            FollowUp.status == FollowUpStatus.SENT))
        installation = operations.installation_id(db.session)
        return {notifications.message_id_for(f"followup:{i}", MAIL_FROM,
                                             installation=installation) for i in ids}


def delivered(smtp_server, count: int, timeout: float = 10) -> list[str]:
    return [m["Message-ID"] for m in smtp_server.wait_for(count, timeout=timeout)]


def test_a_restart_between_scheduling_and_due_time_loses_nothing(app, db_url, smtp_server):
    seed(app, learners=20)
    env = environment(db_url, smtp_server.port)
    with app.app_context():
        first_due = db.session.scalar(select(func.min(FollowUp.due_at)))
        second_due = db.session.scalar(select(FollowUp.due_at).where(
            FollowUp.stage_key == "FU1_early").limit(1))
        db.session.remove()
        db.engine.dispose()  # the app that scheduled is gone: only the rows remain
    # A new process at the first stage's time, another one (a restart) at the second's.
    first = run(env, first_due)
    assert (first["sent"], first["delivered"]) == (20, 20)
    second = run(env, second_due)
    assert (second["sent"], second["delivered"]) == (20, 20)
    ids = delivered(smtp_server, 40)
    assert len(ids) == 40 and set(ids) == expected_message_ids(app)
    assert counts(app) == Counter({FollowUpStatus.SENT: 40, FollowUpStatus.SCHEDULED: 60})


def test_two_dispatcher_processes_send_each_of_1000_stages_exactly_once(
        app, db_url, smtp_server):
    seed(app, learners=200)
    when = ANCHOR.astimezone(UTC) + timedelta(hours=1)
    assert make_all_due(app, when) == 1000
    env = environment(db_url, smtp_server.port)
    processes = [subprocess.Popen(dispatcher(env, when, "--batch", "50", "--item-delay",
                                             "0.001"),
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-3000:]
        outputs.append(parse(out))
    assert sum(o["claimed"] for o in outputs) == 1000
    assert all(o["claimed"] > 0 for o in outputs), outputs  # both really worked
    keys = followup_keys(app)
    assert len(keys) == 1000 and len(set(keys)) == 1000
    assert counts(app) == Counter({FollowUpStatus.SENT: 1000})
    ids = delivered(smtp_server, 1000)
    assert len(ids) == 1000 and set(ids) == expected_message_ids(app)


def test_an_smtp_outage_is_retried_with_backoff_and_everything_arrives(
        app, db_url, smtp_server):
    seed(app, learners=10)
    # The backoff alone, here: the circuit breaker has tests of its own.
    env = {**environment(db_url, smtp_server.port), "SIMDEBRIEF_SMTP_BREAKER_FAILURES": "20"}
    when = ANCHOR.astimezone(UTC)
    smtp_server.stop()
    down = run(env, when)
    assert (down["sent"], down["failed"], down["delivered"]) == (10, 10, 0)

    def retry_times() -> set[datetime]:
        with app.app_context():
            return set(db.session.scalars(select(OutboxEmail.next_attempt_at).where(
                OutboxEmail.idempotency_key.like("followup:%"))))

    assert retry_times() == {when + timedelta(seconds=30)}
    still_down = run(env, when + timedelta(seconds=31))
    assert (still_down["relayed"], still_down["failed"]) == (10, 10)
    assert retry_times() == {when + timedelta(seconds=31 + 60)}  # the wait doubles
    smtp_server.start()
    back = run(env, when + timedelta(seconds=92))
    assert (back["delivered"], back["failed"]) == (10, 0)
    ids = delivered(smtp_server, 10)
    assert len(ids) == 10 and set(ids) == expected_message_ids(app)


def test_a_dispatcher_killed_mid_batch_leaves_nothing_lost_or_doubled(
        app, db_url, smtp_server):
    seed(app, learners=60)
    when = ANCHOR.astimezone(UTC) + timedelta(hours=1)
    assert make_all_due(app, when) == 300
    env = environment(db_url, smtp_server.port)
    victim = subprocess.Popen(dispatcher(env, when, "--batch", "100", "--item-delay", "0.01"),
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while counts(app)[FollowUpStatus.SENT] < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.4)  # well into the second batch of 100 (one stage every 10 ms)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=10)
    after_kill = counts(app)
    assert 100 <= after_kill[FollowUpStatus.SENT] < 300  # the open batch was not committed
    assert after_kill[FollowUpStatus.SCHEDULED] == 300 - after_kill[FollowUpStatus.SENT]
    assert len(followup_keys(app)) == after_kill[FollowUpStatus.SENT]

    # Kill a second one while it talks to the mail server, leaving leased outbox rows.
    second = subprocess.Popen(dispatcher(env, when), cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(smtp_server.messages) < 20 and time.monotonic() < deadline \
            and second.poll() is None:
        time.sleep(0.005)
    second.send_signal(signal.SIGKILL)
    second.communicate(timeout=10)

    # After a restart past the outbox lease, everything goes, and nothing twice.
    result = run(env, when + timedelta(minutes=6))
    assert result["failed"] == 0
    assert counts(app) == Counter({FollowUpStatus.SENT: 300})
    keys = followup_keys(app)
    assert len(keys) == 300 and len(set(keys)) == 300
    ids = delivered(smtp_server, 300)
    assert set(ids) == expected_message_ids(app)
    # SMTP is at least once: messages accepted before the kill but not yet marked sent (at
    # most one relay batch) may come again, each with its own unchanged Message-ID.
    assert len(ids) - len(set(ids)) <= 50


def test_a_week_across_the_october_change_arrives_at_nine_local(app, db_url, smtp_server):
    seed(app, learners=1)
    env = environment(db_url, smtp_server.port)
    with app.app_context():
        week = db.session.scalar(select(FollowUp).where(FollowUp.stage_key == "FU2_one_week"))
        week_id, due_at = week.id, week.due_at
    assert due_at == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)  # 09:00 CET, after the change
    early = run(env, datetime(2026, 10, 27, 8, 59, tzinfo=CPH))
    assert early["sent"] == 0  # the earlier stages' windows have passed: skipped, not sent
    on_time = run(env, datetime(2026, 10, 27, 9, 0, tzinfo=CPH))
    assert (on_time["sent"], on_time["delivered"]) == (1, 1)
    [message] = smtp_server.wait_for(1)
    with app.app_context():
        installation = operations.installation_id(db.session)
    assert message["Message-ID"] == notifications.message_id_for(
        f"followup:{week_id}", MAIL_FROM, installation=installation)
    with app.app_context():
        sent_at = db.session.get(FollowUp, week_id).sent_at
    assert sent_at.astimezone(CPH).strftime("%H:%M %Z") == "09:00 CET"
