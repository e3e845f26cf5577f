"""The follow-up tallies the completion figures read: always the same counts as the
follow-ups themselves, whatever changed them (the ORM, bulk updates, cascades, erasure)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import delete, func, select, text, update

from simdebrief.extensions import db
from simdebrief.models import Cohort, FollowUp, FollowUpStatus, FollowUpTally, SimSession, User
from simdebrief.services import privacy
from simdebrief.services.followups import figures, stage_tallies
from tests.conftest import both_databases
from tests.web.test_group_figures import centre_with_sessions


def counted_from_follow_ups() -> Counter:
    keys = (FollowUp.plan_id, FollowUp.cohort_id, FollowUp.stage_id, FollowUp.status)
    return Counter({tuple(key): count for *key, count in db.session.execute(
        select(*keys, func.count()).group_by(*keys))})


def counted_from_tallies() -> Counter:
    keys = (FollowUpTally.plan_id, FollowUpTally.cohort_id, FollowUpTally.stage_id,
            FollowUpTally.status)
    total = func.sum(FollowUpTally.delta)
    return Counter({tuple(key): count for *key, count in db.session.execute(
        select(*keys, total).group_by(*keys).having(total != 0))})


def tally_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(FollowUpTally))


@both_databases
def test_the_tallies_follow_every_kind_of_change_and_folding_keeps_them(
        app, people, planning, clock):
    with app.app_context():
        centre, groups = centre_with_sessions(planning, [5, 6, 4], clock.now())
        (first, first_learners), (second, _), (third, _) = groups
        db.session.flush()
        assert counted_from_tallies() == counted_from_follow_ups()
        assert sum(counted_from_tallies().values()) == 15 * len(
            {f.stage_key for f in db.session.scalars(select(FollowUp))})

        # The ORM, one row at a time; and a bulk update of every stage of a session.
        answered = db.session.scalars(select(FollowUp).where(
            FollowUp.user_id == first_learners[0].id)).first()
        answered.status = FollowUpStatus.COMPLETED
        db.session.execute(update(FollowUp).where(FollowUp.session_id == second.id)
                           .values(status=FollowUpStatus.EXPIRED))
        # A change that moves no count writes no change row.
        before = tally_rows()
        db.session.execute(update(FollowUp).values(reminder_sent_at=clock.now()))
        db.session.flush()
        assert tally_rows() == before
        assert counted_from_tallies() == counted_from_follow_ups()

        # A cohort given, then removed: the database sets the follow-ups' cohort to none.
        cohort = Cohort(centre_id=centre.id, name="Year 4", created_at=clock.now())
        db.session.add(cohort)
        db.session.flush()
        db.session.execute(update(FollowUp).where(FollowUp.session_id == first.id)
                           .values(cohort_id=cohort.id))
        assert stage_tallies.stage_counts_by(db.session, "cohort_id", [cohort.id])[cohort.id]
        db.session.execute(delete(Cohort).where(Cohort.id == cohort.id))
        db.session.expire_all()
        assert counted_from_tallies() == counted_from_follow_ups()
        assert stage_tallies.stage_counts_by(db.session, "cohort_id", [cohort.id]) == {
            cohort.id: []}

        # A learner's erasure, and a session deleted with its follow-ups by the cascade.
        erased = first_learners[1]
        erased.erasure_requested_at = clock.now() - timedelta(days=1)
        admin = db.session.get(User, people.ids["admin"])
        privacy.erase_account(db.session, actor=admin, user=erased, now=clock.now())
        db.session.execute(delete(SimSession).where(SimSession.id == third.id))
        db.session.flush()
        expected = counted_from_follow_ups()
        assert sum(expected.values()) < 15 * 5
        assert counted_from_tallies() == expected

        changes = tally_rows()
        assert stage_tallies.fold(db.session) == changes
        assert tally_rows() == len(expected)
        assert counted_from_tallies() == expected
        assert stage_tallies.fold(db.session) == len(expected)
        assert counted_from_tallies() == expected

        # The figures read the tallies: the erased learner and the deleted session are gone.
        completion = figures.completion(db.session, centre)
        totals = {stage.total for group in completion.per_plan for stage in group.stages}
        assert totals == {5 - 1 + 6}


#: Every trigger that keeps a figure's bookkeeping (``followup_tallies``, ``distress_tallies``).
TRIGGERS = {
    "sqlite": {"follow_up_tally_insert", "follow_up_tally_delete", "follow_up_tally_update",
               "distress_mark_insert", "distress_mark_delete", "distress_mark_update",
               "distress_mark_answer_delete"},
    "postgresql": {"follow_up_tally_insert_delete", "follow_up_tally_update",
                   "distress_mark_insert_delete", "distress_mark_update",
                   "distress_mark_answer_delete"},
}


def trigger_names(connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set(connection.scalars(text(query)).all())


@both_databases
def test_the_schema_the_tests_create_has_the_triggers_too(app):
    """``create_all`` (the tests, the bench) installs what the migration installs."""
    with app.app_context(), db.engine.connect() as connection:
        assert trigger_names(connection) >= TRIGGERS[connection.dialect.name]
