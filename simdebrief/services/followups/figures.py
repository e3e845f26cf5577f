"""Follow-up figures for instructors and admins: completion, load, distress per stage."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simdebrief.models import (
    Centre,
    CheckIn,
    Cohort,
    FollowUp,
    FollowUpPlan,
    FollowUpStage,
    FollowUpStatus,
    PlanKind,
    SimSession,
    User,
)
from simdebrief.services.followups.plan_versions import plans_of
from simdebrief.services.followups.stage_catalogue import PLAN_KIND_NAMES, at_local

STATUS_GROUPS = {
    FollowUpStatus.SCHEDULED: "waiting", FollowUpStatus.CLAIMED: "waiting",
    FollowUpStatus.SENT: "open", FollowUpStatus.COMPLETED: "completed",
    FollowUpStatus.EXPIRED: "expired", FollowUpStatus.PAUSED: "held",
    FollowUpStatus.STOPPED: "held", FollowUpStatus.SKIPPED: "skipped",
}


@dataclass
class StageFigures:
    """Counts for one stage; never a name, never an answer."""

    key: str
    title: str
    position: int
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        return self.counts["open"] + self.counts["completed"] + self.counts["expired"]

    @property
    def completion_rate(self) -> float | None:
        return self.counts["completed"] / self.sent if self.sent else None

    @property
    def expiry_rate(self) -> float | None:
        return self.counts["expired"] / self.sent if self.sent else None

    def __getitem__(self, name: str) -> int:
        return self.counts[name]


def _figures(session: Session, query) -> list[StageFigures]:
    """query yields (stage_id, status, count); figures per stage key, in plan order."""
    rows = list(session.execute(query))
    ids = {stage_id for stage_id, _status, _count in rows}
    stages = {s.id: s for s in session.scalars(
        select(FollowUpStage).where(FollowUpStage.id.in_(ids)))} if ids else {}
    figures: dict[str, StageFigures] = {}
    for stage_id, status, count in rows:
        stage = stages[stage_id]
        entry = figures.setdefault(stage.key, StageFigures(stage.key, stage.title,
                                                           stage.position))
        entry.counts[STATUS_GROUPS[FollowUpStatus(status)]] += count
    return sorted(figures.values(), key=lambda f: (f.position, f.key))


def completion_for_session(session: Session, sim_session: SimSession) -> list[StageFigures]:
    """How many of the session's learners answered each stage (counts only)."""
    return _figures(session, select(FollowUp.stage_id, FollowUp.status, func.count(FollowUp.id))
                    .where(FollowUp.session_id == sim_session.id)
                    .group_by(FollowUp.stage_id, FollowUp.status))


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
    """(stages overdue and still waiting, stages falling due per local week ahead)."""
    zone = ZoneInfo(centre.timezone)
    waiting = (FollowUpStatus.SCHEDULED, FollowUpStatus.CLAIMED)
    overdue = session.scalar(select(func.count(FollowUp.id)).where(
        FollowUp.centre_id == centre.id, FollowUp.status.in_(waiting),
        FollowUp.due_at <= now)) or 0
    today = now.astimezone(zone).date()
    first_monday = today - timedelta(days=today.weekday())
    end = at_local(first_monday + timedelta(weeks=weeks), 0, zone)
    per_week: Counter = Counter()
    for (due_at,) in session.execute(select(FollowUp.due_at).where(
            FollowUp.centre_id == centre.id, FollowUp.status.in_(waiting),
            FollowUp.due_at > now, FollowUp.due_at < end)):
        day = due_at.astimezone(zone).date()
        per_week[day - timedelta(days=day.weekday())] += 1
    return overdue, [WeekLoad(first_monday + timedelta(weeks=n),
                              per_week[first_monday + timedelta(weeks=n)])
                     for n in range(weeks)]


@dataclass
class FigureGroup:
    label: str
    stages: list[StageFigures]
    plan_kind: PlanKind | None = None


def _learner_counts(session: Session, centre: Centre, column) -> dict:
    return dict(session.execute(
        select(column, func.count(func.distinct(FollowUp.user_id)))
        .where(FollowUp.centre_id == centre.id).group_by(column)).all())


