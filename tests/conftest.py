"""Shared fixtures: app with a fresh database per test, clients per role, clock, SMTP server.

Tests run on SQLite always; tests marked with ``both_databases`` run on PostgreSQL too when
SIMDEBRIEF_TEST_POSTGRES_URL is set (CI requires it by setting SIMDEBRIEF_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, make_url, text

from simdebrief import create_app
from simdebrief.clock import FrozenClock
from simdebrief.extensions import db
from simdebrief.models import Centre, Role, SupporterTier
from simdebrief.services import accounts

POSTGRES_URL = os.environ.get("SIMDEBRIEF_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("SIMDEBRIEF_REQUIRE_POSTGRES") == "1"
PASSWORD = "correct horse battery staple"
START = datetime(2026, 10, 20, 7, 0, tzinfo=UTC)

TRANSLATIONS = Path(__file__).resolve().parent.parent / "simdebrief" / "translations"


def pytest_configure(config):
    """Compile catalogues whose .po is newer than their .mo, as ``make install`` does.

    Running pytest straight from a clone (without make) then still tests every language.
    Each worker writes through a temporary file, so parallel workers never see half a file.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        temporary = mo_path.with_name(f".{os.getpid()}.{mo_path.name}")
        with temporary.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(temporary, mo_path)


both_databases = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def postgres_url_or_skip() -> str:
    """The test database; under pytest-xdist each worker gets its own (``<name>_gw0``, …)."""
    if POSTGRES_URL:
        return worker_database(POSTGRES_URL)
    reason = "PostgreSQL tests need SIMDEBRIEF_TEST_POSTGRES_URL (CI sets it)"
    if REQUIRE_POSTGRES:
        pytest.fail(reason + ", and SIMDEBRIEF_REQUIRE_POSTGRES=1 forbids skipping")
    pytest.skip(reason)


def worker_database(url: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                   {"name": name})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def db_url(request, tmp_path) -> str:
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        url = postgres_url_or_skip()
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class CollectingHandler:
    messages: list[Message] = field(default_factory=list)
    #: Addresses refused for good ("550 no such mailbox").
    refused: set[str] = field(default_factory=set)
    #: Seconds the server takes to accept each message (a slow mail server).
    delay: float = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on loopback that can be stopped and started again on its port."""

    def __init__(self):
        self.port = free_port()
        self.handler = CollectingHandler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Message]:
        """Messages arrive on the server's own thread; give it a moment to hand them over."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def make_app(db_url: str, clock: FrozenClock, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "WTF_CSRF_ENABLED": False,
        "SIMDEBRIEF_CLOCK": clock,
        "SIMDEBRIEF_PASSWORD_HASH_PROFILE": "test",
        "SIMDEBRIEF_SMTP_HOST": None,
        "SIMDEBRIEF_BASE_URL": "https://sim.example.org",
        "SIMDEBRIEF_MAIL_FROM": "SimDebrief <no-reply@sim.example.org>",
        "SIMDEBRIEF_SCHEDULER": False,
    }
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app_config() -> dict:
    """Override in a module to change the app's settings."""
    return {}


