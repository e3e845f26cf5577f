"""Follow-up figures for instructors and admins: completion, load, distress per stage."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from simdebrief.languages import gettext as _
from simdebrief.models import (
    Centre,
    Cohort,
    FollowUp,
    FollowUpPlan,
    FollowUpStage,
    FollowUpStatus,
    PlanKind,
    SimSession,
    User,
)
from simdebrief.models.followups import HELD
from simdebrief.services import group_figures
from simdebrief.services.followups import distress_tallies, stage_tallies
from simdebrief.services.followups.plan_versions import plans_of
from simdebrief.services.followups.stage_catalogue import PLAN_KIND_NAMES, at_local
from simdebrief.services.group_figures import Count, count_text
from simdebrief.timefmt import percent_text

STATUS_GROUPS = {
    FollowUpStatus.SCHEDULED: "waiting", FollowUpStatus.CLAIMED: "waiting",
    FollowUpStatus.SENT: "open", FollowUpStatus.COMPLETED: "completed",
    FollowUpStatus.EXPIRED: "expired", FollowUpStatus.PAUSED: "held",
    FollowUpStatus.STOPPED: "held", FollowUpStatus.SKIPPED: "skipped",
    # The mail server refused the stage's email for good: not counted as sent.
    FollowUpStatus.UNDELIVERABLE: "undeliverable",
}


GROUP_NAMES = ("waiting", "open", "completed", "expired", "held", "skipped", "undeliverable")


@dataclass
class StageFigures:
    """Counts for one stage; never a name, never an answer. Cells are k-suppressed together
    (``group_figures.suppress_partition``): they add up to ``total``, which is shown."""

    key: str
    title: str
    position: int
    counts: Counter = field(default_factory=Counter)
    k: int = group_figures.K_FLOOR
    #: The suppressed cells with the counts they were worked out from: a page reads the
    #: cells a dozen times per stage (each sum and rate), the suppression is done once.
    _suppressed: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def total_cell(self) -> Count:
        """How many learners the stage has; fewer than k reads "fewer than k"."""
        return Count(self.total if self.total >= self.k else None, self.k)

    @property
    def cells(self) -> dict[str, Count]:
        # What the cells were worked out from, read in one step (the page asks ~260 times).
        basis = (self.k, tuple(self.counts.items()))
        if self._suppressed is None or self._suppressed[0] != basis:
            self._suppressed = (basis, group_figures.suppress_partition(
                {name: self.counts[name] for name in GROUP_NAMES}, self.k))
        return self._suppressed[1]

    def _sum(self, *names: str) -> Count:
        """A sum of cells is shown only when every part of it is."""
        parts = [self.cells[name] for name in names]
        if all(part.shown for part in parts):
            return Count(sum(part.value for part in parts), self.k)
        return Count(None, self.k)

    @property
    def sent(self) -> Count:
        return self._sum("open", "completed", "expired")

    def _rate(self, name: str) -> float | None:
        part, sent = self.cells[name], self.sent
        return part.value / sent.value if part.shown and sent.shown and sent.value else None

    @property
    def completion_rate(self) -> float | None:
        return self._rate("completed")

    @property
    def expiry_rate(self) -> float | None:
        return self._rate("expired")

    def __getitem__(self, name: str) -> Count:
        return self.cells[name]


@dataclass(frozen=True, slots=True)
class StageRow:
    """A stage's figures as a table shows them, each cell written once: learners, sent,
    answered (with its share of sent), open, closed unanswered (with its share), still to
    come, paused or stopped, not sent, not delivered."""

    title: str
    cells: tuple[str, ...]


def stage_rows(stages: list[StageFigures]) -> list[StageRow]:
    """The table rows of ``stages`` in the current language; a page's figures are written
    here rather than by the template, which asked each cell's properties again."""
    rows = []
    for stage in stages:
        cells = stage.cells
        rows.append(StageRow(stage.title, (
            count_text(stage.total_cell), count_text(stage.sent),
            _with_share(cells["completed"], stage.completion_rate), count_text(cells["open"]),
            _with_share(cells["expired"], stage.expiry_rate), count_text(cells["waiting"]),
            count_text(cells["held"]), count_text(cells["skipped"]),
            count_text(cells["undeliverable"]))))
    return rows


def _with_share(cell: Count, rate: float | None) -> str:
    """A count with its share of those sent, when the share may be shown."""
    text = count_text(cell)
    return text if rate is None else f"{text} ({percent_text(rate)})"


