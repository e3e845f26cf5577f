"""SQLite connections: foreign keys, WAL, a busy timeout, a lower() for every alphabet, and
who takes the write lock when.

SQLite's own lower() folds the ASCII letters only, so "Østergaard" was not found by
"østergaard" in a learner search, and names sorted apart by case outside ASCII; each
connection gets Python's instead, which folds them as PostgreSQL's lower() does. No index is
built on lower(), so none depends on the built-in.

Python 3.11's sqlite3 starts transactions lazily and never for SELECT; the connect hook turns
that off so SQLAlchemy's ``begin`` event owns BEGIN. A write (POST, jobs, most commands)
begins ``BEGIN IMMEDIATE``: it takes the write lock up front, so a read-then-write never fails
half way on a busy database. A read (GET/HEAD requests, and code run inside
:func:`reads_first`) begins a deferred transaction, which in WAL mode never waits for a
writer. Should such a transaction write after all (a login session's last-seen time, an
audit event on a read), it is restarted as ``BEGIN IMMEDIATE`` just before its first write:
it has only read, so nothing is lost, and a deferred transaction is never upgraded in place
(which SQLite refuses with "database is locked" when another write came in between). The
reads before the restart and the writes after it therefore see the database as PostgreSQL's
READ COMMITTED would, which the code already allows for.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_app_context, request, request_started, request_tearing_down
from sqlalchemy import event
from sqlalchemy.engine import Engine

#: Methods whose requests begin deferred transactions.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: First words of statements that only read (and BEGIN itself, emitted by the hook below).
_READING_WORDS = frozenset({"SELECT", "WITH", "PRAGMA", "EXPLAIN", "BEGIN"})
_DEFERRED = "simdebrief.sqlite_deferred"
_reads_first: ContextVar[bool] = ContextVar("simdebrief_reads_first", default=False)


@contextmanager
def reads_first() -> Iterator[None]:
    """Begin this block's SQLite transactions deferred (e.g. a command that only reports)."""
    token = _reads_first.set(True)
    try:
        yield
    finally:
        _reads_first.reset(token)


def _mark_reading_request(_app, **_extra) -> None:
    """Only requests being served: a job's made-up request context (for links) still writes."""
    g.sqlite_reads_first = request.method in READING_METHODS


def _unmark(_app, **_extra) -> None:
    g.pop("sqlite_reads_first", None)


request_started.connect(_mark_reading_request, weak=False)
request_tearing_down.connect(_unmark, weak=False)


def _reading() -> bool:
    return _reads_first.get() or (has_app_context() and g.get("sqlite_reads_first", False))


def install(engine: Engine) -> None:
    """These hooks, on one SQLite engine of the app's (``create_app`` installs them). They
    are the engine's own rather than every engine's: a PostgreSQL engine does not call them
    for each statement only to be turned away."""
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    event.listen(engine, "before_cursor_execute", _take_write_lock_before_first_write)


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _begin_sqlite(connection) -> None:
    deferred = _reading()
    connection.info[_DEFERRED] = False
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")
    connection.info[_DEFERRED] = deferred


def _writes(statement: str, context) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    words = statement.split(None, 1)
    return bool(words) and words[0].upper() not in _READING_WORDS


def _take_write_lock_before_first_write(connection, cursor, statement, parameters, context,
                                        executemany):
    if not connection.info.get(_DEFERRED) or not _writes(statement, context):
        return
    connection.info[_DEFERRED] = False
    dbapi_connection = connection.connection.dbapi_connection
    dbapi_connection.execute("ROLLBACK")
    dbapi_connection.execute("BEGIN IMMEDIATE")
