"""PostgreSQL: a request that only read ends its transaction with COMMIT, not ROLLBACK.

psycopg prepares a statement on a connection once it has run there five times, so that
PostgreSQL plans it once. A ROLLBACK makes psycopg forget every prepared statement of the
connection (``DEALLOCATE ALL``), and every request that only reads ended in one when its
session was removed: each query of each page was parsed and planned again every time (0.3 to
2 ms for the ORM's joins, more than running them), and the counts never reached five.

A transaction that only read commits to the same effect and keeps them. "Only read" is
decided from what was sent: every statement of the transaction began with SELECT or SHOW, and
the session holds no change to flush. Anything else (a write, a request that failed) ends as
before. Only requests being served end this way: the request a job or command pushes to build
links (``emails.composer.link_context``) ends in the middle of the job's transaction, which
must go on holding what it locked.
"""

from __future__ import annotations

import logging

from flask import Flask, g, request_started
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

_WROTE = "simdebrief.transaction_wrote"
_READING_WORDS = ("SELECT", "SHOW")
_SERVING = "simdebrief_serving_request"


def _mark_served_request(_app, **_extra) -> None:
    g.setdefault(_SERVING, True)


request_started.connect(_mark_served_request, weak=False)


@event.listens_for(Engine, "begin")
def _new_transaction(connection) -> None:
    connection.info[_WROTE] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(connection, _cursor, statement, _parameters, _context, _many) -> None:
    if not connection.info.get(_WROTE) \
            and not statement.lstrip()[:6].upper().startswith(_READING_WORDS):
        connection.info[_WROTE] = True


def only_read(session) -> bool:
    """Whether the session's open transaction (on PostgreSQL) has only read so far."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    connection = session.connection()
    return connection.dialect.name == "postgresql" and not connection.info.get(_WROTE, True)


def register(app: Flask, db) -> None:
    @app.teardown_request
    def _commit_what_only_read(error=None) -> None:
        served = g.pop(_SERVING, False)
        if served and error is None and db.session.registry.has():
            session = db.session()
            if only_read(session):
                try:
                    session.commit()
                except SQLAlchemyError:  # the page is sent; nothing it read is lost
                    log.warning("ending a read-only transaction failed", exc_info=True)
                    session.rollback()