def _figures(session: Session, rows, k: int,
             stages: dict[int, FollowUpStage] | None = None) -> list[StageFigures]:
    """rows are (stage_id, status, count); figures per stage key, in plan order. ``stages``
    are the stages by id when the caller has them already."""
    rows = list(rows)
    if stages is None:
        stages = _stages_by_id(session, rows)
    figures: dict[str, StageFigures] = {}
    for stage_id, status, count in rows:
        stage = stages[stage_id]
        entry = figures.get(stage.key)
        if entry is None:  # a stage's title is translated once, not once per status row
            entry = figures[stage.key] = StageFigures(stage.key, stage.title, stage.position,
                                                      k=k)
        entry.counts[STATUS_GROUPS[FollowUpStatus(status)]] += count
    return sorted(figures.values(), key=lambda f: (f.position, f.key))


def completion_for_session(session: Session, sim_session: SimSession) -> list[StageFigures]:
    """How many of the session's learners answered each stage (counts only)."""
    return _figures(session, session.execute(
        select(FollowUp.stage_id, FollowUp.status, func.count(FollowUp.id))
        .where(FollowUp.session_id == sim_session.id)
        .group_by(FollowUp.stage_id, FollowUp.status)),
        group_figures.k_for(sim_session.centre.min_group_size))


def sessions_with_followups_taught_by(session: Session, user: User) -> list[SimSession]:
    from simdebrief.models import session_instructor

    return list(session.scalars(
        select(SimSession).where(
            SimSession.id.in_(select(FollowUp.session_id).where(
                FollowUp.centre_id == user.centre_id)),
            SimSession.id.in_(select(session_instructor.c.session_id)
                              .where(session_instructor.c.user_id == user.id)))
        .order_by(SimSession.starts_at.desc())))


@dataclass
class WeekLoad:
    week_start: date
    count: int


def weekly_load(session: Session, centre: Centre, now: datetime,
                weeks: int = 12) -> tuple[int, list[WeekLoad]]:
    """(stages overdue and still waiting, stages falling due per local week ahead).

    One query: each local week's bounds are worked out here (daylight saving included), and
    SQL counts the waiting stages between each pair of bounds through the (status, due)
    index, however many stages there are."""
    zone = ZoneInfo(centre.timezone)
    today = now.astimezone(zone).date()
    mondays = [today - timedelta(days=today.weekday()) + timedelta(weeks=n)
               for n in range(weeks + 1)]
    bounds = [at_local(monday, 0, zone) for monday in mondays]
    overdue, *per_week = session.execute(_stages_per_week(weeks), {
        "centre_id": centre.id, "now": now,
        **{f"week_end_{index}": end for index, end in enumerate(bounds[1:])}}).one()
    return overdue, [WeekLoad(monday, count)
                     for monday, count in zip(mondays[:weeks], per_week, strict=True)]


@functools.cache
def _stages_per_week(weeks: int) -> Select:
    """Built once per number of weeks (the overview asks on every view; building it cost
    more than running it); the weeks' ends are bound as ``week_end_0`` onwards.

    A count per week, each a range of the (status, due) index: three times quicker on
    SQLite than placing every stage in its week and grouping (which sorted them). The first
    week runs from now (this Monday is before now); overdue is up to now."""
    waiting = FollowUp.status.in_((FollowUpStatus.SCHEDULED, FollowUpStatus.CLAIMED))

    def waiting_between(*bounds: ColumnElement[bool]):
        return (select(func.count()).select_from(FollowUp)
                .where(waiting, FollowUp.centre_id == bindparam("centre_id"), *bounds)
                .scalar_subquery())

    overdue = waiting_between(FollowUp.due_at <= bindparam("now"))
    return select(overdue, *(waiting_between(
        FollowUp.due_at > bindparam("now") if week == 0
        else FollowUp.due_at >= bindparam(f"week_end_{week - 1}"),
        FollowUp.due_at < bindparam(f"week_end_{week}")) for week in range(weeks)))


@dataclass
class FigureGroup:
    label: str
    stages: list[StageFigures]
    plan_kind: PlanKind | None = None


def _learners_per_plan(session: Session, plan_ids: list[int]) -> dict[int, int]:
    """Learners who have a stage of each plan version, from the (plan, learner) index."""
    if not plan_ids:
        return {}
    return dict(session.execute(
        select(FollowUp.plan_id, func.count(func.distinct(FollowUp.user_id)))
        .where(FollowUp.plan_id.in_(plan_ids)).group_by(FollowUp.plan_id)).all())


