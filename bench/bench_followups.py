"""How fast due follow-ups go out, against a bare smtplib loop measured in the same run.

Schedules 10,000 stages (2,000 learners present at one finalised debrief, five stages each),
makes them all due at once, and times one dispatch pass (claim the stages and write their
emails, then send the outbox) into a local SMTP server running in its own process. The
baseline sends the very same messages over one smtplib connection in a plain
loop, building each message with the standard library as it goes, the way a script mailing
a list would. Prints follow-ups per second for each database and the ratio to the baseline,
and for reference the rate of sending the same messages pre-built.

Goal: at least half the bare loop's rate. Runs on a temporary SQLite file, and on PostgreSQL
too when one is reachable: SIMDEBRIEF_BENCH_POSTGRES_URL, SIMDEBRIEF_TEST_POSTGRES_URL, or
the local test server (it works in a schema of its own, dropped afterwards). Exits with
status 1 when a goal is missed.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import smtplib
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text, update  # noqa: E402

from simdebrief import create_app  # noqa: E402
from simdebrief.clock import FrozenClock  # noqa: E402
from simdebrief.extensions import db  # noqa: E402
from simdebrief.jobs import dispatch_followups, relay_outbox  # noqa: E402
from simdebrief.models import (  # noqa: E402
    Attendance,
    Centre,
    Debrief,
    DebriefStatus,
    FollowUp,
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
from simdebrief.services.followups import enrolment  # noqa: E402

LEARNERS = 2_000
STAGES = LEARNERS * 5
GOAL = 0.5
#: Two scheduler processes against the bare loop (the issue's goal).
TWO_SCHEDULER_GOAL = 1.0
MAIL_FROM = "SimDebrief <no-reply@bench.example.org>"
NOW = datetime(2026, 10, 20, 13, 0, tzinfo=UTC)
SCHEMA = "bench_followups"


# --- the SMTP server, in a process of its own ------------------------------------------------


def _serve(port: int, received, duplicates, forget, ready) -> None:
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    seen: set[str] = set()

    class Counting:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd)
            if forget.is_set():
                seen.clear()
                forget.clear()
            message_id = BytesHeaderParser().parsebytes(envelope.content)["Message-ID"]
            if message_id in seen:
                with duplicates.get_lock():
                    duplicates.value += 1
            seen.add(message_id)
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


class Server:
    def __init__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.received = multiprocessing.Value("l", 0)
        #: Messages whose Message-ID had arrived before: a follow-up sent twice.
        self.duplicates = multiprocessing.Value("l", 0)
        self.forget = multiprocessing.Event()
        ready = multiprocessing.Event()
        self.process = multiprocessing.Process(target=_serve,
                                               args=(self.port, self.received,
                                                     self.duplicates, self.forget, ready),
                                               daemon=True)
        self.process.start()
        if not ready.wait(15):
            raise RuntimeError("the SMTP server did not start")

    @property
    def count(self) -> int:
        return self.received.value

    def wait_for(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.count} of {count} messages arrived")
            time.sleep(0.001)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


# --- data ------------------------------------------------------------------------------------


def make_app(url: str, server: Server, engine_options: dict | None = None):
    keys = "1:" + base64.urlsafe_b64encode(b"b" * 32).decode()
    options = {"pool_pre_ping": True, **(engine_options or {})}
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-to-use", "TESTING": True,
        "SIMDEBRIEF_CHECKIN_KEYS": keys, "SIMDEBRIEF_CLOCK": FrozenClock(NOW),
        "SIMDEBRIEF_SMTP_HOST": "127.0.0.1", "SIMDEBRIEF_SMTP_PORT": server.port,
        "SIMDEBRIEF_MAIL_FROM": MAIL_FROM, "SIMDEBRIEF_SCHEDULER": False,
        "SIMDEBRIEF_BASE_URL": "https://bench.example.org",
    })
    with app.app_context():
        db.create_all()
    return app


def seed(app) -> None:
    """One finalised session with every learner present; then every stage due now."""
    anchor = NOW - timedelta(days=100)
    with app.app_context():
        centre = Centre(name="Bench centre", timezone="Europe/Copenhagen", created_at=anchor)
        scenario = Scenario(slug="bench", created_at=anchor)
        version = ScenarioVersion(
            scenario=scenario, number=1, content_hash="0" * 64, content={},
            source_file="bench.yaml", title="Bench drill", summary="",
            clinical_setting="ward", adverse_event_type="other", trigger_types=[],
            risk_flags=[], duration_minutes=60, role_places=LEARNERS, synced_at=anchor)
        sim_session = SimSession(
            centre=centre, scenario_version=version,
            room=Room(centre=centre, name="Hall", capacity=LEARNERS),
            starts_at=anchor - timedelta(hours=3), ends_at=anchor,
            status=SessionStatus.DEBRIEFED, created_at=anchor, updated_at=anchor)
        for number in range(LEARNERS):
            sim_session.participants.append(SessionParticipant(
                user=User(centre=centre, email=f"learner{number}@example.org",
                          name=f"Learner {number}", role=Role.STUDENT, created_at=anchor),
                attendance=Attendance.PRESENT))
        debrief = Debrief(session=sim_session, framework="PEARLS", status=DebriefStatus.FINAL,
                          created_at=anchor, updated_at=anchor, finalised_at=anchor)
        db.session.add_all([centre, scenario, sim_session, debrief])
        db.session.flush()
        assert len(enrolment.schedule_for_debrief(db.session, debrief, anchor)) == STAGES
        db.session.execute(update(FollowUp).values(due_at=NOW - timedelta(minutes=1),
                                                   expires_at=NOW + timedelta(days=7)))
        db.session.commit()


# --- the two runs ----------------------------------------------------------------------------


def dispatch_pass(app, server: Server) -> float:
    """What ``flask followups dispatch --once`` does; seconds until the last message arrived."""
    start_count = server.count
    start = time.perf_counter()
    result = dispatch_followups(app, now=NOW)
    relayed = relay_outbox(app, now=NOW)
    server.wait_for(start_count + STAGES)
    elapsed = time.perf_counter() - start
    assert result.sent == STAGES and relayed.delivered == STAGES, (result, relayed)
    return elapsed


class _Port:
    def __init__(self, port: int):
        self.port = port


def _scheduler_process(url: str, port: int, engine_options: dict | None) -> None:
    """One ``scheduler run`` process's work, repeated until there is nothing left."""
    app = make_app(url, _Port(port), engine_options)
    while True:
        claimed = dispatch_followups(app, now=NOW)
        relayed = relay_outbox(app, now=NOW)
        if not claimed.sent and not relayed.claimed:
            return


