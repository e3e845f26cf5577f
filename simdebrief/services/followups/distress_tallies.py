"""Keeping the distress tallies up to date, so a view decrypts a few tallies, not every answer.

A batch (one stage of one session) enters its pool once it is closed and at least k answered
it; its answers are decrypted then, once. Each view asks SQL which batches differ from their
tally (new, changed by an erased answer, gone, or open again) and counts only those again,
under a lock on the centre's row so two views never add a batch twice. Nothing has to be
remembered by the code that deletes answers (erasure, retention, the learner's own delete):
the tally notices. The first view after the upgrade counts the centre's history once.

Which batches to ask about comes from the marks the database's triggers leave on every
change (``models.distress_tallies``) and from the stages whose window closed since the last
look; a view that finds neither writes nothing and reads no history. Only when there is no
such record (the first view, a clock set back, a changed k, a mass change) does it ask
about every batch of the centre, as before.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from simdebrief.models import (
    Centre,
    CheckIn,
    DistressBatchMark,
    DistressBatchTally,
    DistressPoolTally,
    DistressTallyState,
    FollowUp,
    FollowUpPlan,
    FollowUpStage,
    FollowUpStatus,
)
from simdebrief.models.base import UTCDateTime
from simdebrief.models.followups import HELD


def batch_name(session_id: int | None, stage_id: int) -> str:
    return f"{'-' if session_id is None else session_id}:{stage_id}"


#: Beyond this many batches to ask about, one pass over the centre's history is as cheap
#: (and keeps each query's parameters well within the databases' limits).
CANDIDATES_AT_MOST = 1000
#: Views racing each other see slightly different moments; only a clock set back further
#: than this (tests, a corrected server clock) makes a view look at the whole history.
CLOCK_SLACK = timedelta(minutes=5)


def _in_batches(batches: set[tuple] | None):
    """A filter on follow-ups for these (session id, stage id) batches; None: every batch.
    It may let a few others through (the caller keeps to the exact pairs)."""
    if batches is None:
        return true()
    sessions = {sid for sid, _stage in batches if sid is not None}
    stages = {stage for _sid, stage in batches}
    track_stages = {stage for sid, stage in batches if sid is None}
    return or_(and_(FollowUp.session_id.in_(sessions), FollowUp.stage_id.in_(stages)),
               and_(FollowUp.session_id.is_(None), FollowUp.stage_id.in_(track_stages)))


def _answered_batches(centre: Centre, k: int, batches: set[tuple] | None = None):
    """Batches with at least k completed, not skipped answers: their size and id sum."""
    return (select(FollowUp.session_id, FollowUp.stage_id,
                   func.count(FollowUp.id).label("answered"),
                   func.sum(FollowUp.checkin_id).label("checkin_ids"))
            .join(CheckIn, CheckIn.id == FollowUp.checkin_id)
            .where(FollowUp.centre_id == centre.id, _in_batches(batches),
                   FollowUp.status == FollowUpStatus.COMPLETED, CheckIn.skipped.is_(False))
            .group_by(FollowUp.session_id, FollowUp.stage_id)
            .having(func.count(FollowUp.id) >= k).subquery())


def window_lengths(session: Session) -> list[int]:
    """Every answer window's length in days, as the stages have them: a held stage closes at
    the end of its window, so the questions about closing name each length."""
    return list(session.scalars(_window_lengths()))


@functools.cache
def _window_lengths() -> Select:
    """The overview asks this module's questions on every view; those whose shape never
    changes are built once per process (``_closing``'s once per set of window lengths), as
    building them cost more than running them. Values come as bound parameters."""
    return select(FollowUpStage.window_days).distinct()


def _closing(session: Session, centre: Centre, since: datetime, now: datetime,
             windows: list[int]) -> set[tuple]:
    """Batches with a stage that closed as time passed, from ``since`` up to ``now``: a sent
    stage at its expiry, a held stage at the end of its window (``figures.open_batches_query``
    decides the same in the other direction). Read through the (status, due) index."""
    # The lengths come without an order (DISTINCT); one set is one statement.
    lengths = tuple(sorted(set(windows)))
    values = {"centre_id": centre.id, "since": since, "now": now}
    for index, days in enumerate(lengths):
        values[f"held_from_{index}"] = since - timedelta(days=days)
        values[f"held_to_{index}"] = now - timedelta(days=days)
    return {tuple(row) for row in session.execute(_closing_statement(lengths), values)}


#: Sets of window lengths whose closing question is kept built: the stages' lengths are the
#: admins' to edit, so the sets seen in a process are few but not fixed.
CLOSING_SHAPES_KEPT = 16


@functools.lru_cache(maxsize=CLOSING_SHAPES_KEPT)
def _closing_statement(windows: tuple[int, ...]) -> Select | CompoundSelect:
    """Two questions in one: sent stages that expired in the span, from the (status,
    expiry) index; held stages whose window ended in it, from the (status, due) index. As
    one condition joined by OR, the database read every sent stage of the centre."""
    expired = (select(FollowUp.session_id, FollowUp.stage_id)
               .where(FollowUp.status == FollowUpStatus.SENT,
                      FollowUp.expires_at >= bindparam("since"),
                      FollowUp.expires_at <= bindparam("now"),
                      FollowUp.centre_id == bindparam("centre_id")))
    if not windows:
        return expired.distinct()
    held_closing = [and_(FollowUpStage.window_days == days,
                         FollowUp.due_at >= bindparam(f"held_from_{index}"),
                         FollowUp.due_at <= bindparam(f"held_to_{index}"))
                    for index, days in enumerate(windows)]
    held = (select(FollowUp.session_id, FollowUp.stage_id)
            .join(FollowUpStage, FollowUpStage.id == FollowUp.stage_id)
            .where(FollowUp.status.in_(HELD), FollowUp.centre_id == bindparam("centre_id"),
                   or_(*held_closing)))
    return union(expired, held)


def _stale(session: Session, centre: Centre, k: int, open_query: Callable[[], Select],
           batches: set[tuple] | None = None) -> tuple[list[tuple], list[DistressBatchTally]]:
    """(batches to count again, tallies to take out): decided in SQL, only changes return.
    ``batches`` limits the question to those batches; None asks about every one."""
    if batches is not None and not batches:
        return [], []
    answered = _answered_batches(centre, k, batches)
    names = None if batches is None else {batch_name(sid, stage) for sid, stage in batches}
    in_names = true() if names is None else DistressBatchTally.batch.in_(names)
    still_open = open_query().subquery()
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
        .where(DistressBatchTally.centre_id == centre.id, in_names,
               answered.c.stage_id.is_(None))))
    gone += session.scalars(select(DistressBatchTally).join(still_open, and_(
        DistressBatchTally.session_id.is_not_distinct_from(still_open.c.session_id),
        DistressBatchTally.stage_id == still_open.c.stage_id))
        .where(DistressBatchTally.centre_id == centre.id, in_names)).all()
    changed = [tuple(row) for row in changed]
    if batches is not None:
        changed = [row for row in changed if row in batches]
    return changed, gone


def _reset(session: Session, centre: Centre) -> None:
    for model in (DistressBatchTally, DistressPoolTally):
        session.execute(delete(model).where(model.centre_id == centre.id)
                        .execution_options(synchronize_session=False))
    session.expire_all()


def _take_marks(session: Session, centre: Centre) -> list[tuple]:
    """The centre's marks (a batch may have several), deleted: exactly those this look took,
    so a change committed meanwhile keeps its mark for the next look."""
    return [tuple(row) for row in session.execute(
        delete(DistressBatchMark).where(DistressBatchMark.centre_id == centre.id)
        .returning(DistressBatchMark.session_id, DistressBatchMark.stage_id))]


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
               _in_batches(set(batches)) if len(batches) <= CANDIDATES_AT_MOST
               else FollowUp.stage_id.in_({stage for _sid, stage in batches})))
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


@dataclass(frozen=True)
class Look:
    """What a look at the tallies starts from, read in one statement: the last look's
    moment (None: never looked), whether a pooled tally was counted under another k, every
    answer window's length, and the batches marked since (at most ``CANDIDATES_AT_MOST`` + 1).
    """

    checked_until: datetime | None
    k_changed: bool
    windows: list[int]
    marked: set[tuple]


#: What each row of the look's statement carries (its first column).
_STATE, _OTHER_K, _WINDOW, _MARK = "state", "other k", "window", "mark"


def _look(session: Session, centre: Centre, k: int) -> Look:
    checked_until, k_changed, windows, marked = None, False, [], set()
    for what, session_id, stage_id, at in session.execute(
            _look_statement(), {"centre_id": centre.id, "k": k}):
        if what == _STATE:
            checked_until = at
        elif what == _OTHER_K:
            k_changed = True
        elif what == _WINDOW:
            windows.append(stage_id)
        else:
            marked.add((session_id, stage_id))
    return Look(checked_until, k_changed, windows, marked)


@functools.cache
def _look_statement() -> CompoundSelect:
    """Four small questions in one statement (each was a round trip of its own on every
    view): rows of (what, session id, stage id, moment), a window's length in the stage id's
    place. Built once per process; the centre and k come as bound parameters. The empty
    places are typed NULLs: PostgreSQL matches a union's columns by type."""

    def row(what: str, session_id=None, stage_id=None, at=None) -> tuple:
        return (literal_column(f"'{what}'", String).label("what"),
                cast(null(), Integer) if session_id is None else session_id,
                cast(null(), Integer) if stage_id is None else stage_id,
                cast(null(), UTCDateTime) if at is None else at)

    other_k = (select(DistressPoolTally.id)
               .where(DistressPoolTally.centre_id == bindparam("centre_id"),
                      DistressPoolTally.k != bindparam("k")).limit(1).subquery())
    windows = _window_lengths().subquery()
    marks = (select(DistressBatchMark.session_id, DistressBatchMark.stage_id).distinct()
             .where(DistressBatchMark.centre_id == bindparam("centre_id"))
             .limit(CANDIDATES_AT_MOST + 1).subquery())
    return union_all(
        select(*row(_STATE, at=DistressTallyState.checked_until))
        .where(DistressTallyState.centre_id == bindparam("centre_id")),
        select(*row(_OTHER_K)).select_from(other_k),
        select(*row(_WINDOW, stage_id=windows.c.window_days)),
        select(*row(_MARK, marks.c.session_id, marks.c.stage_id)))


def _batches_to_ask(session: Session, centre: Centre, checked_until: datetime | None,
                    now: datetime, windows: list[int], marked: set[tuple]) -> set[tuple] | None:
    """The batches a look at ``now`` must ask about: those ``marked`` and those with a stage
    that closed since the last look (``checked_until``). None means every batch: no last
    look on record, a clock set back, or too many. The same questions are asked in every
    case, so a page asks as many at any size."""
    since = checked_until if checked_until is not None else now
    batches = marked | _closing(session, centre, min(since, now), now, windows)
    if checked_until is None or since > now + CLOCK_SLACK or len(batches) > CANDIDATES_AT_MOST:
        return None
    return batches


def refresh(session: Session, centre: Centre, k: int,
            open_query: Callable[[list[int]], Select], now: datetime, *,
            settle: bool = False) -> int:
    """Bring the centre's tallies up to date with its closed batches (flushes; the caller
    commits, so the work is done once). ``open_query(windows)`` builds the select of the
    (session id, stage id) of the batches someone can still answer at ``now``, given every
    answer window's length, when it is needed (most views need it not: nothing closed since
    the last look).

    A view only reads unless a tally must change (so a page never waits for SQLite's write
    lock for nothing); the marks it looked at stay. The scheduler ``settle``-s each centre
    now and then: it takes the marks and moves the last look on, so views ask about little.
    Returns how many marks this look took."""
    look = _look(session, centre, k)
    if not settle and not look.k_changed:
        batches = _batches_to_ask(session, centre, look.checked_until, now, look.windows,
                                  look.marked)
        changed, gone = _stale(session, centre, k, functools.partial(open_query, look.windows),
                               batches)
        if not changed and not gone:
            return 0
    session.info[WRITTEN] = True
    # One counter at a time per centre: the row lock (the write lock on SQLite) is taken
    # first, and the question asked again, since another view may just have done it.
    session.execute(update(Centre).where(Centre.id == centre.id)
                    .values(min_group_size=Centre.min_group_size)
                    .execution_options(synchronize_session=False))
    state = session.scalars(select(DistressTallyState)
                            .where(DistressTallyState.centre_id == centre.id)
                            .execution_options(populate_existing=True)).one_or_none()
    taken = _take_marks(session, centre)
    look = _look(session, centre, k)
    batches = _batches_to_ask(session, centre, state.checked_until if state else None, now,
                              look.windows, look.marked | set(taken))
    if look.k_changed:
        _reset(session, centre)
        batches = None
    if state is None:
        state = DistressTallyState(centre_id=centre.id, checked_until=now)
        session.add(state)
    elif batches is None or state.checked_until < now:
        state.checked_until = now
    changed, gone = _stale(session, centre, k, functools.partial(open_query, look.windows),
                           batches)
    if not changed and not gone:
        session.flush()
        return len(taken)
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
    return len(taken)


#: Set in a session's ``info`` when ``refresh`` wrote: the view then has a write to commit.
WRITTEN = "simdebrief.distress_tallies_written"


def written(session: Session) -> bool:
    """Whether ``refresh`` wrote in this session since the last ask: a view that only read
    has nothing to commit, and a commit would expire what the page still shows."""
    return session.info.pop(WRITTEN, False)


def pooled_counts(session: Session, centre: Centre) -> dict[tuple[str, str], Counter]:
    """{(plan kind, stage key): Counter(score -> learners)} of the batches that count."""
    return {(p.plan_kind, p.stage_key): Counter({int(s): n for s, n in (p.counts or {}).items()})
            for p in session.scalars(_pool_tallies(), {"centre_id": centre.id})}


@functools.cache
def _pool_tallies() -> Select:
    """Built once per process, as the overview's other questions are."""
    return select(DistressPoolTally).where(DistressPoolTally.centre_id == bindparam("centre_id"))
