"""Two schedulers folding the follow-up tallies at once, while follow-ups change: no change
is counted twice or lost (PostgreSQL, where the schedulers really run side by side)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text, update

from simdebrief.extensions import db
from simdebrief.models import FollowUp, FollowUpStatus
from simdebrief.services.followups import stage_tallies
from tests.conftest import make_app
from tests.unit.test_followup_tallies import counted_from_follow_ups, counted_from_tallies
from tests.web.test_group_figures import centre_with_sessions

pytestmark = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


def wait_until_blocked(deadline_seconds: float = 20) -> None:
    """Until another connection waits for a row lock (it is then inside its fold)."""
    deadline = time.monotonic() + deadline_seconds
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            if watcher.scalar(text("SELECT count(*) FROM pg_stat_activity "
                                   "WHERE wait_event_type = 'Lock'")):
                return
            watcher.rollback()
    raise AssertionError("the second fold never waited for the first")


def test_two_folds_and_a_change_meanwhile_count_every_change_once(
        app, db_url, people, planning, clock):
    with app.app_context():
        centre_with_sessions(planning, [5, 6], clock.now())
        db.session.commit()
    other = make_app(db_url, clock)
    with other.app_context():
        # A change committed before either fold.
        db.session.execute(update(FollowUp).where(FollowUp.id == select(func.min(FollowUp.id))
                                                  .scalar_subquery())
                           .values(status=FollowUpStatus.COMPLETED))
        db.session.commit()

    errors = []

    def second_scheduler() -> None:
        try:
            with other.app_context():
                stage_tallies.fold(db.session)
                db.session.commit()
        except Exception as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)

    with app.app_context():
        stage_tallies.fold(db.session)  # holds the rows it took until it commits
        with other.app_context():
            # A follow-up changes while the first fold is open: its change rows are new.
            db.session.execute(update(FollowUp).where(FollowUp.id == select(
                func.max(FollowUp.id)).scalar_subquery()).values(status=FollowUpStatus.EXPIRED))
            db.session.commit()
        thread = threading.Thread(target=second_scheduler)
        thread.start()
        wait_until_blocked()
        db.session.commit()
        thread.join(30)
        assert not errors
        db.session.expire_all()
        expected = counted_from_follow_ups()
        assert FollowUpStatus.COMPLETED in {status for *_key, status in expected}
        assert counted_from_tallies() == expected
    with other.app_context():
        db.engine.dispose()
