"""Reading and folding the follow-up tallies (``models.followup_tallies``).

A figure adds up the change rows of the keys it needs in SQL; the scheduler folds each key's
change rows into one now and then, so that sum stays a few rows per stage however long the
centre's history. Folding deletes exactly the rows it adds up (``DELETE … RETURNING``), so
two schedulers folding at once, or a follow-up changing meanwhile, never count a change
twice or lose one.
"""

from __future__ import annotations

import functools
from collections import Counter

from sqlalchemy import Select, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from simdebrief.models import FollowUpTally


def stage_counts_by(session: Session, column_name: str, ids: list[int]) -> dict[int, list]:
    """(stage id, status, count) rows per plan version or cohort (``column_name`` is
    "plan_id" or "cohort_id"), in one grouped query over the tallies, however many ids."""
    rows: dict[int, list] = {value: [] for value in ids}
    if not ids:
        return rows
    for value, stage_id, status, count in session.execute(_counts_by(column_name),
                                                          {"ids": list(ids)}):
        rows[value].append((stage_id, status, count))
    return rows


@functools.cache
def _counts_by(column_name: str) -> Select:
    """Built once per column (the admin's overview asks on every view); the ids come as an
    expanding bound parameter."""
    column = getattr(FollowUpTally, column_name)
    total = func.sum(FollowUpTally.delta)
    return (select(column, FollowUpTally.stage_id, FollowUpTally.status, total)
            .where(column.in_(bindparam("ids", expanding=True)))
            .group_by(column, FollowUpTally.stage_id, FollowUpTally.status)
            .having(total != 0))


def fold(session: Session) -> int:
    """Fold every key's change rows into one row; returns how many rows were folded. The
    caller commits."""
    taken = session.execute(delete(FollowUpTally).returning(
        FollowUpTally.plan_id, FollowUpTally.cohort_id, FollowUpTally.stage_id,
        FollowUpTally.status, FollowUpTally.delta)).all()
    sums: Counter = Counter()
    for plan_id, cohort_id, stage_id, status, delta in taken:
        sums[plan_id, cohort_id, stage_id, status] += delta
    kept = [{"plan_id": plan_id, "cohort_id": cohort_id, "stage_id": stage_id,
             "status": status, "delta": total}
            for (plan_id, cohort_id, stage_id, status), total in sums.items() if total]
    if kept:
        session.execute(insert(FollowUpTally), kept)
    return len(taken)