def two_schedulers(url: str, server: Server, engine_options: dict | None) -> float:
    """Two scheduler processes on one database share the due stages and their emails;
    seconds until the last message arrived."""
    server.forget.set()  # earlier runs sent the same Message-IDs
    server.duplicates.value = 0
    start_count = server.count
    start = time.perf_counter()
    processes = [multiprocessing.Process(target=_scheduler_process,
                                         args=(url, server.port, engine_options))
                 for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    server.wait_for(start_count + STAGES)
    elapsed = time.perf_counter() - start
    time.sleep(1)  # anything sent twice would arrive now
    assert server.count == start_count + STAGES, (server.count - start_count, STAGES)
    return elapsed


def measure_two_schedulers(label: str, app, url: str, server: Server,
                           engine_options: dict | None) -> bool:
    seed(app)
    with app.app_context():
        db.engine.dispose()  # the children open their own connections
    ours = two_schedulers(url, server, engine_options)
    duplicates = server.duplicates.value  # before the bare loop resends the same messages
    bare = bare_loop(outbox_contents(app), server)
    ratio = bare / ours
    met = ratio >= TWO_SCHEDULER_GOAL and duplicates == 0
    print(f"{label}, two scheduler processes: {STAGES:,} due follow-ups in {ours:.2f} s = "
          f"{STAGES / ours:,.0f}/s, {duplicates} sent twice; bare smtplib loop "
          f"{bare:.2f} s = {STAGES / bare:,.0f}/s; ratio {ratio:.2f} "
          f"(goal >= {TWO_SCHEDULER_GOAL}, no duplicates) {'OK' if met else 'MISSED'}")
    return met


def outbox_contents(app) -> list[tuple[str, str, str, str, datetime]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body_text,
                   OutboxEmail.message_id, OutboxEmail.created_at)
            .where(OutboxEmail.idempotency_key.like("followup:%")).order_by(OutboxEmail.id))]


