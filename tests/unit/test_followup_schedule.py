"""When follow-up stages fall due: the send hour in the centre's zone, never at night, offsets
that keep the wall-clock time across daylight-saving changes, months clamped at month end."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdebrief.errors import InvalidInput
from simdebrief.models import FollowUpStage, OffsetUnit, PlanKind
from simdebrief.services.followups import plan_versions, stage_catalogue

ZONE = "Europe/Copenhagen"
CPH = ZoneInfo(ZONE)


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=CPH)


def stage(amount, unit, hour=9) -> FollowUpStage:
    return FollowUpStage(key="s", title="s", offset_amount=amount, offset_unit=OffsetUnit(unit),
                         send_hour=hour, window_days=2, expires_after_days=7)


def due(anchor, amount, unit, hour=9):
    return stage_catalogue.due_time(anchor, amount=amount, unit=unit, send_hour=hour, zone=ZONE)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 10, 31), 1, date(2026, 11, 30)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 3, 31), 12, date(2027, 3, 31)),
    (date(2026, 5, 31), 16, date(2027, 9, 30)),
])
def test_a_month_later_clamps_at_the_end_of_a_shorter_month(day, months, expected):
    assert stage_catalogue.add_months(day, months) == expected


def test_a_monthly_stage_from_the_31st_falls_on_the_last_day_of_february():
    anchor = local(2027, 1, 31, 8, 15)
    assert due(anchor, 1, "months").astimezone(CPH) == local(2027, 2, 28, 9, 0)
    assert due(anchor, 2, "months").astimezone(CPH) == local(2027, 3, 31, 9, 0)


def test_a_week_across_the_october_change_arrives_at_nine_local():
    anchor = local(2026, 10, 20, 15, 0)  # summer time, UTC+2
    result = due(anchor, 7, "days")
    assert result == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)  # winter time, UTC+1
    assert result.astimezone(CPH).time() == time(9, 0)


def test_a_week_across_the_march_change_arrives_at_nine_local():
    result = due(local(2027, 3, 25, 16, 0), 7, "days")
    assert result == datetime(2027, 4, 1, 7, 0, tzinfo=UTC)


def test_hours_count_elapsed_time_then_wait_for_the_send_hour():
    # 24 h after 15:00 on the Saturday before the change is 14:00 on Sunday (the clocks went
    # back); the first 09:00 after that is Monday morning.
    result = due(local(2026, 10, 24, 15, 0), 24, "hours")
    assert result.astimezone(CPH) == local(2026, 10, 26, 9, 0)
    assert result - local(2026, 10, 24, 15, 0) >= timedelta(hours=24)
    # Early in the morning, the same day's send hour is enough.
    assert due(local(2026, 11, 2, 5, 0), 24, "hours").astimezone(CPH) == local(2026, 11, 3, 9)


@pytest.mark.parametrize(("at", "expected"), [
    (local(2026, 11, 2, 14, 30), local(2026, 11, 2, 14, 30)),
    (local(2026, 11, 2, 22, 30), local(2026, 11, 3, 9, 0)),
    (local(2026, 11, 3, 3, 10), local(2026, 11, 3, 9, 0)),
    (local(2026, 11, 3, 7, 59), local(2026, 11, 3, 9, 0)),
    (local(2026, 11, 3, 20, 59), local(2026, 11, 3, 20, 59)),
])
def test_a_right_away_stage_waits_out_the_night(at, expected):
    assert due(at, 0, "minutes").astimezone(CPH) == expected


def test_the_send_hour_may_only_be_daytime():
    assert stage_catalogue.SEND_HOURS[0] >= stage_catalogue.DAY_STARTS
    assert stage_catalogue.SEND_HOURS[-1] < stage_catalogue.NIGHT_STARTS
    base = plan_versions.StageInput("FU9", "Late", 1, OffsetUnit.DAYS, 1, parts=("distress",),
                                    send_hour=23)
    with pytest.raises(InvalidInput):
        plan_versions.validate_stages([base])


copenhagen_times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
    timezones=st.just(CPH), allow_imaginary=False)


def _is_night(moment: datetime) -> bool:
    hour = moment.astimezone(CPH).hour
    return hour < stage_catalogue.DAY_STARTS or hour >= stage_catalogue.NIGHT_STARTS


@settings(max_examples=300, deadline=None)
@given(anchor=copenhagen_times)
def test_default_plan_stages_increase_fall_in_the_day_and_keep_the_hour(anchor):
    _name, _description, stages = plan_versions.default_plan(PlanKind.SESSION)
    rows = plan_versions._stage_rows(stages)
    by_key = stage_catalogue.plan_times(rows, {row.key: anchor for row in rows}, ZONE)
    times = [by_key[row.key] for row in rows]
    dues = [due_at for due_at, _expires in times]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    assert all(due_at >= anchor for due_at in dues)
    assert not any(_is_night(due_at) for due_at in dues)
    for row, (due_at, expires) in zip(rows, times, strict=True):
        assert expires == due_at + timedelta(days=row.expires_after_days)
        local_due = due_at.astimezone(CPH)
        if row.offset_unit is not OffsetUnit.MINUTES:
            assert local_due.time() == time(row.send_hour, 0)
        if row.offset_unit is OffsetUnit.DAYS:
            # "The day after" is the next day at the send hour (issue 12), one day more when
            # "right after the debrief" itself had to wait for that morning.
            expected = anchor.date() + timedelta(days=row.offset_amount)
            assert local_due.date() in (expected, expected + timedelta(days=1))
        if row.offset_unit is OffsetUnit.HOURS:
            # At most one local day later (a day with the October change lasts 25 hours).
            assert timedelta(hours=row.offset_amount) <= due_at - anchor \
                <= timedelta(hours=row.offset_amount + 25)


@settings(max_examples=200, deadline=None)
@given(anchor=copenhagen_times)
def test_complaint_track_is_monthly_through_the_waiting_time(anchor):
    _name, _description, stages = plan_versions.default_plan(PlanKind.COMPLAINT)
    # The stage after the decision is kept back until the learner says it has come.
    rows = [row for row in plan_versions._stage_rows(stages) if not row.on_event]
    dues = [stage_catalogue.stage_times(row, anchor, ZONE)[0] for row in rows]
    assert dues == sorted(dues)
    months = [row for row in rows if row.offset_unit is OffsetUnit.MONTHS]
    assert len(months) == plan_versions.COMPLAINT_MONTHS >= 16
    for row in months:
        local_due = stage_catalogue.stage_times(row, anchor, ZONE)[0].astimezone(CPH)
        assert local_due.date() == stage_catalogue.add_months(anchor.date(), row.offset_amount)
        assert local_due.time() == time(9, 0)


@settings(max_examples=300, deadline=None)
@given(anchor=copenhagen_times, amount=st.integers(0, 400),
       unit=st.sampled_from(list(OffsetUnit)), hour=st.sampled_from(stage_catalogue.SEND_HOURS))
def test_no_stage_ever_falls_due_at_night_or_before_its_anchor(anchor, amount, unit, hour):
    if unit is OffsetUnit.MONTHS:
        amount = amount % 40
    result = due(anchor, amount, unit, hour)
    assert not _is_night(result)
    if unit in (OffsetUnit.MINUTES, OffsetUnit.HOURS):
        # Hours and minutes are elapsed time: add them in UTC, not on the local wall clock.
        assert result >= anchor.astimezone(UTC) + (
            timedelta(minutes=amount) if unit is OffsetUnit.MINUTES else timedelta(hours=amount))
        assert result - anchor < timedelta(days=2) + (
            timedelta(minutes=amount) if unit is OffsetUnit.MINUTES
            else timedelta(hours=amount))
    else:
        assert result.astimezone(CPH).time() == time(hour, 0)


@settings(max_examples=300, deadline=None)
@given(anchor=copenhagen_times, amount=st.integers(1, 400),
       unit=st.sampled_from([OffsetUnit.HOURS, OffsetUnit.DAYS, OffsetUnit.MONTHS]))
def test_with_a_country_no_stage_falls_on_a_weekend_or_public_holiday(anchor, amount, unit):
    import holidays

    if unit is OffsetUnit.MONTHS:
        amount = amount % 40 or 1
    plain = stage_catalogue.due_time(anchor, amount=amount, unit=unit, send_hour=9, zone=ZONE)
    shifted = stage_catalogue.due_time(anchor, amount=amount, unit=unit, send_hour=9,
                                       zone=ZONE, country="DK")
    day = shifted.astimezone(CPH).date()
    assert day.weekday() < 5 and day not in holidays.country_holidays("DK", years=day.year)
    assert shifted.astimezone(CPH).time() == time(9, 0)
    # Moved forward to the first working day, never back, and never past one.
    assert plain <= shifted
    between = plain.astimezone(CPH).date()
    while between < day:
        assert not stage_catalogue.is_working_day(between, "DK")
        between += timedelta(days=1)
