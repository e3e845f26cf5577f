"""Plans that fit the event: stages count from the session's end, "the day after" is the next
day, weekends and Danish public holidays are skipped (across DST), high-risk sessions get the
high-risk plan, and one learner's overlapping plans merge so no week has two stages."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import recompute_followup_times
from simdebrief.models import (
    Attendance,
    AuditEvent,
    FollowUp,
    FollowUpStatus,
    OffsetUnit,
    PlanKind,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
)
from simdebrief.services import debriefing
from simdebrief.services.followups import enrolment, stage_catalogue

CPH = ZoneInfo("Europe/Copenhagen")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH)


def day_after(anchor: datetime, country: str | None = "DK") -> datetime:
    return stage_catalogue.due_time(anchor, amount=1, unit=OffsetUnit.DAYS, send_hour=9,
                                    zone="Europe/Copenhagen", country=country)


def test_the_day_after_a_saturday_session_is_monday_morning_across_the_october_change():
    ends = local(2026, 10, 24, 11, 30)  # Saturday; summer time ends on Sunday the 25th
    assert day_after(ends, country=None) == local(2026, 10, 25, 9, 0)  # the next day, 21.5 h
    shifted = day_after(ends)
    assert shifted == local(2026, 10, 26, 9, 0) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_danish_easter_holidays_and_the_march_change_move_a_stage_to_tuesday():
    ends = local(2027, 3, 24, 15, 0)  # Wednesday before Maundy Thursday, in winter time
    # Thu 25 and Fri 26 are holidays, the weekend brings summer time, Mon 29 is Easter Monday.
    assert day_after(ends) == local(2027, 3, 30, 9, 0) == datetime(2027, 3, 30, 7, 0,
                                                                   tzinfo=UTC)
    week = stage_catalogue.due_time(ends, amount=7, unit=OffsetUnit.DAYS, send_hour=9,
                                    zone="Europe/Copenhagen", country="DK")
    assert week == local(2027, 3, 31, 9, 0)  # an ordinary Wednesday keeps its day
    christmas = stage_catalogue.due_time(local(2026, 12, 24, 16, 0), amount=24,
                                         unit=OffsetUnit.HOURS, send_hour=9,
                                         zone="Europe/Copenhagen", country="DK")
    assert christmas == local(2026, 12, 28, 9, 0)  # past the two Christmas days and Sunday


def debriefed(app, people, planning, *, scenario: str, ends_at: datetime,
              finalised_at: datetime, triggers=(), learners=("student",)) -> int:
    with app.app_context():
        instructor = db.session.get(User, people.ids["instructor"])
        sim_session = SimSession(
            centre_id=people.centre_id, scenario_version_id=planning.versions[scenario],
            room_id=planning.room_id, starts_at=ends_at - timedelta(hours=3), ends_at=ends_at,
            status=SessionStatus.IN_PROGRESS, created_at=ends_at, updated_at=ends_at,
            instructors=[instructor],
            participants=[SessionParticipant(user_id=people.ids[key],
                                             attendance=Attendance.PRESENT)
                          for key in learners])
        db.session.add(sim_session)
        db.session.flush()
        debrief = debriefing.start_debrief(db.session, sim_session=sim_session,
                                           actor=instructor, now=finalised_at)
        debrief.triggers = list(triggers)
        debrief.take_home_messages = "Say it out loud."
        debriefing.finalise(db.session, debrief=debrief, actor=instructor, now=finalised_at)
        db.session.commit()
        return sim_session.id


def stages_of(app, session_id) -> dict[str, FollowUp]:
    with app.app_context():
        rows = db.session.scalars(select(FollowUp).where(FollowUp.session_id == session_id))
        found = {row.stage_key: row for row in rows}
        for row in found.values():
            row.plan_kind = row.plan.kind
        db.session.expunge_all()
        return found


def test_stages_count_from_the_session_end_not_a_late_finalise(app, people, planning):
    ends = local(2026, 11, 3, 15, 0)  # Tuesday
    session_id = debriefed(app, people, planning, scenario="penicillin-allergy-anaphylaxis",
                           ends_at=ends, finalised_at=local(2026, 11, 6, 10, 0))
    stages = stages_of(app, session_id)
    assert stages["FU0_end_of_debrief"].due_at == local(2026, 11, 6, 10, 0)  # right after
    assert stages["FU1_early"].due_at == local(2026, 11, 4, 9, 0)  # already past: skipped later
    assert stages["FU2_one_week"].due_at == local(2026, 11, 10, 9, 0)  # Tuesday + 7
    assert stages["FU2_one_week"].anchor_at == ends
    assert {row.plan_kind for row in stages.values()} == {PlanKind.SESSION}


def test_high_risk_flags_and_triggers_bring_the_high_risk_plan(app, people, planning):
    arrest = debriefed(app, people, planning, scenario="ward-unexpected-cardiac-arrest",
                       ends_at=local(2026, 11, 2, 12, 0), finalised_at=local(2026, 11, 2, 13, 0))
    stages = stages_of(app, arrest)
    assert {row.plan_kind for row in stages.values()} == {PlanKind.HIGH_RISK}
    extra = stages["FU1b_three_days"]
    assert extra.due_at == local(2026, 11, 5, 12, 0) + timedelta(hours=21)  # +72 h, 09:00 Fri
    with app.app_context():
        assert db.session.get(FollowUp, extra.id).stage.offers_conversation
    # A communication exercise whose debrief names a first patient death: high-risk too.
    named = debriefed(app, people, planning, scenario="penicillin-allergy-anaphylaxis",
                      ends_at=local(2026, 12, 1, 12, 0), finalised_at=local(2026, 12, 1, 13, 0),
                      triggers=("first_patient_death",), learners=("student2",))
    assert {row.plan_kind for row in stages_of(app, named).values()} == {PlanKind.HIGH_RISK}


def test_two_sessions_in_one_week_merge_into_one_stage_a_week(app, people, planning):
    first = debriefed(app, people, planning, scenario="penicillin-allergy-anaphylaxis",
                      ends_at=local(2026, 11, 2, 12, 0), finalised_at=local(2026, 11, 2, 13, 0))
    second = debriefed(app, people, planning, scenario="ward-handover-omission",
                       ends_at=local(2026, 11, 4, 12, 0), finalised_at=local(2026, 11, 4, 13, 0))
    with app.app_context():
        rows = db.session.scalars(select(FollowUp).where(
            FollowUp.user_id == people.ids["student"],
            FollowUp.status != FollowUpStatus.SKIPPED)).all()
        weeks = Counter(row.due_at.astimezone(CPH).isocalendar()[:2] for row in rows
                        if row.stage.offset_amount > 0)
        assert weeks and max(weeks.values()) == 1
        skipped = db.session.scalars(select(FollowUp).where(
            FollowUp.status == FollowUpStatus.SKIPPED)).all()
        # The older session's stages gave way to the newer session's in the same weeks.
        assert skipped and {row.session_id for row in skipped} == {first}
        kept = {row.stage_key for row in rows if row.session_id == second}
        assert {"FU1_early", "FU2_one_week", "FU3_one_month"} <= kept
        audit = db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "follow_ups.scheduled")).all()
        assert any("merged=" in detail and not detail.endswith("merged=0") for detail in audit)


def test_stages_scheduled_under_the_old_rules_are_recomputed_with_an_audit_entry(
        app, people, planning, clock):
    session_id = debriefed(app, people, planning, scenario="penicillin-allergy-anaphylaxis",
                           ends_at=local(2026, 11, 6, 11, 30),  # a Friday
                           finalised_at=local(2026, 11, 9, 10, 0))
    with app.app_context():
        week = db.session.scalar(select(FollowUp).where(
            FollowUp.session_id == session_id, FollowUp.stage_key == "FU2_one_week"))
        # As the old code had it: counted from finalising (Monday), landing a week later.
        week.anchor_at, week.due_at = local(2026, 11, 9, 10, 0), local(2026, 11, 16, 9, 0)
        week_id = week.id
        db.session.commit()
    # The scheduler runs this once when it starts, so an upgrade needs no extra step.
    assert recompute_followup_times(app, now=clock.now()) == 1
    with app.app_context():
        week = db.session.get(FollowUp, week_id)
        assert week.due_at == local(2026, 11, 13, 9, 0) and week.anchor_at == local(
            2026, 11, 6, 11, 30)
        assert db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == "follow_ups.recomputed")) == "rows=1"
        assert enrolment.recompute_unsent(db.session, now=clock.now()) == 0