@pytest.fixture
def app(db_url, clock, app_config):
    app = make_app(db_url, clock, **app_config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def smtp_app(db_url, clock, smtp_server, app_config):
    app = make_app(db_url, clock, SIMDEBRIEF_SMTP_HOST="127.0.0.1",
                   SIMDEBRIEF_SMTP_PORT=smtp_server.port, SIMDEBRIEF_SMTP_TIMEOUT=3,
                   **app_config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@dataclass
class People:
    """Ids and emails of the seeded people, one per role, plus a second student."""

    centre_id: int
    other_centre_id: int
    ids: dict[str, int]
    emails: dict[str, str]


SEED = {
    "admin": ("Ada Admin", Role.ADMIN, None),
    "instructor": ("Ivan Instructor", Role.INSTRUCTOR, None),
    "student": ("Sara Student", Role.STUDENT, None),
    "student2": ("Søren Andersen", Role.STUDENT, None),
    "peer": ("Pernille Peer", Role.SUPPORTER, SupporterTier.PEER),
    "professional": ("Paul Psychologist", Role.SUPPORTER, SupporterTier.PROFESSIONAL),
    "other_admin": ("Otto Elsewhere", Role.ADMIN, None),
    "other_student": ("Olga Elsewhere", Role.STUDENT, None),
}


def seed_people(app, now: datetime) -> People:
    with app.app_context():
        # Two-factor login is tested in tests/web/test_two_factor.py; elsewhere a password
        # is enough so that each test can log in in one step.
        centre = Centre(name="Herlev Sim Centre", timezone="Europe/Copenhagen", created_at=now,
                        support_contacts="Peer supporters: ask at the front desk.",
                        require_two_factor=False)
        other = Centre(name="Other Centre", timezone="Europe/Copenhagen", created_at=now,
                       require_two_factor=False)
        db.session.add_all([centre, other])
        ids, emails = {}, {}
        for key, (name, role, tier) in SEED.items():
            email = f"{key}@example.org"
            user = accounts.create_user(
                db.session, centre=other if key.startswith("other") else centre, now=now,
                password=PASSWORD, data=accounts.NewUser(email, name, role, tier),
            )
            ids[key], emails[key] = user.id, email
        db.session.commit()
        return People(centre.id, other.id, ids, emails)


@pytest.fixture
def people(app, clock) -> People:
    return seed_people(app, clock.now())


def login(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def client(app):
    return app.test_client()


def client_for(app, people: People, key: str):
    client = app.test_client()
    response = login(client, people.emails[key])
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    return client


@pytest.fixture
def admin_client(app, people):
    return client_for(app, people, "admin")


@pytest.fixture
def instructor_client(app, people):
    return client_for(app, people, "instructor")


@pytest.fixture
def student_client(app, people):
    return client_for(app, people, "student")


@pytest.fixture
def supporter_client(app, people):
    return client_for(app, people, "peer")


LINK_PATTERN = re.compile(r"https://sim\.example\.org(/\S+)")


def link_in(body: str) -> str:
    """The path of the first SimDebrief link in an email body."""
    match = LINK_PATTERN.search(body)
    assert match, f"no link in email body:\n{body}"
    return match.group(1)


def delivered_bodies(app, *where) -> list[str]:
    """The bodies of the outbox emails matching ``where`` as the relay would send them now,
    with their live links signed in (the stored bodies hold only a placeholder)."""
    from sqlalchemy import select

    from simdebrief.emails import links
    from simdebrief.jobs import job_context
    from simdebrief.models import OutboxEmail

    with job_context(app):
        now = app.config["SIMDEBRIEF_CLOCK"].now()
        return [links.prepare(db.session, email, now).body for email in db.session.scalars(
            select(OutboxEmail).where(*where).order_by(OutboxEmail.id))]


@dataclass
class Planning:
    """The shipped scenario library synced, two rooms and a cohort in the seeded centre."""

    versions: dict[str, int]  # slug -> current version id
    room_id: int
    small_room_id: int
    cohort_id: int


def sync_shipped_library(app, now: datetime) -> dict[str, int]:
    from simdebrief import scenarios
    from simdebrief.services import library

    with app.app_context():
        library.sync_library(db.session, directory=scenarios.default_library_dir(), now=now)
        db.session.commit()
        return {s.slug: s.current_version_id for s in library.active_scenarios(db.session)}


@pytest.fixture
def planning(app, people, clock) -> Planning:
    from simdebrief.services import directory

    versions = sync_shipped_library(app, clock.now())
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        room = directory.create_room(db.session, centre=centre, name="Sim room 1", capacity=8)
        small = directory.create_room(db.session, centre=centre, name="Skills lab", capacity=1)
        cohort = directory.create_cohort(db.session, centre=centre, name="Master year 1")
        from simdebrief.models import User

        for key in ("student", "student2"):
            directory.add_student(cohort, db.session.get(User, people.ids[key]))
        db.session.commit()
        return Planning(versions, room.id, small.id, cohort.id)
