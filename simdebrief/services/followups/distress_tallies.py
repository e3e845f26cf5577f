"""Keeping the distress tallies up to date, so a view decrypts a few tallies, not every answer.

A batch (one stage of one session) enters its pool once it is closed and at least k answered
it; its answers are decrypted then, once. Each view asks SQL which batches differ from their
tally (new, changed by an erased answer, gone, or open again) and counts only those again,
under a lock on the centre's row so two views never add a batch twice. Nothing has to be
remembered by the code that deletes answers (erasure, retention, the learner's own delete):
the tally notices. The first view after the upgrade counts the centre's history once.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from simdebrief.models import (
    Centre,
    CheckIn,
    DistressBatchTally,
    DistressPoolTally,
    FollowUp,
    FollowUpPlan,
    FollowUpStatus,
)


def batch_name(session_id: int | None, stage_id: int) -> str:
    return f"{'-' if session_id is None else session_id}:{stage_id}"


def _answered_batches(centre: Centre, k: int):
    """Batches with at least k completed, not skipped answers: their size and id sum."""
    return (select(FollowUp.session_id, FollowUp.stage_id,
                   func.count(FollowUp.id).label("answered"),
                   func.sum(FollowUp.checkin_id).label("checkin_ids"))
            .join(CheckIn, CheckIn.id == FollowUp.checkin_id)
            .where(FollowUp.centre_id == centre.id,
                   FollowUp.status == FollowUpStatus.COMPLETED, CheckIn.skipped.is_(False))
            .group_by(FollowUp.session_id, FollowUp.stage_id)
            .having(func.count(FollowUp.id) >= k).subquery())


def _stale(session: Session, centre: Centre, k: int,
           open_query) -> tuple[list[tuple], list[DistressBatchTally]]:
    """(batches to count again, tallies to take out): decided in SQL, only changes return."""
    answered = _answered_batches(centre, k)
    still_open = open_query.subquery()
    same_batch = and_(DistressBatchTally.centre_id == centre.id,
                      DistressBatchTally.session_id.is_not_distinct_from(answered.c.session_id),
                      DistressBatchTally.stage_id == answered.c.stage_id)
    changed = session.execute(
        select(answered.c.session_id, answered.c.stage_id)
        .outerjoin(DistressBatchTally, same_batch)
        .outerjoin(still_open, and_(
            still_open.c.session_id.is_not_distinct_from(answered.c.session_id),
            still_open.c.stage_id == answered.c.stage_id))
        .where(still_open.c.stage_id.is_(None),
               or_(DistressBatchTally.id.is_(None),
                   DistressBatchTally.answered != answered.c.answered,
                   DistressBatchTally.checkin_ids != answered.c.checkin_ids))).all()
    gone = list(session.scalars(
        select(DistressBatchTally).outerjoin(answered, same_batch)
        .where(DistressBatchTally.centre_id == centre.id, answered.c.stage_id.is_(None))))
    gone += session.scalars(select(DistressBatchTally).join(still_open, and_(
        DistressBatchTally.session_id.is_not_distinct_from(still_open.c.session_id),
        DistressBatchTally.stage_id == still_open.c.stage_id))
        .where(DistressBatchTally.centre_id == centre.id)).all()
    return [tuple(row) for row in changed], gone


def _reset_if_k_changed(session: Session, centre: Centre, k: int) -> None:
    if session.scalar(select(DistressPoolTally.id).where(
            DistressPoolTally.centre_id == centre.id, DistressPoolTally.k != k).limit(1)):
        for model in (DistressBatchTally, DistressPoolTally):
            session.execute(delete(model).where(model.centre_id == centre.id)
                            .execution_options(synchronize_session=False))
        session.expire_all()


def _recount(session: Session, centre: Centre, batches: list[tuple]) -> dict[str, dict]:
    """Each batch's kind, key, size, id sum and score counts, decrypting its answers once."""
    wanted = {batch_name(sid, stage) for sid, stage in batches}
    found: dict[str, dict] = {}
    rows = session.execute(
        select(FollowUp.session_id, FollowUp.stage_id, FollowUp.stage_key, FollowUpPlan.kind,
               CheckIn)
        .join(CheckIn, CheckIn.id == FollowUp.checkin_id)
        .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
        .where(FollowUp.centre_id == centre.id, FollowUp.status == FollowUpStatus.COMPLETED,
               CheckIn.skipped.is_(False),
               FollowUp.stage_id.in_({stage for _sid, stage in batches})))
    for session_id, stage_id, stage_key, kind, checkin in rows:
        name = batch_name(session_id, stage_id)
        if name not in wanted:
            continue
        entry = found.setdefault(name, {"session_id": session_id, "stage_id": stage_id,
                                        "plan_kind": str(kind), "stage_key": stage_key,
                                        "answered": 0, "checkin_ids": 0, "counts": Counter()})
        entry["answered"] += 1
        entry["checkin_ids"] += checkin.id
        distress = checkin.distress
        if distress is not None:
            entry["counts"][str(distress)] += 1
    return found


