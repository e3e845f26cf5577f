"""Pages under load: SimDebrief's hot pages against a bare Flask page, in the same run.

Both are served by gunicorn with two workers on loopback; the load comes from ``wrk``
(Debian's package) when it is installed, else from a bounded Python client (16 keep-alive
connections for the same duration). Each page is requested logged in as the person who uses
it, at each size of a centre's history (sessions generated in bulk). Prints requests per
second, the ratio to the baseline page (loaded again for half as long just before each page,
so a ratio is to the same minute's machine), p99 latency and the workers' memory.

Goals (from the issue): each page at least 0.5x the baseline's rate; p99 at most 1.5x from
the smallest to the largest size. The figures are printed, never asserted: the machine's
other load moves them. Runs on a temporary SQLite file, and on PostgreSQL too when
SIMDEBRIEF_BENCH_POSTGRES_URL names a database it may empty.

Each learner attends at most ``SESSIONS_PER_LEARNER`` sessions, as in a real centre; the
measured student has a full history of that size.

    python bench/bench_web.py [--sizes 1000,10000] [--seconds 10] [--pages who:/path,...]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, insert, select, update  # noqa: E402

from simdebrief import create_app  # noqa: E402
from simdebrief.extensions import db  # noqa: E402
from simdebrief.jobs import fold_follow_up_tallies  # noqa: E402
from simdebrief.models import (  # noqa: E402
    Attendance,
    Centre,
    CheckIn,
    CheckInContext,
    Debrief,
    DebriefStatus,
    FollowUp,
    FollowUpStatus,
    Role,
    Room,
    Scenario,
    ScenarioVersion,
    SessionParticipant,
    SessionStatus,
    SimSession,
    SupporterTier,
    SupportRequest,
    SupportStatus,
    User,
    session_instructor,
)
from simdebrief.services import accounts  # noqa: E402
from simdebrief.services.followups import enrolment  # noqa: E402

SECRET = "bench-web-secret-key-that-is-long-enough-to-use"
KEYS = "1:" + base64.urlsafe_b64encode(b"w" * 32).decode()
PASSWORD = "bench horse battery staple"
#: Staff log in with a second factor (centres require it by default); the bench's
#: authenticator app is this shared secret.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PEOPLE = {"admin": (Role.ADMIN, None), "instructor": (Role.INSTRUCTOR, None),
          "student": (Role.STUDENT, None), "peer": (Role.SUPPORTER, SupporterTier.PEER)}
PAGES = [("instructor", "/sessions/"), ("instructor", "/sessions/?show=past"),
         ("instructor", "/dashboard"), ("student", "/dashboard"),
         ("student", "/me/follow-ups"), ("admin", "/admin/follow-ups"),
         ("peer", "/support/")]


# --- data --------------------------------------------------------------------------------


def environment(url: str) -> dict:
    env = {**os.environ, "SIMDEBRIEF_DATABASE_URL": url, "SIMDEBRIEF_SECRET_KEY": SECRET,
           "SIMDEBRIEF_CHECKIN_KEYS": KEYS, "SIMDEBRIEF_SCHEDULER": "off",
           "PYTHONPATH": str(ROOT)}
    env.pop("SIMDEBRIEF_ENV", None)
    return env


#: Sessions a learner attends over their studies, and learners in each session (the
#: scenario's role places): a centre's history grows in sessions and learners, never in one
#: learner attending every session.
SESSIONS_PER_LEARNER = 30
LEARNERS_PER_SESSION = 4
#: Of the measured learner's sessions, how many are still to come.
UPCOMING_OF_MEASURED = 5
#: Requests to talk still open (the most recent ones); the older ones are closed.
OPEN_REQUESTS = 12


def seed(url: str, sessions: int) -> None:
    """The centre's people, then ``sessions`` sessions (half over, half to come), each taught
    by the instructor with ``LEARNERS_PER_SESSION`` learners present, each learner attending
    at most ``SESSIONS_PER_LEARNER`` sessions. The measured student has a full history of that
    size: the sessions nearest now, mostly past. Past sessions carry follow-up stages for
    their learners and now and then a request to talk. Core inserts copy one session (and
    one learner) made by the services."""
    now = datetime.now(UTC)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                      "SIMDEBRIEF_CHECKIN_KEYS": KEYS, "SIMDEBRIEF_SCHEDULER": False})
    with app.app_context():
        db.drop_all()
        db.create_all()
        centre = Centre(name="Bench centre", timezone="Europe/Copenhagen", created_at=now)
        db.session.add(centre)
        ids = {}
        for key, (role, tier) in PEOPLE.items():
            user = accounts.create_user(
                db.session, centre=centre, now=now, password=PASSWORD,
                data=accounts.NewUser(f"{key}@bench.example.org", key.title(), role, tier))
            if role is not Role.STUDENT:
                user.totp_secret = TOTP_SECRET
                user.totp_enabled_at = now
            ids[key] = user.id
        version = ScenarioVersion(
            scenario=Scenario(slug="bench", created_at=now), number=1, content_hash="0" * 64,
            content={"story": "x" * 20_000}, source_file="bench.yaml", title="Bench drill",
            summary="", clinical_setting="ward", adverse_event_type="other",
            trigger_types=[], risk_flags=[], duration_minutes=60, role_places=4, synced_at=now)
        room = Room(centre=centre, name="Hall", capacity=8)
        db.session.add_all([version, room])
        db.session.flush()
        common = {"centre_id": centre.id, "scenario_version_id": version.id,
                  "room_id": room.id, "created_at": now, "updated_at": now}
        first = SimSession(**common, starts_at=now - timedelta(hours=3), ends_at=now,
                           status=SessionStatus.DEBRIEFED)
        db.session.add(first)
        db.session.flush()
        rows = []
        for number in range(1, sessions):
            start = now + timedelta(hours=6 * (number // 2 + 1)) * (1 if number % 2 else -1)
            rows.append({**common, "starts_at": start, "ends_at": start + timedelta(hours=2),
                         "status": SessionStatus.SCHEDULED if number % 2
                         else SessionStatus.DEBRIEFED})
        new_ids = list(db.session.scalars(insert(SimSession).returning(SimSession.id),
                                          rows)) if rows else []
        every = [first.id, *new_ids]
        db.session.execute(insert(session_instructor), [
            {"session_id": s, "user_id": ids["instructor"]} for s in every])
        attending = attendance(every, [first.ends_at, *(r["ends_at"] for r in rows)], now,
                               ids["student"], learner_pool(centre.id, ids["student"],
                                                            len(every)))
        db.session.execute(insert(SessionParticipant), [
            {"session_id": s, "user_id": u, "attendance": Attendance.PRESENT}
            for s, learners in attending.items() for u in learners])
        debrief = Debrief(session_id=first.id, framework="PEARLS", status=DebriefStatus.FINAL,
                          created_at=now, updated_at=now, finalised_at=now)
        db.session.add(debrief)
        db.session.flush()
        db.session.refresh(first)
        enrolment.schedule_for_debrief(db.session, debrief, now)
        columns = [c.key for c in FollowUp.__table__.columns if c.key != "id"]
        pattern = [{key: getattr(f, key) for key in columns}
                   for f in db.session.scalars(select(FollowUp).where(
                       FollowUp.user_id == ids["student"]))]
        past = [i for i, row in zip(new_ids, rows, strict=True) if row["ends_at"] < now]
        for start in range(0, len(past), 500):
            db.session.execute(insert(FollowUp), [
                aged({**p, "user_id": learner}, s, timedelta(hours=6 * (n + 1)), now)
                for n, s in enumerate(past[start:start + 500], start)
                for learner in attending[s] for p in pattern])
        answer_every_third(db.session, now)
        # A request to talk every 50 sessions; the most recent still open, the others closed
        # (as a centre's history has them: the queue shows open work, not the history).
        db.session.execute(insert(SupportRequest), [
            {"centre_id": centre.id, "learner_id": attending[s][0], "session_id": s,
             "tier": SupporterTier.PEER, "created_at": now, "updated_at": now,
             **({"status": SupportStatus.OPEN} if n < OPEN_REQUESTS
                else {"status": SupportStatus.CLOSED, "closed_at": now})}
            for n, s in enumerate(past[::50])])
        db.session.commit()
        db.session.remove()
        # The scheduler's first tick after the load (the bench's servers run no scheduler):
        # the load's tally changes folded into one row a key, the distress tallies' first
        # count, and the tally tables compacted after so many changes.
        started = time.perf_counter()
        done = fold_follow_up_tallies(app, now)
        print(f"{sessions} sessions: the scheduler's first tally tick took "
              f"{time.perf_counter() - started:.1f} s ({done})", flush=True)
        settle(db.engine)
        db.engine.dispose()


def answer_every_third(session, now: datetime) -> None:
    """A third of the stages that closed were answered, as a centre's history has them: each
    with its check-in (a distress score, sealed as the app seals it)."""
    answered = session.execute(
        select(FollowUp.id, FollowUp.user_id, FollowUp.centre_id, FollowUp.session_id,
               FollowUp.due_at)
        .where(FollowUp.status == FollowUpStatus.EXPIRED, FollowUp.id % 3 == 0)).all()
    sealing = CheckIn.__dict__["payload"]
    for start in range(0, len(answered), 5_000):
        chunk = answered[start:start + 5_000]
        ids = session.scalars(insert(CheckIn).returning(CheckIn.id, sort_by_parameter_order=True),
                              [{"user_id": user_id, "centre_id": centre_id,
                                "session_id": session_id, "context": CheckInContext.FOLLOWUP,
                                "created_at": due_at + timedelta(hours=2), "skipped": False,
                                "followup_id": followup_id}
                               for followup_id, user_id, centre_id, session_id, due_at in chunk])
        ids = list(ids)
        session.execute(update(CheckIn.__table__).where(
            CheckIn.__table__.c.id == bindparam("checkin")).values(payload=bindparam("sealed")),
            [{"checkin": checkin_id, "sealed": sealing.seal({"distress": (checkin_id * 7) % 11},
                                                            checkin_id)}
             for checkin_id in ids])
        session.execute(update(FollowUp.__table__).where(
            FollowUp.__table__.c.id == bindparam("followup")).values(
                status=FollowUpStatus.COMPLETED.name, checkin_id=bindparam("checkin"),
                completed_at=bindparam("completed")),
            [{"followup": row.id, "checkin": checkin_id,
              "completed": row.due_at + timedelta(hours=2)}
             for row, checkin_id in zip(chunk, ids, strict=True)])


def settle(engine) -> None:
    """Leave the database as a running installation has it, not as a bulk load leaves it:
    PostgreSQL's planner statistics gathered (autovacuum would do it soon after such a load,
    and meanwhile competes for the CPU), and the load's dirty pages written out, so no page
    is measured while the disk catches up."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    os.sync()


