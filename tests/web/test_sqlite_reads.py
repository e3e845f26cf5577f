"""On SQLite, reading a page never waits for the write lock; writing still takes it first."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import AuthSession, Centre
from simdebrief.sqlite_locking import reads_first
from tests.conftest import client_for
from tests.web.test_page_queries import counted_queries


@contextmanager
def write_lock_held_elsewhere(app):
    """A second connection holding a write transaction open, as a busy colleague would."""
    with app.app_context():
        path = db.engine.url.database
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE centre SET name = name || '!'")
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


@pytest.mark.parametrize("who, page", [("student", "/dashboard"), ("instructor", "/sessions/"),
                                       ("admin", "/admin/follow-ups"), ("peer", "/support/"),
                                       ("student", "/me/follow-ups")])
def test_a_page_answers_while_another_connection_holds_the_write_lock(app, people, who, page):
    client = client_for(app, people, who)
    with write_lock_held_elsewhere(app):
        response = client.get(page)
    assert response.status_code == 200
    assert "Herlev Sim Centre!" not in response.get_data(as_text=True)  # nothing uncommitted


def test_a_read_that_writes_after_all_takes_the_lock_then_and_keeps_its_write(
        app, people, clock):
    client = client_for(app, people, "student")
    clock.advance(minutes=5)  # the login session's last-seen time is due a touch
    with counted_queries(app) as statements:
        assert client.get("/dashboard").status_code == 200
    assert statements[0] == "BEGIN"
    with app.app_context():
        seen = db.session.scalars(select(AuthSession.last_seen_at)
                                  .where(AuthSession.user_id == people.ids["student"])).one()
    assert seen == clock.now()


def test_a_form_post_takes_the_write_lock_before_it_reads(app, people):
    client = client_for(app, people, "student")
    with counted_queries(app) as statements:
        response = client.post("/me/support/new", data={})
    assert response.status_code < 500
    assert statements[0] == "BEGIN IMMEDIATE"


def test_code_that_only_reports_reads_under_a_held_write_lock(app, people):
    with write_lock_held_elsewhere(app), app.app_context(), reads_first():
        names = db.session.scalars(select(Centre.name)).all()
        db.session.rollback()
    assert "Herlev Sim Centre" in names


def test_a_deferred_transaction_that_writes_waits_its_turn_instead_of_failing(app, people):
    with app.app_context(), reads_first():
        db.session.scalars(select(Centre.name)).all()
        # Another connection commits a write between this transaction's read and its write;
        # upgrading the deferred transaction in place would fail with "database is locked".
        other = sqlite3.connect(db.engine.url.database, isolation_level=None)
        other.execute("UPDATE centre SET name = 'Renamed' WHERE id = ?",
                      (people.centre_id,))
        other.close()
        centre = db.session.get(Centre, people.other_centre_id)
        centre.name = "Written"
        db.session.commit()
    with app.app_context():
        assert db.session.get(Centre, people.other_centre_id).name == "Written"


def test_the_hold_is_real(app, people):
    """Guard for the tests above: the held lock does refuse another writer."""
    with app.app_context():
        path = db.engine.url.database
    with write_lock_held_elsewhere(app):
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