def refresh(session: Session, centre: Centre, k: int, open_query) -> None:
    """Bring the centre's tallies up to date with its closed batches (flushes; the caller
    commits, so the work is done once). ``open_query`` selects the (session id, stage id)
    of the batches someone can still answer."""
    _reset_if_k_changed(session, centre, k)
    changed, gone = _stale(session, centre, k, open_query)
    if not changed and not gone:
        return
    # One counter at a time per centre: the row lock (the write lock on SQLite) is taken
    # first, and the question asked again, since another view may just have done it.
    session.execute(update(Centre).where(Centre.id == centre.id)
                    .values(min_group_size=Centre.min_group_size)
                    .execution_options(synchronize_session=False))
    changed, gone = _stale(session, centre, k, open_query)
    pools = {(p.plan_kind, p.stage_key): p for p in session.scalars(
        select(DistressPoolTally).where(DistressPoolTally.centre_id == centre.id))}
    deltas: dict[tuple, Counter] = defaultdict(Counter)

    def take_out(tally: DistressBatchTally) -> None:
        counts = Counter(tally.counts or {})
        if counts.total() >= k:
            deltas[(tally.plan_kind, tally.stage_key)].subtract(counts)

    for tally in {t.id: t for t in gone}.values():
        take_out(tally)
        session.delete(tally)
    existing = {t.batch: t for t in session.scalars(select(DistressBatchTally).where(
        DistressBatchTally.centre_id == centre.id,
        DistressBatchTally.batch.in_({batch_name(s, st) for s, st in changed})))} \
        if changed else {}
    for name, entry in _recount(session, centre, changed).items():
        tally = existing.get(name)
        if tally is None:
            tally = DistressBatchTally(centre_id=centre.id, batch=name)
            session.add(tally)
        else:
            take_out(tally)
        counts = entry.pop("counts")
        for attribute, value in entry.items():
            setattr(tally, attribute, value)
        tally.counts = dict(counts)
        if counts.total() >= k:
            deltas[(tally.plan_kind, tally.stage_key)].update(counts)
    for (kind, key), delta in deltas.items():
        pool = pools.get((kind, key))
        if pool is None:
            pool = DistressPoolTally(centre_id=centre.id, plan_kind=kind, stage_key=key, k=k)
            session.add(pool)
        counts = Counter(pool.counts or {})
        counts.update(delta)
        pool.counts = {score: n for score, n in counts.items() if n > 0}
    session.flush()


def pooled_counts(session: Session, centre: Centre) -> dict[tuple[str, str], Counter]:
    """{(plan kind, stage key): Counter(score -> learners)} of the batches that count."""
    return {(p.plan_kind, p.stage_key): Counter({int(s): n for s, n in (p.counts or {}).items()})
            for p in session.scalars(select(DistressPoolTally)
                                     .where(DistressPoolTally.centre_id == centre.id))}