def completion_per_plan(session: Session, centre: Centre) -> list[FigureGroup]:
    """Per plan version. Plans of learner-started tracks appear only when at least the
    minimum group size of learners started one: a single complaint track is nobody's
    business but the learner's."""
    minimum = max(1, centre.min_group_size)
    learners = _learner_counts(session, centre, FollowUp.plan_id)
    groups = []
    for plan in plans_of(session, centre):
        if plan.id not in learners:
            continue
        if plan.kind is not PlanKind.SESSION and learners[plan.id] < minimum:
            continue
        stages = _figures(session, select(FollowUp.stage_id, FollowUp.status,
                                          func.count(FollowUp.id))
                          .where(FollowUp.plan_id == plan.id)
                          .group_by(FollowUp.stage_id, FollowUp.status))
        groups.append(FigureGroup(_("%(name)s, version %(version)d", name=plan.name,
                                    version=plan.version), stages, plan.kind))
    return groups


def completion_per_stage(session: Session, centre: Centre) -> list[FigureGroup]:
    """Per stage across every version of each kind of plan (same k-rule for tracks)."""
    minimum = max(1, centre.min_group_size)
    kinds = dict(session.execute(
        select(FollowUpPlan.kind, func.count(func.distinct(FollowUp.user_id)))
        .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
        .where(FollowUp.centre_id == centre.id).group_by(FollowUpPlan.kind)).all())
    groups = []
    for kind in PlanKind:
        count = kinds.get(kind, 0)
        if not count or (kind is not PlanKind.SESSION and count < minimum):
            continue
        stages = _figures(session, select(FollowUp.stage_id, FollowUp.status,
                                          func.count(FollowUp.id))
                          .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
                          .where(FollowUp.centre_id == centre.id, FollowUpPlan.kind == kind)
                          .group_by(FollowUp.stage_id, FollowUp.status))
        groups.append(FigureGroup(str(PLAN_KIND_NAMES[kind]), stages, kind))
    return groups


def completion_per_cohort(session: Session, centre: Centre) -> list[FigureGroup]:
    cohorts = session.scalars(select(Cohort).where(Cohort.centre_id == centre.id,
                                                   Cohort.id.in_(select(FollowUp.cohort_id)))
                              .order_by(Cohort.name)).all()
    groups = []
    for cohort in cohorts:
        stages = _figures(session, select(FollowUp.stage_id, FollowUp.status,
                                          func.count(FollowUp.id))
                          .where(FollowUp.cohort_id == cohort.id)
                          .group_by(FollowUp.stage_id, FollowUp.status))
        groups.append(FigureGroup(cohort.name, stages, PlanKind.SESSION))
    return groups


@dataclass
class StageDistress:
    key: str
    title: str
    position: int
    plan_kind: PlanKind
    #: None when fewer than the minimum group size gave a score: nothing else is shown.
    answered: int | None
    median: float | None
    low: int | None
    high: int | None


def distress_per_stage(session: Session, centre: Centre) -> list[StageDistress]:
    """Distress per stage, from each learner's answer to it; figures only where at least the
    centre's minimum group size of learners gave a score."""
    minimum = max(1, centre.min_group_size)
    rows = session.execute(
        select(FollowUp.stage_key, FollowUp.user_id, FollowUpPlan.kind, CheckIn)
        .join(CheckIn, CheckIn.id == FollowUp.checkin_id)
        .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
        .where(FollowUp.centre_id == centre.id, FollowUp.status == FollowUpStatus.COMPLETED,
               CheckIn.skipped.is_(False))
        .order_by(CheckIn.created_at)).all()
    scores: dict[tuple[PlanKind, str], dict[int, int]] = defaultdict(dict)
    for stage_key, user_id, kind, checkin in rows:
        if checkin.distress is not None:
            # A learner counts once per stage (their latest answer), whatever the session.
            scores[(PlanKind(kind), stage_key)][(user_id, checkin.session_id)] = \
                checkin.distress
    stage_info = {}
    for plan in plans_of(session, centre):
        for stage in plan.stages:
            stage_info.setdefault((plan.kind, stage.key), stage)
    result = []
    for (kind, key), by_learner in scores.items():
        stage = stage_info.get((kind, key))
        values = list(by_learner.values())
        learners = len({user_id for user_id, _s in by_learner})
        enough = learners >= minimum and len(values) >= minimum
        result.append(StageDistress(
            key, stage.title if stage else key, stage.position if stage else 99, kind,
            len(values) if enough else None,
            statistics.median(values) if enough else None,
            min(values) if enough else None, max(values) if enough else None))
    order = {kind: index for index, kind in enumerate(PlanKind)}
    return sorted(result, key=lambda r: (order[r.plan_kind], r.position, r.key))
