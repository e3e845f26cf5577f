"""Tracks that branch on what the learner tells us.

The complaint track runs monthly through the usual waiting time. When the learner answers
that "a decision has come", waiting is over: the monthly stages not yet sent are skipped, and
the stages the plan keeps back for that event (``FollowUpStage.on_event == "decision"``: a
closing check-in that offers a conversation) are scheduled from that moment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from simdebrief.models import FollowUp, FollowUpStatus, TrackKind, TrackStatus
from simdebrief.models.followups import NOT_YET_SENT
from simdebrief.services import audit
from simdebrief.services.followups.stage_catalogue import stage_times
from simdebrief.services.followups.stage_rows import new_followup, state_of

DECISION = "decision"


def on_stage_answered(session: Session, followup: FollowUp, stage_answers: dict[str, str],
                      now: datetime) -> list[FollowUp]:
    """Branch the complaint track when the learner says the decision has come; once."""
    track = followup.track
    if (track is None or track.kind is not TrackKind.COMPLAINT
            or track.status is not TrackStatus.ACTIVE
            or stage_answers.get("complaint_stage") != "decided"):
        return []
    branch = [stage for stage in track.plan.stages if stage.on_event == DECISION]
    existing = set(session.scalars(select(FollowUp.stage_key).where(
        FollowUp.track_id == track.id)))
    if not branch or any(stage.key in existing for stage in branch):
        return []
    waiting = [stage.key for stage in track.plan.stages if not stage.on_event]
    skipped = session.execute(
        update(FollowUp).where(FollowUp.track_id == track.id,
                               FollowUp.stage_key.in_(waiting),
                               FollowUp.status.in_(NOT_YET_SENT))
        .values(status=FollowUpStatus.SKIPPED, status_changed_at=now)
        .execution_options(synchronize_session=False)).rowcount or 0
    centre, user = followup.centre, followup.user
    state = state_of(session, user)
    created = []
    for stage in branch:
        due, expires = stage_times(stage, now, centre.timezone, centre.country)
        created.append(new_followup(stage, track.plan, user_id=user.id, centre_id=centre.id,
                                    track_id=track.id, anchor=now, due=due, expires=expires,
                                    state=state, now=now))
    session.add_all(created)
    session.flush()
    audit.record(session, action="event_track.branched", actor=user, now=now,
                 object_type="event_track", object_id=track.id,
                 detail=f"event={DECISION} skipped={skipped} added={len(created)}")
    return created
