"""On PostgreSQL a transaction begins at its first write: a page that only reads sends no
BEGIN, COMMIT or ROLLBACK (so psycopg keeps the statements it prepared), while whatever
writes is still one transaction, rolled back whole when it fails, and a row lock is held
until its transaction ends. A connection in use is not pinged; one that sat idle is, and is
replaced when the server has dropped it."""

from __future__ import annotations

import psycopg
import pytest
from flask import abort
from psycopg.pq import TransactionStatus
from sqlalchemy import event, func, insert, select, text, update

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, User
from tests.conftest import client_for

pytestmark = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def wire(app):
    """Each statement sent, with whether a transaction was open when it was sent, and the
    commands sent besides (BEGIN, COMMIT, ROLLBACK, and the pool's ping ";")."""
    sent: list[tuple[str, bool]] = []
    commands: list[bytes] = []
    with app.app_context():
        engine = db.engine

    def statement(_connection, cursor, text_, _parameters, _context, _many):
        open_ = cursor.connection.info.transaction_status != TransactionStatus.IDLE
        sent.append((" ".join(text_.split())[:60], open_ or not cursor.connection.autocommit))

    original, original_execute = psycopg.Connection._exec_command, psycopg.Cursor.execute

    def command(self, command_, *args, **kwargs):
        commands.append(bytes(command_))
        return original(self, command_, *args, **kwargs)

    def execute(self, query, *args, **kwargs):
        if isinstance(query, str) and query.strip() == ";":  # a ping, ours or SQLAlchemy's
            commands.append(b";")
        return original_execute(self, query, *args, **kwargs)

    event.listen(engine, "before_cursor_execute", statement)
    psycopg.Connection._exec_command = command
    psycopg.Cursor.execute = execute
    try:
        yield sent, commands
    finally:
        psycopg.Connection._exec_command = original
        psycopg.Cursor.execute = original_execute
        event.remove(engine, "before_cursor_execute", statement)


def prepared_statements() -> int:
    return db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))


def test_every_hot_page_reads_without_a_transaction_and_keeps_its_prepared_statements(
        app, people, clock, wire):
    """A page whose queries all only read sends them outside any transaction, and nothing
    else (no ping: its connection was in use a moment ago); a statement that does not read
    as a read (a CTE's WITH, say) would begin a transaction, and a failing test names it."""
    from tests.web.test_page_queries import HOT_PAGES, History

    sent, commands = wire
    History(app, people, clock.now()).grow_to(20)
    clients = {who: client_for(app, people, who) for who in {w for w, _url in HOT_PAGES}}
    for who, url in HOT_PAGES:
        for _ in range(6):  # psycopg prepares a statement from its fifth run on a connection
            assert clients[who].get(url).status_code == 200, (who, url)
        sent.clear()
        commands.clear()
        assert clients[who].get(url).status_code == 200
        assert sent and not [s for s, in_transaction in sent if in_transaction], (who, url, sent)
        assert commands == [], (who, url, commands)
    with app.app_context():
        assert prepared_statements() > 0


def test_a_request_that_writes_is_one_transaction_and_fails_whole(app, people, wire):
    _sent, commands = wire

    def writes_twice_then_fails():
        db.session.scalar(select(func.count(AuditEvent.id)))
        db.session.execute(insert(AuditEvent).values(
            at=func.now(), action="test.first", object_type="test", object_id="1"))
        db.session.execute(insert(AuditEvent).values(
            at=func.now(), action="test.second", object_type="test", object_id="1"))
        db.session.flush()
        raise RuntimeError("a bug after two writes")

    def writes_and_forgets():
        db.session.execute(insert(AuditEvent).values(
            at=func.now(), action="test.forgotten", object_type="test", object_id="1"))
        return "done"

    def reads_then_fails():
        db.session.scalar(select(func.count(AuditEvent.id)))
        abort(409)

    app.add_url_rule("/test/error", view_func=writes_twice_then_fails)
    app.add_url_rule("/test/writes", view_func=writes_and_forgets)
    app.add_url_rule("/test/fails", view_func=reads_then_fails)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    admin = client_for(app, people, "admin")
    commands.clear()
    assert admin.get("/test/error").status_code == 500
    assert commands[:2] == [b"BEGIN", b"ROLLBACK"], commands  # then psycopg's DEALLOCATE ALL
    commands.clear()
    assert admin.get("/test/writes").status_code == 200
    assert commands[:2] == [b"BEGIN", b"ROLLBACK"], commands
    commands.clear()
    assert admin.get("/test/fails").status_code == 409
    assert commands == []  # an error page that only read is still only a read
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action.in_(("test.first", "test.second", "test.forgotten")))) == 0


def test_a_row_lock_is_held_until_its_transaction_ends(app, people):
    """``FOR UPDATE`` (the claims' ``SKIP LOCKED``) begins the transaction it locks in: a
    second connection finds the row locked until the first commits."""
    with app.app_context():
        holder = db.session.scalars(select(User).where(User.id == people.ids["student"])
                                    .with_for_update()).one()
        with db.engine.connect() as other:
            assert other.execute(select(User.id).where(User.id == holder.id)
                                 .with_for_update(skip_locked=True)).all() == []
            other.rollback()
            db.session.execute(update(User).where(User.id == holder.id)
                               .values(name="Locked then renamed"))
            db.session.commit()
            assert other.execute(select(User.id).where(User.id == holder.id)
                                 .with_for_update(skip_locked=True)).all() == [(holder.id,)]
            other.rollback()


def test_a_jobs_link_building_request_leaves_the_jobs_transaction_open(app, people):
    """A job locks rows, builds a link in a made-up request, then writes: the made-up
    request ending must not end the job's transaction and release its locks."""
    from flask import url_for

    from simdebrief.emails.composer import link_context

    with app.app_context():
        db.session.scalars(select(User).with_for_update()).all()
        assert db.session.connection().connection.dbapi_connection.info.transaction_status \
            == TransactionStatus.INTRANS
        with link_context():
            assert url_for("main.dashboard").endswith("/dashboard")
        assert db.session.connection().connection.dbapi_connection.info.transaction_status \
            == TransactionStatus.INTRANS
        db.session.rollback()


def test_a_connection_that_sat_idle_is_pinged_and_replaced_when_the_server_dropped_it(
        app, people, wire, monkeypatch):
    from simdebrief import postgres_connections

    _sent, commands = wire
    learner = client_for(app, people, "student")
    assert learner.get("/dashboard").status_code == 200
    monkeypatch.setattr(postgres_connections, "PING_AFTER_IDLE_SECONDS", 0.0)
    with app.app_context():
        url = db.engine.url
    # The server drops every connection of the app (a restart, a network failure).
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(False),
                         autocommit=True) as admin_connection:
        dropped = admin_connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert dropped >= 1
    commands.clear()
    assert learner.get("/dashboard").status_code == 200  # not a 500: a new connection
    assert b";" in commands