def learner_pool(centre_id: int, student_id: int, sessions: int) -> list[int]:
    """Enough other learners for every session's places at ``SESSIONS_PER_LEARNER`` each:
    copies of the measured student's account under other addresses (no password hashing)."""
    needed = LEARNERS_PER_SESSION * -(-sessions // SESSIONS_PER_LEARNER)
    table = User.__table__
    student = db.session.execute(select(table).where(table.c.id == student_id)).one()
    template = {key: value for key, value in student._mapping.items() if key != "id"}
    pool = []
    for start in range(0, needed, 2_000):
        pool += db.session.scalars(insert(table).returning(table.c.id), [
            {**template, "centre_id": centre_id, "email": f"learner{n}@bench.example.org",
             "name": f"Learner {n}", "calendar_token": f"bench-calendar-{n}",
             "security_stamp": f"bench-stamp-{n}"}
            for n in range(start, min(needed, start + 2_000))])
    return pool


def attendance(session_ids: list[int], ends: list[datetime], now: datetime, student_id: int,
               pool: list[int]) -> dict[int, list[int]]:
    """Each session's learners. The measured student takes the sessions nearest now
    (``UPCOMING_OF_MEASURED`` to come, the rest past). Every other learner holds one place
    in ``SESSIONS_PER_LEARNER`` consecutive sessions, so nobody attends more than that."""
    order = sorted(range(len(session_ids)), key=lambda i: abs(ends[i] - now))
    past = [session_ids[i] for i in order if ends[i] <= now]
    coming = [session_ids[i] for i in order if ends[i] > now]
    mine = set(past[:SESSIONS_PER_LEARNER - UPCOMING_OF_MEASURED]
               + coming[:UPCOMING_OF_MEASURED])
    per_place = len(pool) // LEARNERS_PER_SESSION
    attending = {}
    for index, session_id in enumerate(session_ids):
        learners = [pool[place * per_place + index // SESSIONS_PER_LEARNER]
                    for place in range(LEARNERS_PER_SESSION)]
        if session_id in mine:
            learners[0] = student_id
        attending[session_id] = learners
    return attending


def aged(pattern: dict, session_id: int, earlier: timedelta, now: datetime) -> dict:
    """A copy of a scheduled stage for an older session: sent, and closed unanswered once
    its window has passed, as a centre's history would have it."""
    row = {**pattern, "session_id": session_id}
    for key in ("anchor_at", "due_at", "expires_at"):
        row[key] = pattern[key] - earlier
    if row["due_at"] <= now:
        row.update(status=FollowUpStatus.SENT, sent_at=row["due_at"])
    if row["expires_at"] <= now:
        row.update(status=FollowUpStatus.EXPIRED, status_changed_at=row["expires_at"])
    return row


# --- serving and load --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, target: str, env: dict, chdir: Path):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
             f"127.0.0.1:{self.port}", "--chdir", str(chdir), "--log-level", "critical",
             target], env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {target} did not start")

    def worker_rss_mb(self) -> list[float]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        sizes = []
        for pid in children.read_text().split() if children.exists() else []:
            status = Path(f"/proc/{pid}/status").read_text()
            found = re.search(r"VmRSS:\s+(\d+) kB", status)
            if found:
                sizes.append(int(found[1]) / 1024)
        return sizes

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(20)


def drain(port: int) -> None:
    """Wait until the workers have answered what the previous page's load left queued (the
    load generator stops at its deadline; the queue does not), so no page pays for another."""
    # "Degraded" (503: no scheduler runs here) is an answer too.
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=300).read()


