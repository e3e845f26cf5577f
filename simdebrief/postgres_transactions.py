"""PostgreSQL: a transaction begins at its first write, so reading sends no BEGIN or COMMIT.

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
"""

from __future__ import annotations

from psycopg import Connection as PsycopgConnection
from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

#: First words of statements that only read.
_READING_WORDS = ("SELECT", "SHOW")
#: A SELECT with one of these locks rows until its transaction ends: it needs one.
_LOCKING_CLAUSES = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")
_IDLE = TransactionStatus.IDLE


def only_reads(statement: str) -> bool:
    """Whether a statement reads without locking (it may run outside a transaction)."""
    return (statement.lstrip()[:6].upper().startswith(_READING_WORDS)
            and not any(clause in statement for clause in _LOCKING_CLAUSES))


@event.listens_for(Pool, "connect")
def _read_in_autocommit(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, PsycopgConnection):
        dbapi_connection.autocommit = True


@event.listens_for(Pool, "checkin")
def _back_to_reading(dbapi_connection, _record) -> None:
    """A connection returns to the pool idle (its transaction committed or rolled back): its
    next user starts reading without a transaction, the pool's ping included."""
    if isinstance(dbapi_connection, PsycopgConnection) and not dbapi_connection.closed \
            and dbapi_connection.info.transaction_status == _IDLE:
        dbapi_connection.autocommit = True


@event.listens_for(Engine, "before_cursor_execute")
def _begin_at_first_write(connection, cursor, statement, _parameters, _context,
                          _executemany) -> None:
    dbapi_connection = cursor.connection
    if not isinstance(dbapi_connection, PsycopgConnection) \
            or dbapi_connection.info.transaction_status != _IDLE:
        return  # another database, or inside a transaction: it goes on as it is
    reading = only_reads(statement)
    if dbapi_connection.autocommit == reading:
        return
    if "isolation_level" in connection.get_execution_options():
        return  # the code chose itself: AUTOCOMMIT for VACUUM, one snapshot for a report
    dbapi_connection.autocommit = reading
