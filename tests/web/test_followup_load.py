"""The admin overview's load ahead: stages overdue, and stages due in each local week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from simdebrief.extensions import db
from simdebrief.models import FollowUp, FollowUpStatus
from simdebrief.services.followups import figures
from tests.conftest import both_databases
from tests.web.test_group_figures import centre_with_sessions

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=COPENHAGEN).astimezone(UTC)


@both_databases
def test_each_waiting_stage_counts_in_its_local_week_across_the_clock_change(
        app, people, planning, clock):
    # Wednesday 14 October 2026, noon in Copenhagen; summer time ends on Sunday 25 October.
    now = local(2026, 10, 14, 12, 0)
    due = [
        (local(2026, 10, 1, 9, 0), FollowUpStatus.SCHEDULED),    # overdue
        (now, FollowUpStatus.CLAIMED),                           # overdue: due this moment
        (now + timedelta(minutes=1), FollowUpStatus.SCHEDULED),  # this week
        (local(2026, 10, 18, 23, 59), FollowUpStatus.SCHEDULED),  # Sunday night: this week
        (local(2026, 10, 19, 0, 0), FollowUpStatus.SCHEDULED),   # Monday midnight: next week
        (local(2026, 10, 25, 23, 30), FollowUpStatus.SCHEDULED),  # winter time's first Sunday
        (local(2026, 10, 26, 0, 0), FollowUpStatus.SCHEDULED),   # the Monday after
        (local(2026, 10, 26, 0, 0), FollowUpStatus.SENT),        # already out: not load
        (local(2026, 10, 27, 9, 0), FollowUpStatus.COMPLETED),   # answered: not load
        (local(2027, 1, 4, 9, 0), FollowUpStatus.SCHEDULED),     # week 13: past the view
        (local(2026, 11, 22, 23, 59), FollowUpStatus.SCHEDULED),  # the sixth week's last minute
        (local(2026, 11, 23, 0, 0), FollowUpStatus.SCHEDULED),   # the seventh week's first
        (local(2027, 1, 3, 23, 59), FollowUpStatus.SCHEDULED),   # the last week's last minute
    ]
    with app.app_context():
        centre, _groups = centre_with_sessions(planning, [len(due)], now - timedelta(days=60))
        stages = db.session.scalars(select(FollowUp).where(FollowUp.centre_id == centre.id)
                                    .order_by(FollowUp.id)).all()
        for stage, (due_at, status) in zip(stages, due, strict=False):
            stage.due_at, stage.status = due_at, status
        for stage in stages[len(due):]:
            stage.status = FollowUpStatus.EXPIRED
        db.session.flush()

        overdue, weeks = figures.weekly_load(db.session, centre, now)

    assert overdue == 2
    assert [week.week_start.isoformat() for week in weeks[:3]] == [
        "2026-10-12", "2026-10-19", "2026-10-26"]
    assert [week.count for week in weeks] == [2, 2, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1]


@both_databases
def test_each_cohort_shows_its_own_stages_and_the_page_asks_the_same_however_many_cohorts(
        app, people, planning, clock):
    from simdebrief.models import Cohort
    from tests.web.test_page_queries import counted_queries

    def figures_of(centre) -> dict[str, dict[str, int]]:
        return {group.label: {stage.key: stage.total for stage in group.stages}
                for group in figures.completion_per_cohort(db.session, centre)}

    with app.app_context():
        centre, groups = centre_with_sessions(planning, [6, 8], clock.now())
        cohorts = []
        for name in ("Year 1", "Year 2", "Year 3 (no follow-ups)"):
            cohort = Cohort(centre_id=centre.id, name=name, created_at=clock.now())
            db.session.add(cohort)
            cohorts.append(cohort)
        db.session.flush()
        for (sim_session, _learners), cohort in zip(groups, cohorts, strict=False):
            db.session.execute(update(FollowUp).where(FollowUp.session_id == sim_session.id)
                               .values(cohort_id=cohort.id))
        db.session.flush()
        stage_keys = {f.stage_key for f in db.session.scalars(
            select(FollowUp).where(FollowUp.centre_id == centre.id))}

        shown = figures_of(centre)
        assert shown == {"Year 1": dict.fromkeys(stage_keys, 6),
                         "Year 2": dict.fromkeys(stage_keys, 8)}

        with counted_queries(app) as few:
            figures.completion_per_cohort(db.session, centre)
        _second, learners = groups[1]
        for number, learner in enumerate(learners[:6], start=4):
            cohort = Cohort(centre_id=centre.id, name=f"Year {number}", created_at=clock.now())
            db.session.add(cohort)
            db.session.flush()
            db.session.execute(update(FollowUp).where(FollowUp.user_id == learner.id)
                               .values(cohort_id=cohort.id))
        db.session.flush()
        with counted_queries(app) as many:
            assert len(figures.completion_per_cohort(db.session, centre)) == 2 + 6
    assert len(many) == len(few)