def login_cookie(port: int, who: str) -> str:
    """Log in as a browser would, with the second factor where the page asks for it."""
    import pyotp

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"

    def post_form(path: str, data: dict) -> str:
        form = opener.open(f"{base}{path}").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        if token:
            data["csrf_token"] = token[1]
        with opener.open(f"{base}{path}", urllib.parse.urlencode(data).encode()) as answer:
            return urllib.parse.urlsplit(answer.geturl()).path

    landed = post_form("/login", {"email": f"{who}@bench.example.org", "password": PASSWORD})
    if landed == "/login/code":
        landed = post_form("/login/code", {"code": pyotp.TOTP(TOTP_SECRET).now()})
    if landed.startswith("/login"):
        raise RuntimeError(f"{who} could not log in (the login ended on {landed})")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def expect_page(port: int, path: str, cookie: str) -> None:
    """The page itself answers, not a redirect (to a login step, say): wrk counts a 302 as a
    success, and a page measured as its redirect looks faster than any page could be."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Cookie": cookie})
    try:
        status = opener.open(request).status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise RuntimeError(f"{path} answered {status}, not the page")


def load(port: int, path: str, cookie: str, seconds: int) -> tuple[float, float]:
    """(requests per second, p99 in milliseconds)."""
    if shutil.which("wrk"):
        done = subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}",
             f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)[1])
        value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout).groups()
        p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
        if "Non-2xx" in done.stdout:
            raise RuntimeError(f"{path} answered with errors:\n{done.stdout}")
        return rate, p99
    return python_load(port, path, cookie, seconds)


def python_load(port: int, path: str, cookie: str, seconds: int,
                connections: int = 16) -> tuple[float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    return len(latencies) / seconds, p99


# --- the run ------------------------------------------------------------------------------


def measure(url: str, label: str, sizes: list[int], seconds: int, base: Gunicorn) -> list:
    """Each page right after the bare page, loaded for half as long: a page's ratio is to
    the baseline of the same minute. The machine's speed drifts over a run (a shared host),
    and one baseline at the start moved every later ratio with it."""
    results = []
    for size in sizes:
        seed(url, size)
        server = Gunicorn("app:app", environment(url), ROOT)
        try:
            cookies = {who: login_cookie(server.port, who) for who in PEOPLE}
            for who, path in PAGES:
                drain(server.port)
                baseline, _p99 = load(base.port, "/", "none=1", max(seconds // 2, 2))
                expect_page(server.port, path, cookies[who])
                rate, p99 = load(server.port, path, cookies[who], seconds)
                results.append((label, size, who, path, rate, p99, baseline))
                print(f"{label:10} {size:>7} {who:10} {path:24} {rate:8.0f} req/s "
                      f"{rate / baseline:5.2f}x  p99 {p99:7.1f} ms  (bare page {baseline:.0f})",
                      flush=True)
            rss = server.worker_rss_mb()
            print(f"{label:10} {size:>7} worker RSS: "
                  + ", ".join(f"{mb:.0f} MB" for mb in rss), flush=True)
        finally:
            server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--pages", default="",
                        help="measure these pages instead, e.g. student:/dashboard,student:/me/"
                             "follow-ups (default: every hot page)")
    options = parser.parse_args()
    if options.pages:
        # Any page of the app may be named, not only the hot ones.
        PAGES[:] = [tuple(page.split(":", 1)) for page in options.pages.split(",")]
    sizes = [int(s) for s in options.sizes.split(",")]
    print(f"load generator: {'wrk -t2 -c16' if shutil.which('wrk') else 'Python, 16 connections'}"
          f", {options.seconds} s per page; gunicorn, 2 workers")
    base = Gunicorn("web_baseline:app", {**os.environ}, ROOT / "bench")
    try:
        baseline, baseline_p99 = load(base.port, "/", "none=1", options.seconds)
        print(f"baseline: bare Flask, 50-row Jinja list: {baseline:.0f} req/s, "
              f"p99 {baseline_p99:.1f} ms (measured again before each page)", flush=True)
        targets = []
        with tempfile.TemporaryDirectory() as folder:
            targets.append(("SQLite", f"sqlite:///{folder}/bench.sqlite3"))
            if os.environ.get("SIMDEBRIEF_BENCH_POSTGRES_URL"):
                targets.append(("PostgreSQL", os.environ["SIMDEBRIEF_BENCH_POSTGRES_URL"]))
            results = []
            for label, url in targets:
                results += measure(url, label, sizes, options.seconds, base)
    finally:
        base.stop()
    print("\np99 growth from the smallest to the largest size (goal: at most 1.5x):")
    for label, _url in targets:
        for who, path in PAGES:
            mine = [r for r in results if r[0] == label and r[2] == who and r[3] == path]
            if len(mine) > 1:
                print(f"{label:10} {who:10} {path:24} {mine[-1][5] / mine[0][5]:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
