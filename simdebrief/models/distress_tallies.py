"""Distress tallies behind the staff's follow-up figure: counts per score, kept encrypted.

A batch tally is one closed stage of one session (or one track stage version); a pool tally
adds up the batches of a kind of plan and stage key that have at least k scores. Both hold
their counts sealed like a check-in: a tally of a small group is nearly an answer. The plain
columns say only which follow-ups were counted (how many, and the sum of their check-in ids),
so the figure can tell in SQL when a batch changed (an answer erased) and count it again.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from simdebrief.crypto import Sealed, listen_for_inserts
from simdebrief.models.base import Base


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


for _model in (DistressBatchTally, DistressPoolTally):
    listen_for_inserts(_model)
