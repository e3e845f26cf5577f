"""Two schedulers folding the follow-up tallies at once, while follow-ups change: no change
is counted twice or lost (PostgreSQL, where the schedulers really run side by side)."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text, update

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


def table_pages(table: str) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(text("SELECT pg_relation_size(:table) / 8192"),
                                 {"table": table})


def pages_read_for_plan(plan_id: int) -> int:
    """Buffers a completion figure's read of one plan's tally rows touches."""
    with db.engine.connect() as connection:
        plan = "\n".join(row[0] for row in connection.execute(text(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT stage_id, status, sum(delta) "
            "FROM follow_up_tally WHERE plan_id = :plan GROUP BY stage_id, status"),
            {"plan": plan_id}))
    execution = plan.split("Planning:")[0]
    top = next((line for line in execution.splitlines() if "Buffers:" in line), "")
    return sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", top))  # the whole read


def mass_change(rows: int) -> None:
    """A mass change, as a bulk reset writes it: a +1 and a -1 per follow-up changed back and
    forth, and one follow-up more that stays."""
    db.session.execute(text(
        "INSERT INTO follow_up_tally (plan_id, cohort_id, stage_id, status, delta) "
        "SELECT 424242, NULL, 1, 'SENT', CASE WHEN n % 2 = 1 THEN 1 ELSE -1 END "
        "FROM generate_series(1, :rows) AS n"), {"rows": rows + 1})
    db.session.commit()


def test_after_a_mass_change_the_job_compacts_the_tallies_so_figures_stay_quick(app, clock):
    from simdebrief.jobs import TIDY_AFTER_ROWS, fold_follow_up_tallies

    with app.app_context():
        mass_change(TIDY_AFTER_ROWS * 2)
        assert table_pages("follow_up_tally") > 50
        assert pages_read_for_plan(424242) > 50
    done = fold_follow_up_tallies(app)
    assert done["tally changes"] > TIDY_AFTER_ROWS * 2 and done["tables tidied"] == 1
    with app.app_context():
        assert stage_tallies.stage_counts_by(db.session, "plan_id", [424242]) == {
            424242: [(1, FollowUpStatus.SENT, 1)]}
        # The table holds its few rows again, and reading them touches a page or two.
        assert table_pages("follow_up_tally") <= 2
        assert pages_read_for_plan(424242) <= 2
    assert fold_follow_up_tallies(app)["tables tidied"] == 0  # nothing much removed


def test_compacting_waits_briefly_for_a_busy_table_and_leaves_it_for_next_time(
        app, clock, monkeypatch):
    from simdebrief.jobs import TIDY_AFTER_ROWS, fold_follow_up_tallies
    from simdebrief.models import base

    monkeypatch.setattr(base, "TIDY_LOCK_TIMEOUT", "200ms")
    with app.app_context():
        mass_change(TIDY_AFTER_ROWS * 2)
        with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") \
                as reader:
            # A long report reading the tallies in one snapshot holds a lock compacting
            # must wait for.
            reader.execute(text("SELECT count(*) FROM follow_up_tally"))
            started = time.monotonic()
            done = fold_follow_up_tallies(app)
            waited = time.monotonic() - started
            # The connection it used goes back to the pool without the short timeout.
            single = create_engine(db.engine.url, pool_size=1, max_overflow=0)
            assert base.tidy_after_bulk_delete(single, "follow_up_tally") == []
            with single.connect() as connection:
                assert connection.scalar(text("SHOW lock_timeout")) == "0"
            single.dispose()
            reader.rollback()
        assert done["tables tidied"] == 0 and done["tally changes"] > TIDY_AFTER_ROWS * 2
        assert waited < 10
        assert table_pages("follow_up_tally") > 50