def _learners_of(session: Session, plan_ids: list[int]) -> int:
    """Learners who have a stage of any of these plan versions (each counted once)."""
    return session.scalar(select(func.count(func.distinct(FollowUp.user_id)))
                          .where(FollowUp.plan_id.in_(plan_ids))) or 0


def _stages_by_id(session: Session, rows) -> dict[int, FollowUpStage]:
    """The stages that (stage_id, status, count) rows name, in one query."""
    ids = {stage_id for stage_id, _status, _count in rows}
    return {stage.id: stage for stage in session.scalars(
        select(FollowUpStage).where(FollowUpStage.id.in_(ids)))} if ids else {}


@dataclass
class Completion:
    per_stage: list[FigureGroup]
    per_plan: list[FigureGroup]


@dataclass
class PlanCounts:
    """The centre's plan versions with their stages, and each version's (stage, status,
    count) rows from the tallies: read once for every figure of a page."""

    plans: list[FollowUpPlan]
    rows: dict[int, list]


def plan_counts(session: Session, centre: Centre) -> PlanCounts:
    plans = plans_of(session, centre)
    return PlanCounts(plans, stage_tallies.stage_counts_by(session, "plan_id",
                                                           [plan.id for plan in plans]))


def completion(session: Session, centre: Centre,
               counted: PlanCounts | None = None) -> Completion:
    """Completion per plan version, and per stage across every version of each kind.

    Plans of learner-started tracks appear only when at least the minimum group size of
    learners started one (per version, and per kind): a single complaint track is nobody's
    business but the learner's."""
    minimum = group_figures.k_for(centre.min_group_size)
    counted = counted or plan_counts(session, centre)
    plans = counted.plans
    if not plans:
        return Completion([], [])
    # One pass serves both the per-plan and the per-kind figures.
    counts = counted.rows
    # Learners are counted only where the k-rule needs them: the learner-started tracks,
    # whose stages are few. A session plan with any stage has learners.
    learners = _learners_per_plan(session, [plan.id for plan in plans
                                            if plan.kind is not PlanKind.SESSION])
    stages = {stage.id: stage for plan in plans for stage in plan.stages}
    per_plan = []
    for plan in plans:
        if not counts[plan.id]:
            continue
        if plan.kind is not PlanKind.SESSION and learners.get(plan.id, 0) < minimum:
            continue
        per_plan.append(FigureGroup(_("%(name)s, version %(version)d", name=plan.name,
                                      version=plan.version),
                                    _figures(session, counts[plan.id], minimum, stages),
                                    plan.kind))
    per_stage = []
    for kind in PlanKind:
        kind_ids = [plan.id for plan in plans if plan.kind is kind and counts[plan.id]]
        if not kind_ids:
            continue
        if kind is not PlanKind.SESSION and _learners_of(session, kind_ids) < minimum:
            continue
        rows = [row for plan_id in kind_ids for row in counts[plan_id]]
        per_stage.append(FigureGroup(str(PLAN_KIND_NAMES[kind]),
                                     _figures(session, rows, minimum, stages), kind))
    return Completion(per_stage, per_plan)


@functools.cache
def _cohorts_by_name() -> Select:
    """Built once per process: the overview asks on every view."""
    return (select(Cohort).where(Cohort.centre_id == bindparam("centre_id"))
            .order_by(Cohort.name))


def completion_per_cohort(session: Session, centre: Centre) -> list[FigureGroup]:
    """Per cohort the learners took part through, cohorts without follow-ups left out: one
    grouped pass over the tallies whatever the number of cohorts."""
    cohorts = session.scalars(_cohorts_by_name(), {"centre_id": centre.id}).all()
    if not cohorts:
        return []
    rows = stage_tallies.stage_counts_by(session, "cohort_id",
                                         [cohort.id for cohort in cohorts])
    stages = _stages_by_id(session, [row for found in rows.values() for row in found])
    minimum = group_figures.k_for(centre.min_group_size)
    return [FigureGroup(cohort.name, _figures(session, rows[cohort.id], minimum, stages),
                        PlanKind.SESSION) for cohort in cohorts if rows[cohort.id]]


