"""PostgreSQL connections: a transaction begins at its first write, and a connection is
pinged only after it sat idle.

**Transactions.**
A connection stays in psycopg's autocommit mode while it only reads: each SELECT runs on its
own, and sees what was committed before it began, exactly as it would at READ COMMITTED inside
a transaction. A page that only reads then costs no BEGIN and no COMMIT: two of the eight round
trips of a learner's home, each a wake-up of the server on a busy machine. Just before the first
statement that is not a plain read (INSERT, UPDATE, DELETE, a SELECT that locks rows, a
SAVEPOINT, DDL) the connection leaves autocommit mode, and psycopg begins the transaction with
that statement; it ends as before, at the session's commit or rollback, and the connection
reads in autocommit mode again once it is idle. The reads before the first write and the
writes after it therefore see the database as READ COMMITTED would, as SQLite's deferred reads
do (``sqlite_locking``); the code allows for that everywhere (conditional updates, claim
tokens, ``FOR UPDATE SKIP LOCKED``, which begins the transaction it locks in).

It also keeps psycopg's prepared statements: psycopg prepares a statement once it has run five
times on a connection, and forgets every one on a ROLLBACK, which a request that only read
never sends now. A connection whose isolation the code sets itself (``AUTOCOMMIT`` for
``VACUUM``, ``REPEATABLE READ`` for reads that must share one snapshot) is left as it is.

**Pings.** A connection taken from the pool is checked with an empty statement only when it
has been idle for ``PING_AFTER_IDLE_SECONDS``; if that fails, the pool replaces it (SQLAlchemy
retries the checkout with a fresh connection). SQLAlchemy's ``pool_pre_ping`` pinged at every
checkout: a round trip on every request, one in six of a list page's. A connection used in the
last moments is taken as it is: should the server have restarted within that moment, the one
request on it fails and the pool discards every connection of before the restart, as it
would for a failure in the middle of a request.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import Connection as PsycopgConnection
from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

#: A connection idle this long is pinged before it is used again.
PING_AFTER_IDLE_SECONDS = 2.0
_IDLE_SINCE = "simdebrief_idle_since"

#: First words of statements that only read.
_READING_WORDS = ("SELECT", "SHOW")
#: A SELECT with one of these locks rows until its transaction ends: it needs one.
_LOCKING_CLAUSES = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")
_IDLE = TransactionStatus.IDLE


def only_reads(statement: str) -> bool:
    """Whether a statement reads without locking (it may run outside a transaction)."""
    return (statement.lstrip()[:6].upper().startswith(_READING_WORDS)
            and not any(clause in statement for clause in _LOCKING_CLAUSES))


def install(engine: Engine) -> None:
    """These hooks, on one PostgreSQL (psycopg) engine of the app's (``create_app`` installs
    them, and imports this module, with psycopg, only for such an engine)."""
    event.listen(engine, "connect", _read_in_autocommit)
    event.listen(engine, "checkin", _back_to_reading)
    event.listen(engine, "checkout", _ping_after_idle)
    event.listen(engine, "before_cursor_execute", _begin_at_first_write)


def _read_in_autocommit(dbapi_connection: PsycopgConnection, record) -> None:
    dbapi_connection.autocommit = True
    record.info[_IDLE_SINCE] = time.monotonic()


def _back_to_reading(dbapi_connection: PsycopgConnection | None, record) -> None:
    """A connection returns to the pool idle (its transaction committed or rolled back): its
    next user starts reading without a transaction, the ping included."""
    if dbapi_connection is not None and not dbapi_connection.closed:
        record.info[_IDLE_SINCE] = time.monotonic()
        if dbapi_connection.info.transaction_status == _IDLE:
            dbapi_connection.autocommit = True


def _ping_after_idle(dbapi_connection: PsycopgConnection, record, _proxy) -> None:
    if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.execute(";")
    except psycopg.Error as error:  # gone (a restart, a dropped network): use a new one
        raise DisconnectionError(str(error)) from error


def _begin_at_first_write(connection, cursor, statement, _parameters, _context,
                          _executemany) -> None:
    dbapi_connection = cursor.connection
    if dbapi_connection.info.transaction_status != _IDLE:
        return  # inside a transaction: it goes on as it is
    reading = only_reads(statement)
    if dbapi_connection.autocommit == reading:
        return
    if "isolation_level" in connection.get_execution_options():
        return  # the code chose itself: AUTOCOMMIT for VACUUM, one snapshot for a report
    dbapi_connection.autocommit = reading
