"""How many follow-ups each (plan version, cohort, stage, status) holds, kept by the database.

The completion figures used to count every follow-up the centre ever scheduled on every view,
so the admin's overview slowed as the history grew. Now triggers on ``follow_up`` append a
change row (+1 for the new key, -1 for the old) whenever a follow-up is inserted, deleted or
changes status, plan, stage or cohort, in the same transaction as that change. That covers
what application code would miss: bulk updates, and the deletes and cohort resets the
database's foreign keys cascade (a learner's erasure, a session deleted, a cohort removed).
The figures add up the change rows per key; the scheduler folds them into one row per key
now and then (``stage_tallies.fold``), so a view reads a few rows per stage, not the history.

Only counts and ids, never a name or an answer: the k-rule is applied to these counts
exactly as it was to the counts taken from ``follow_up`` itself.
"""

from __future__ import annotations

from sqlalchemy import Enum, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from simdebrief.models.base import Base, create_with_tables, run_for_dialect
from simdebrief.models.followups import FollowUpStatus


class FollowUpTally(Base):
    __tablename__ = "follow_up_tally"
    __table_args__ = (Index("ix_follow_up_tally_plan", "plan_id", "stage_id", "status"),
                      Index("ix_follow_up_tally_cohort", "cohort_id", "stage_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Plain ids without foreign keys: the triggers write them as the follow-up had them,
    #: and a key whose follow-ups are gone adds up to nothing.
    plan_id: Mapped[int] = mapped_column(Integer)
    cohort_id: Mapped[int | None] = mapped_column(Integer)
    stage_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[FollowUpStatus] = mapped_column(
        Enum(FollowUpStatus, native_enum=False, length=20))
    #: +1 or -1 as written by the triggers; the sum of a key after folding.
    delta: Mapped[int] = mapped_column(Integer)


_ADD_NEW = ("INSERT INTO follow_up_tally (plan_id, cohort_id, stage_id, status, delta) "
            "VALUES (NEW.plan_id, NEW.cohort_id, NEW.stage_id, NEW.status, 1);")
_TAKE_OLD = ("INSERT INTO follow_up_tally (plan_id, cohort_id, stage_id, status, delta) "
             "VALUES (OLD.plan_id, OLD.cohort_id, OLD.stage_id, OLD.status, -1);")
_COUNTED_COLUMNS = "plan_id, cohort_id, stage_id, status"

TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER follow_up_tally_insert AFTER INSERT ON follow_up "
        "BEGIN " + _ADD_NEW + " END",
        "CREATE TRIGGER follow_up_tally_delete AFTER DELETE ON follow_up "
        "BEGIN " + _TAKE_OLD + " END",
        "CREATE TRIGGER follow_up_tally_update AFTER UPDATE OF " + _COUNTED_COLUMNS
        + " ON follow_up WHEN OLD.plan_id IS NOT NEW.plan_id "
        "OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.stage_id IS NOT NEW.stage_id "
        "OR OLD.status IS NOT NEW.status "
        "BEGIN " + _TAKE_OLD + " " + _ADD_NEW + " END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION follow_up_tally_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' THEN " + _TAKE_OLD + " END IF; "
        "IF TG_OP <> 'DELETE' THEN " + _ADD_NEW + " END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER follow_up_tally_insert_delete AFTER INSERT OR DELETE ON follow_up "
        "FOR EACH ROW EXECUTE FUNCTION follow_up_tally_change()",
        "CREATE TRIGGER follow_up_tally_update AFTER UPDATE OF " + _COUNTED_COLUMNS
        + " ON follow_up FOR EACH ROW WHEN (OLD.plan_id IS DISTINCT FROM NEW.plan_id "
        "OR OLD.cohort_id IS DISTINCT FROM NEW.cohort_id "
        "OR OLD.stage_id IS DISTINCT FROM NEW.stage_id "
        "OR OLD.status IS DISTINCT FROM NEW.status) "
        "EXECUTE FUNCTION follow_up_tally_change()",
    ],
}

#: The follow-ups as they stand, as change rows: what a new tally starts from.
BACKFILL = ("INSERT INTO follow_up_tally (plan_id, cohort_id, stage_id, status, delta) "
            "SELECT plan_id, cohort_id, stage_id, status, count(*) FROM follow_up "
            "GROUP BY plan_id, cohort_id, stage_id, status")


def install_triggers(connection) -> None:
    """Create the triggers on this connection's database (both tables must exist)."""
    run_for_dialect(connection, TRIGGERS)


create_with_tables(TRIGGERS, "follow_up", "follow_up_tally")