@dataclass
class StageDistress:
    key: str
    title: str
    position: int
    plan_kind: PlanKind
    #: None until a batch of at least k scores is closed: nothing else is shown.
    answered: int | None
    median: float | None


#: Statuses of a stage someone may still answer (held ones only within their window).
STILL_ANSWERABLE = (FollowUpStatus.SCHEDULED, FollowUpStatus.CLAIMED, FollowUpStatus.SENT,
                    *HELD)


def _open_batches(session: Session, centre: Centre, now: datetime) -> set[tuple]:
    """(session id, stage id) of the stages that someone can still answer: waiting, open, or
    held within their window (a resume could still send them). Decided in SQL, so only the
    batches still open come back, however long the centre's history."""
    return set(session.execute(open_batches_query(session, centre, now)).all())


def open_batches_query(session: Session, centre: Centre, now: datetime,
                       windows: list[int] | None = None):
    """The select behind ``_open_batches``, for joining in SQL; ``windows`` as
    ``distress_tallies.window_lengths`` gives them (read here when not given)."""
    if windows is None:
        windows = distress_tallies.window_lengths(session)
    held_in_window = [and_(FollowUpStage.window_days == days,
                           FollowUp.due_at >= now - timedelta(days=days)) for days in windows]
    still_open = or_(
        FollowUp.status.in_((FollowUpStatus.SCHEDULED, FollowUpStatus.CLAIMED)),
        and_(FollowUp.status == FollowUpStatus.SENT, FollowUp.expires_at > now),
        and_(FollowUp.status.in_(HELD), or_(*held_in_window)) if held_in_window else false())
    return (select(FollowUp.session_id, FollowUp.stage_id).distinct()
            .join(FollowUpStage, FollowUpStage.id == FollowUp.stage_id)
            # The status list first, so the (status, due) index does the narrowing.
            .where(FollowUp.status.in_(STILL_ANSWERABLE), FollowUp.centre_id == centre.id,
                   still_open))


def settle_distress(session: Session, centre: Centre, now: datetime) -> int:
    """The scheduler's turn at the centre's distress tallies: count what changed, take the
    batch marks and move the last look on, so the views in between ask about little. Returns
    how many marks it took; the caller commits."""
    return _refresh_distress(session, centre, group_figures.k_for(centre.min_group_size), now,
                             settle=True)


def _refresh_distress(session: Session, centre: Centre, k: int, now: datetime, *,
                      settle: bool = False) -> int:
    """``distress_tallies.refresh`` with the still-open batches at ``now``. The open
    batches' select is built only if asked for (a view where nothing closed needs not), with
    the window lengths the tallies' look read."""
    return distress_tallies.refresh(
        session, centre, k, functools.partial(open_batches_query, session, centre, now), now,
        settle=settle)


def distress_per_stage(session: Session, centre: Centre, now: datetime | None = None,
                       counted: PlanCounts | None = None) -> list[StageDistress]:
    """The middle distress score per stage, from closed batches only.

    A batch is one stage of one session (a learner's track stages form one batch per stage
    version); it counts once nobody can answer it any more, and only with at least k scores.
    So a figure changes only when a whole batch of at least k learners closes, never by one
    learner's answer. The scores come from the centre's encrypted tallies
    (``distress_tallies``), brought up to date first when a batch changed; the caller
    commits that.
    """
    now = now or datetime.now(UTC)
    k = group_figures.k_for(centre.min_group_size)
    _refresh_distress(session, centre, k, now)
    scores = distress_tallies.pooled_counts(session, centre)
    counted = counted or plan_counts(session, centre)
    stage_info = {}
    kinds = {}
    for plan in counted.plans:
        for stage in plan.stages:
            stage_info.setdefault((plan.kind, stage.key), stage)
            kinds[stage.id] = (plan.kind, stage.key)
    # The stages anyone completed, from the tallies rather than the centre's history.
    answered_keys = {kinds[stage_id] for rows in counted.rows.values()
                     for stage_id, status, _count in rows if status == FollowUpStatus.COMPLETED}
    result = []
    for kind, key in answered_keys:
        stage = stage_info.get((kind, key))
        values = list(scores.get((str(kind), key), Counter()).elements())
        result.append(StageDistress(
            key, stage.title if stage else key, stage.position if stage else 99, kind,
            len(values) if values else None, group_figures.median_of(values, k)))
    order = {kind: index for index, kind in enumerate(PlanKind)}
    return sorted(result, key=lambda r: (order[r.plan_kind], r.position, r.key))
