"""A learner's follow-up rows, and the standing choice (active, paused, stopped) they start in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief.models import (
    FollowUp,
    FollowUpPlan,
    FollowUpPreference,
    FollowUpStage,
    FollowUpStatus,
    PreferenceState,
    User,
)


def preference_states(session: Session, user_ids: Iterable[int]) -> dict[int, PreferenceState]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    return dict(session.execute(select(FollowUpPreference.user_id, FollowUpPreference.state)
                                .where(FollowUpPreference.user_id.in_(ids))).all())


def preference_of(session: Session, user: User) -> FollowUpPreference | None:
    return session.get(FollowUpPreference, user.id)


def state_of(session: Session, user: User) -> PreferenceState:
    preference = preference_of(session, user)
    return preference.state if preference is not None else PreferenceState.ACTIVE


_STATUS_FOR_STATE = {
    None: FollowUpStatus.SCHEDULED,
    PreferenceState.ACTIVE: FollowUpStatus.SCHEDULED,
    PreferenceState.PAUSED: FollowUpStatus.PAUSED,
    PreferenceState.STOPPED: FollowUpStatus.STOPPED,
}


def new_followup(stage: FollowUpStage, plan: FollowUpPlan, *, user_id: int, centre_id: int,
              anchor: datetime, due: datetime, expires: datetime,
              state: PreferenceState | None, now: datetime, session_id: int | None = None,
              track_id: int | None = None, cohort_id: int | None = None) -> FollowUp:
    status = _STATUS_FOR_STATE[state]
    return FollowUp(centre_id=centre_id, user_id=user_id, session_id=session_id,
                    track_id=track_id, cohort_id=cohort_id, plan_id=plan.id, stage_id=stage.id,
                    stage_key=stage.key, anchor_at=anchor, due_at=due, expires_at=expires,
                    status=status, created_at=now,
                    status_changed_at=None if status is FollowUpStatus.SCHEDULED else now)
