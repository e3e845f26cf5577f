"""Distress tallies behind the staff's follow-up figure: counts per score, kept encrypted.

A batch tally is one closed stage of one session (or one track stage version); a pool tally
adds up the batches of a kind of plan and stage key that have at least k scores. Both hold
their counts sealed like a check-in: a tally of a small group is nearly an answer. The plain
columns say only which follow-ups were counted (how many, and the sum of their check-in ids),
so the figure can tell in SQL when a batch changed (an answer erased) and count it again.

Which batches to look at again comes from the database itself: triggers on ``follow_up`` and
``check_in`` append a ``DistressBatchMark`` for every batch a change touches (a stage added,
removed, answered, sent, paused, moved; an answer deleted), in the same transaction as the
change, bulk updates and foreign-key cascades included. Time closes batches too (a stage's
window ends); ``DistressTallyState.checked_until`` says up to when that was looked at. So a
view asks about the few batches that changed since, never about the centre's whole history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from simdebrief.crypto import Sealed, listen_for_inserts
from simdebrief.models.base import Base, UTCDateTime, create_with_tables, run_for_dialect


class DistressBatchTally(Base):
    __tablename__ = "distress_batch_tally"
    __table_args__ = (UniqueConstraint("centre_id", "batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"))
    #: "<session id or ->:<stage id>"; plain ids without foreign keys, so a batch whose rows
    #: went away is still found and taken out of its pool.
    batch: Mapped[str] = mapped_column(String(40))
    session_id: Mapped[int | None] = mapped_column(Integer)
    stage_id: Mapped[int] = mapped_column(Integer)
    plan_kind: Mapped[str] = mapped_column(String(20))
    stage_key: Mapped[str] = mapped_column(String(40))
    #: Completed, not skipped follow-ups counted, and the sum of their check-in ids.
    answered: Mapped[int] = mapped_column(Integer)
    checkin_ids: Mapped[int] = mapped_column(BigInteger)
    counts_sealed: Mapped[str | None] = mapped_column("counts", Text)
    #: {score: learners}; the batch adds to its pool only with at least k scores.
    counts = Sealed("counts_sealed", table="distress_batch_tally", column="counts",
                    as_json=True)


class DistressPoolTally(Base):
    __tablename__ = "distress_pool_tally"
    __table_args__ = (UniqueConstraint("centre_id", "plan_kind", "stage_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"))
    plan_kind: Mapped[str] = mapped_column(String(20))
    stage_key: Mapped[str] = mapped_column(String(40))
    #: The k the pool was built with; a centre that changes its minimum group size is
    #: counted again from the start.
    k: Mapped[int] = mapped_column(Integer)
    counts_sealed: Mapped[str | None] = mapped_column("counts", Text)
    counts = Sealed("counts_sealed", table="distress_pool_tally", column="counts",
                    as_json=True)


class DistressBatchMark(Base):
    """A batch (one stage of one session, or a track stage version) some change touched
    since the centre's tallies were last brought up to date. Written by triggers only."""

    __tablename__ = "distress_batch_mark"
    __table_args__ = (Index("ix_distress_batch_mark_centre", "centre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Plain ids, as the follow-up had them: a mark outlives the rows it names.
    centre_id: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[int | None] = mapped_column(Integer)
    stage_id: Mapped[int] = mapped_column(Integer)


class DistressTallyState(Base):
    """Up to when a centre's tallies took account of batches closing as time passes."""

    __tablename__ = "distress_tally_state"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"),
                                           primary_key=True)
    checked_until: Mapped[datetime] = mapped_column(UTCDateTime)


for _model in (DistressBatchTally, DistressPoolTally):
    listen_for_inserts(_model)


_MARK_NEW = ("INSERT INTO distress_batch_mark (centre_id, session_id, stage_id) "
             "VALUES (NEW.centre_id, NEW.session_id, NEW.stage_id);")
_MARK_OLD = ("INSERT INTO distress_batch_mark (centre_id, session_id, stage_id) "
             "VALUES (OLD.centre_id, OLD.session_id, OLD.stage_id);")
#: The batch of a deleted answer, found through the follow-up it answered (by its key: the
#: follow-up's own link to the answer may already have been cleared by the cascade).
_MARK_ANSWERED = ("INSERT INTO distress_batch_mark (centre_id, session_id, stage_id) "
                  "SELECT centre_id, session_id, stage_id FROM follow_up "
                  "WHERE id = OLD.followup_id;")
#: What decides a batch's figure: who answered, with which answer, and whether (and until
#: when) anyone still can.
_WATCHED = "status, checkin_id, session_id, stage_id, due_at, expires_at"

MARK_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER distress_mark_insert AFTER INSERT ON follow_up "
        "BEGIN " + _MARK_NEW + " END",
        "CREATE TRIGGER distress_mark_delete AFTER DELETE ON follow_up "
        "BEGIN " + _MARK_OLD + " END",
        "CREATE TRIGGER distress_mark_update AFTER UPDATE OF " + _WATCHED + " ON follow_up "
        "WHEN OLD.status IS NOT NEW.status OR OLD.checkin_id IS NOT NEW.checkin_id "
        "OR OLD.session_id IS NOT NEW.session_id OR OLD.stage_id IS NOT NEW.stage_id "
        "OR OLD.due_at IS NOT NEW.due_at OR OLD.expires_at IS NOT NEW.expires_at "
        "BEGIN " + _MARK_OLD + " " + _MARK_NEW + " END",
        "CREATE TRIGGER distress_mark_answer_delete AFTER DELETE ON check_in "
        "WHEN OLD.followup_id IS NOT NULL BEGIN " + _MARK_ANSWERED + " END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION distress_mark_follow_up() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' THEN " + _MARK_OLD + " END IF; "
        "IF TG_OP <> 'DELETE' THEN " + _MARK_NEW + " END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER distress_mark_insert_delete AFTER INSERT OR DELETE ON follow_up "
        "FOR EACH ROW EXECUTE FUNCTION distress_mark_follow_up()",
        "CREATE TRIGGER distress_mark_update AFTER UPDATE OF " + _WATCHED + " ON follow_up "
        "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.checkin_id IS DISTINCT FROM NEW.checkin_id "
        "OR OLD.session_id IS DISTINCT FROM NEW.session_id "
        "OR OLD.stage_id IS DISTINCT FROM NEW.stage_id "
        "OR OLD.due_at IS DISTINCT FROM NEW.due_at "
        "OR OLD.expires_at IS DISTINCT FROM NEW.expires_at) "
        "EXECUTE FUNCTION distress_mark_follow_up()",
        "CREATE OR REPLACE FUNCTION distress_mark_answer() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN " + _MARK_ANSWERED + " RETURN NULL; END $$",
        "CREATE TRIGGER distress_mark_answer_delete AFTER DELETE ON check_in "
        "FOR EACH ROW WHEN (OLD.followup_id IS NOT NULL) "
        "EXECUTE FUNCTION distress_mark_answer()",
    ],
}


def install_mark_triggers(connection) -> None:
    """Create the mark triggers on this connection's database (the tables must exist)."""
    run_for_dialect(connection, MARK_TRIGGERS)


create_with_tables(MARK_TRIGGERS, "follow_up", "check_in", "distress_batch_mark")