def stdlib_message(to: str, subject: str, body: str, message_id: str,
                   created: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = MAIL_FROM
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(created)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def bare_loop(contents, server: Server, *, prebuilt: bool = False) -> float:
    """The same messages sent in a plain loop over one smtplib connection: each one built
    with the standard library and sent, as a script mailing a list would do. With
    ``prebuilt``, the messages are built before the clock starts (sending alone)."""
    assert len(contents) == STAGES
    built = [stdlib_message(*row) for row in contents] if prebuilt else None
    start_count = server.count
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=20) as connection:
        if built is not None:
            for message in built:
                connection.send_message(message)
        else:
            for row in contents:
                connection.send_message(stdlib_message(*row))
    server.wait_for(start_count + STAGES)
    return time.perf_counter() - start


def measure(label: str, app, server: Server) -> bool:
    seed(app)
    ours = dispatch_pass(app, server)
    contents = outbox_contents(app)
    bare = bare_loop(contents, server)
    send_only = bare_loop(contents, server, prebuilt=True)
    ours_rate, bare_rate, send_rate = STAGES / ours, STAGES / bare, STAGES / send_only
    ratio = ours_rate / bare_rate
    met = ratio >= GOAL
    print(f"{label}: {STAGES:,} due follow-ups dispatched and delivered in {ours:.2f} s = "
          f"{ours_rate:,.0f}/s; bare smtplib loop (build and send each message) {bare:.2f} s "
          f"= {bare_rate:,.0f}/s; ratio {ratio:.2f} (goal >= {GOAL}) "
          f"{'OK' if met else 'MISSED'}")
    print(f"{label}: for reference, sending the messages pre-built (no building in the loop) "
          f"{send_only:.2f} s = {send_rate:,.0f}/s; ratio {ours_rate / send_rate:.2f}")
    return met


#: Tried when no URL is given: the local test server, if one is running.
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    url = os.environ.get("SIMDEBRIEF_BENCH_POSTGRES_URL") or \
        os.environ.get("SIMDEBRIEF_TEST_POSTGRES_URL")
    if url:
        return url
    engine = create_engine(LOCAL_POSTGRES, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return LOCAL_POSTGRES
    except Exception:  # no server, no access: leave PostgreSQL out
        return None
    finally:
        engine.dispose()


def main() -> int:
    server = Server()
    results = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = make_app(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", server)
            results.append(measure("SQLite", app, server))
            with app.app_context():
                db.engine.dispose()
        url = postgres_url()
        if url:
            admin = create_engine(url)
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            try:
                app = make_app(url, server, {
                    "connect_args": {"options": f"-c search_path={SCHEMA}"}})
                options = {"connect_args": {"options": f"-c search_path={SCHEMA}"}}
                results.append(measure("PostgreSQL", app, server))
                with app.app_context():
                    db.drop_all()
                    db.create_all()
                results.append(measure_two_schedulers("PostgreSQL", app, url, server,
                                                      options))
                with app.app_context():
                    db.engine.dispose()
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()
        else:
            print("PostgreSQL: skipped (none reachable; set SIMDEBRIEF_BENCH_POSTGRES_URL)")
    finally:
        server.stop()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
