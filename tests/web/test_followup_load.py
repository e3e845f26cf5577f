"""The admin overview's load ahead: stages overdue, and stages due in each local week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

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
    assert [week.count for week in weeks] == [2, 2, 1] + [0] * 9
