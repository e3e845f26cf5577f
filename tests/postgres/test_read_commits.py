"""On PostgreSQL a request that only read ends in COMMIT, so psycopg keeps the statements it
prepared and PostgreSQL plans each page's queries once per connection; anything that wrote
without committing, or failed, still ends in ROLLBACK and leaves nothing behind."""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import event, func, insert, select, text

from simdebrief.extensions import db
from simdebrief.models import AuditEvent
from tests.conftest import client_for

pytestmark = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def endings(app):
    """What each request's transaction ended in, in order."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def commit(_connection):
        seen.append("commit")

    def rollback(_connection):
        seen.append("rollback")

    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    yield seen
    event.remove(engine, "commit", commit)
    event.remove(engine, "rollback", rollback)


def prepared_statements() -> int:
    return db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))


def test_pages_that_only_read_commit_and_keep_their_prepared_statements(
        app, people, endings):
    learner = client_for(app, people, "student")
    for _ in range(7):  # psycopg prepares a statement from its fifth run on a connection
        assert learner.get("/dashboard").status_code == 200
    assert endings[-1] == "commit" and "rollback" not in endings[-7:]
    with app.app_context():
        assert prepared_statements() > 0


def test_a_request_that_wrote_without_committing_still_rolls_back(app, people, endings):
    def writes_and_forgets():
        db.session.execute(insert(AuditEvent).values(
            at=func.now(), action="test.forgotten", object_type="test", object_id="1"))
        return "done"

    def reads_then_fails():
        db.session.scalar(select(func.count(AuditEvent.id)))
        abort(409)

    def fails_with_an_error():
        db.session.scalar(select(func.count(AuditEvent.id)))
        raise RuntimeError("a bug")

    app.add_url_rule("/test/writes", view_func=writes_and_forgets)
    app.add_url_rule("/test/fails", view_func=reads_then_fails)
    app.add_url_rule("/test/error", view_func=fails_with_an_error)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    admin = client_for(app, people, "admin")
    assert admin.get("/test/writes").status_code == 200
    assert endings[-1] == "rollback"
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))
                                 .where(AuditEvent.action == "test.forgotten")) == 0
    assert admin.get("/test/error").status_code == 500
    assert endings[-1] == "rollback"
    assert admin.get("/test/fails").status_code == 409
    assert endings[-1] == "commit"  # an error page that only read is still only a read


def test_a_jobs_link_building_request_leaves_the_jobs_transaction_open(app, people, endings):
    """A job reads (and locks) rows, builds a link in a made-up request, then writes: the
    made-up request ending must not end the job's transaction and release its locks."""
    from flask import url_for

    from simdebrief.emails.composer import link_context

    with app.app_context():
        db.session.scalar(select(func.count(AuditEvent.id)))
        before = list(endings)
        with link_context():
            assert url_for("main.dashboard").endswith("/dashboard")
        assert endings == before and db.session().in_transaction()
        db.session.rollback()


def test_every_hot_page_ends_in_commit(app, people, clock, endings):
    """A page whose queries all only read must not end in ROLLBACK: a statement that does
    not begin with SELECT (a CTE's WITH, say) would make it look like a write, and every
    query of the page would be planned again on every view."""
    from tests.web.test_page_queries import HOT_PAGES, History

    History(app, people, clock.now()).grow_to(20)
    clients = {who: client_for(app, people, who) for who in {w for w, _url in HOT_PAGES}}
    for who, url in HOT_PAGES:
        endings.clear()
        for _ in range(2):
            assert clients[who].get(url).status_code == 200, (who, url)
        assert endings and "rollback" not in endings, (who, url, endings)
