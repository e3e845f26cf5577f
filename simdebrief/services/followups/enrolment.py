"""Creating every present learner's follow-up rows when a debrief is finalised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief.models import (
    Attendance,
    Debrief,
    FollowUp,
    PlanKind,
    SimSession,
)
from simdebrief.services import audit
from simdebrief.services.followups.plan_versions import current_plan
from simdebrief.services.followups.stage_catalogue import stage_times
from simdebrief.services.followups.stage_rows import new_followup, preference_states


def schedule_for_debrief(session: Session, debrief: Debrief, now: datetime, *,
                         anchor: datetime | None = None) -> list[FollowUp]:
    """The plan's stages for every learner who was present; idempotent.

    Offsets count from the end of the debrief (the moment it is finalised). Learners marked
    absent, or never marked, get none. A learner who paused or stopped follow-ups gets the
    stages paused or stopped, so the choice holds for every later stage too.
    """
    sim_session: SimSession = debrief.session
    centre = sim_session.centre
    plan = current_plan(session, centre, PlanKind.SESSION, now)
    anchor = anchor or debrief.finalised_at or now
    present = [p for p in sim_session.participants
               if p.attendance is Attendance.PRESENT and p.user.is_active_account]
    if not present:
        return []
    existing = set(session.execute(
        select(FollowUp.user_id, FollowUp.stage_key)
        .where(FollowUp.session_id == sim_session.id)))
    states = preference_states(session, {p.user_id for p in present})
    times = {stage.key: stage_times(stage, anchor, centre.timezone) for stage in plan.stages}
    created = []
    for participant in present:
        for stage in plan.stages:
            if (participant.user_id, stage.key) in existing:
                continue
            due, expires = times[stage.key]
            created.append(new_followup(stage, plan, user_id=participant.user_id,
                                     centre_id=centre.id, session_id=sim_session.id,
                                     cohort_id=participant.cohort_id, anchor=anchor, due=due,
                                     expires=expires, state=states.get(participant.user_id),
                                     now=now))
    if created:
        session.add_all(created)
        session.flush()
        audit.record(session, action="follow_ups.scheduled", now=now,
                     object_type="sim_session", object_id=sim_session.id,
                     detail=f"plan={plan.id} learners={len(present)} rows={len(created)}")
    return created
