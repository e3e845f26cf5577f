"""Creating every present learner's follow-up rows when a debrief is finalised.

The plan fits the event: a session whose debrief names one of the centre's high-risk trigger
types, or whose scenario carries one of its high-risk flags, gets the high-risk plan. Stages
count from the end of the session (not from when the debrief was finalised, which may be days
later); only a stage with no offset ("right after the debrief") counts from finalising. A
learner in several sessions close together never gets two stages in the same week: the plans
merge (``_merge``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from simdebrief.models import (
    Attendance,
    Centre,
    Debrief,
    FollowUp,
    FollowUpStage,
    FollowUpStatus,
    PlanKind,
    SimSession,
)
from simdebrief.models.followups import NOT_YET_SENT
from simdebrief.services import audit
from simdebrief.services.followups.plan_versions import current_plan
from simdebrief.services.followups.stage_catalogue import plan_times
from simdebrief.services.followups.stage_rows import new_followup, preference_states

#: Statuses of a stage that was, or will be, in the learner's inbox.
_COUNTS_FOR_A_WEEK = (*NOT_YET_SENT, FollowUpStatus.CLAIMED, FollowUpStatus.SENT,
                      FollowUpStatus.COMPLETED, FollowUpStatus.EXPIRED)


def plan_kind_for(debrief: Debrief) -> PlanKind:
    """High-risk when the debrief's triggers or the scenario's risk flags include one the
    centre maps to the high-risk plan."""
    centre = debrief.session.centre
    version = debrief.session.scenario_version
    triggers = set(debrief.triggers or ()) & set(centre.high_risk_triggers or ())
    flags = set(version.risk_flags or ()) & set(centre.high_risk_flags or ())
    return PlanKind.HIGH_RISK if triggers or flags else PlanKind.SESSION


def stage_anchor(stage: FollowUpStage, *, session_end: datetime, finalised: datetime
                 ) -> datetime:
    """Stages count from the end of the session; "right after the debrief" (no offset) from
    the moment it was finalised."""
    return finalised if stage.offset_amount == 0 else session_end


def schedule_for_debrief(session: Session, debrief: Debrief, now: datetime, *,
                         anchor: datetime | None = None) -> list[FollowUp]:
    """The fitting plan's stages for every learner who was present; idempotent.

    Learners marked absent, or never marked, get none. A learner who paused or stopped
    follow-ups gets the stages paused or stopped, so the choice holds for every later stage.
    ``anchor`` replaces the session's end (for tests and tools).
    """
    sim_session: SimSession = debrief.session
    centre = sim_session.centre
    kind = plan_kind_for(debrief)
    plan = current_plan(session, centre, kind, now)
    stages = [stage for stage in plan.stages if not stage.on_event]
    finalised = debrief.finalised_at or now
    session_end = anchor or sim_session.ends_at
    present = [p for p in sim_session.participants
               if p.attendance is Attendance.PRESENT and p.user.is_active_account]
    if not present:
        return []
    existing = set(session.execute(
        select(FollowUp.user_id, FollowUp.stage_key)
        .where(FollowUp.session_id == sim_session.id)))
    states = preference_states(session, {p.user_id for p in present})
    anchors = {stage.key: stage_anchor(stage, session_end=session_end, finalised=finalised)
               for stage in stages}
    times = plan_times(stages, anchors, centre.timezone, centre.country)
    created = []
    for participant in present:
        for stage in stages:
            if (participant.user_id, stage.key) in existing:
                continue
            due, expires = times[stage.key]
            created.append(new_followup(stage, plan, user_id=participant.user_id,
                                        centre_id=centre.id, session_id=sim_session.id,
                                        cohort_id=participant.cohort_id,
                                        anchor=anchors[stage.key], due=due, expires=expires,
                                        state=states.get(participant.user_id), now=now))
    if created:
        session.add_all(created)
        session.flush()
        merged = _merge(session, centre, sim_session, created, now)
        audit.record(session, action="follow_ups.scheduled", now=now,
                     object_type="sim_session", object_id=sim_session.id,
                     detail=f"plan={plan.id} kind={kind.value} learners={len(present)} "
                            f"rows={len(created)} merged={merged}")
    return created


def _week(moment: datetime, zone: ZoneInfo) -> tuple[int, int]:
    year, week, _day = moment.astimezone(zone).date().isocalendar()
    return year, week


def _merge(session: Session, centre: Centre, sim_session: SimSession,
           created: list[FollowUp], now: datetime) -> int:
    """No learner gets two stages in the same week from different sessions.

    Within one week the newer session's stage stays and an older one not yet sent is
    skipped; if the older one was already sent, the newer one is skipped. Stages right after
    a debrief (no offset) are part of the session and never merged away. Returns how many
    stages were skipped.
    """
    zone = ZoneInfo(centre.timezone)
    learners = {f.user_id for f in created}
    others = session.scalars(
        select(FollowUp).join(FollowUpStage, FollowUp.stage_id == FollowUpStage.id)
        .where(FollowUp.user_id.in_(learners), FollowUp.session_id.is_not(None),
               FollowUp.session_id != sim_session.id, FollowUp.status.in_(_COUNTS_FOR_A_WEEK),
               FollowUpStage.offset_amount > 0)).all()
    by_week: dict[tuple[int, tuple[int, int]], list[FollowUp]] = defaultdict(list)
    for other in others:
        by_week[(other.user_id, _week(other.due_at, zone))].append(other)
    skipped = 0
    for followup in created:
        if followup.stage.offset_amount == 0 or followup.status not in NOT_YET_SENT:
            continue
        clashes = by_week.get((followup.user_id, _week(followup.due_at, zone)), [])
        if any(c.status not in NOT_YET_SENT for c in clashes):
            skipped += _skip(session, followup, now)
            continue
        for clash in clashes:
            skipped += _skip(session, clash, now)
    return skipped


def _skip(session: Session, followup: FollowUp, now: datetime) -> int:
    result = session.execute(
        update(FollowUp).where(FollowUp.id == followup.id, FollowUp.status.in_(NOT_YET_SENT))
        .values(status=FollowUpStatus.SKIPPED, status_changed_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount:
        session.refresh(followup)
    return result.rowcount or 0


def recompute_unsent(session: Session, *, now: datetime,
                     centre: Centre | None = None) -> int:
    """Bring stages not yet sent in line with the current timing rules (anchored on the
    session's end, next-day stages, weekends and public holidays skipped), with the same
    maths as new enrolments. One audit entry per centre with the number of stages whose
    time changed."""
    query = select(FollowUp).where(FollowUp.session_id.is_not(None))
    if centre is not None:
        query = query.where(FollowUp.centre_id == centre.id)
    enrolments: dict[tuple[int, int], list[FollowUp]] = defaultdict(list)
    for followup in session.scalars(query):
        enrolments[(followup.user_id, followup.session_id)].append(followup)
    changed: dict[int, int] = defaultdict(int)
    for rows in enrolments.values():
        if not any(row.status in NOT_YET_SENT for row in rows) or rows[0].session is None:
            continue
        plan, where = rows[0].plan, rows[0].centre
        immediate = [row.anchor_at for row in rows if row.stage.offset_amount == 0]
        session_end = rows[0].session.ends_at
        finalised = immediate[0] if immediate else session_end
        stages = [stage for stage in plan.stages if not stage.on_event]
        anchors = {stage.key: stage_anchor(stage, session_end=session_end, finalised=finalised)
                   for stage in stages}
        times = plan_times(stages, anchors, where.timezone, where.country)
        for row in rows:
            if row.status not in NOT_YET_SENT or row.stage_key not in times:
                continue
            due, expires = times[row.stage_key]
            anchor = anchors[row.stage_key]
            if (due, expires, anchor) != (row.due_at, row.expires_at, row.anchor_at):
                row.anchor_at, row.due_at, row.expires_at = anchor, due, expires
                changed[row.centre_id] += 1
    session.flush()
    for centre_id, count in sorted(changed.items()):
        audit.record(session, action="follow_ups.recomputed", now=now, object_type="centre",
                     object_id=centre_id, detail=f"rows={count}")
    return sum(changed.values())
