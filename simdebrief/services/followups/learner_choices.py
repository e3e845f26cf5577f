"""The learner's choices: pause, resume or stop with one click and no reason; tracks they start
after a real event.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session, selectinload

from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.languages import gettext as _
from simdebrief.models import (
    EventTrack,
    FollowUp,
    FollowUpChoice,
    FollowUpPreference,
    FollowUpStatus,
    PreferenceState,
    SimSession,
    TrackKind,
    TrackStatus,
    User,
)
from simdebrief.models.followups import NOT_YET_SENT
from simdebrief.services import audit, notifications
from simdebrief.services.followups.plan_versions import current_plan
from simdebrief.services.followups.stage_catalogue import TRACK_PLAN, stage_times
from simdebrief.services.followups.stage_rows import (
    new_followup,
    preference_of,
    state_of,
)

ACTIONS = {"pause": PreferenceState.PAUSED, "resume": PreferenceState.ACTIVE,
           "stop": PreferenceState.STOPPED}


def set_choice(session: Session, *, user: User, action: str, now: datetime,
               via: str = "page") -> PreferenceState:
    """Pause, resume or stop all of the learner's follow-ups: one click, no reason asked.

    The choice is recorded with its time. Pausing holds every stage not yet sent; stopping
    ends them; both cancel the learner's follow-up emails still waiting in the outbox.
    Resuming brings held stages back, except those whose window has passed.
    """
    if action not in ACTIONS:
        raise InvalidInput(_("Unknown choice."))
    state = ACTIONS[action]
    preference = preference_of(session, user)
    if preference is None:
        preference = FollowUpPreference(user_id=user.id, state=PreferenceState.ACTIVE,
                                        changed_at=now)
        session.add(preference)
    if preference.state is state:
        return state
    preference.state = state
    preference.changed_at = now
    session.add(FollowUpChoice(user_id=user.id, action=action, via=via, at=now))
    mine = FollowUp.user_id == user.id
    if state is PreferenceState.PAUSED:
        session.execute(update(FollowUp)
                        .where(mine, FollowUp.status == FollowUpStatus.SCHEDULED)
                        .values(status=FollowUpStatus.PAUSED, status_changed_at=now)
                        .execution_options(synchronize_session=False))
    elif state is PreferenceState.STOPPED:
        session.execute(update(FollowUp)
                        .where(mine, FollowUp.status.in_(NOT_YET_SENT))
                        .values(status=FollowUpStatus.STOPPED, status_changed_at=now)
                        .execution_options(synchronize_session=False))
    if state is not PreferenceState.ACTIVE:
        # Stop means stop: what is still waiting in the outbox goes nowhere, decided in the
        # same transaction as the choice itself.
        notifications.cancel_followup_emails(
            session, list(session.scalars(select(FollowUp.id).where(mine))))
    else:
        held = session.scalars(
            select(FollowUp).where(mine, FollowUp.status.in_(
                (FollowUpStatus.PAUSED, FollowUpStatus.STOPPED)))
            .options(selectinload(FollowUp.stage), selectinload(FollowUp.track))
            .execution_options(populate_existing=True)).all()
        for followup in held:
            if followup.track is not None and followup.track.status is TrackStatus.ENDED:
                continue
            late = now > followup.due_at + timedelta(days=followup.stage.window_days)
            followup.status = FollowUpStatus.SKIPPED if late else FollowUpStatus.SCHEDULED
            followup.status_changed_at = now
    session.flush()
    audit.record(session, action=f"follow_ups.{action}", actor=user, now=now,
                 object_type="user", object_id=user.id, detail=f"via={via}")
    return state


def preference_and_choices(session: Session, user: User, limit: int
                           ) -> tuple[FollowUpPreference | None, list[FollowUpChoice]]:
    """The learner's standing choice (None: never chosen, so active) and their latest
    ``limit`` choices, in one statement: the timeline shows both on every view."""
    rows = session.execute(_preference_with_choices(limit), {"user_id": user.id}).all()
    preference = rows[0][0] if rows else None
    return preference, [choice for _preference, choice in rows if choice is not None]


@functools.cache
def _preference_with_choices(limit: int) -> Select:
    """The learner's row, their preference (if any) and each of their latest choices (if
    any) joined to it: one row when they never chose, one per choice otherwise."""
    return (select(FollowUpPreference, FollowUpChoice).select_from(User)
            .outerjoin(FollowUpPreference, FollowUpPreference.user_id == User.id)
            .outerjoin(FollowUpChoice, FollowUpChoice.user_id == User.id)
            .where(User.id == bindparam("user_id"))
            .order_by(FollowUpChoice.at.desc(), FollowUpChoice.id.desc())
            .limit(limit))


def start_track(session: Session, *, user: User, kind: TrackKind | str, now: datetime,
                related_session: SimSession | None = None) -> EventTrack:
    """A learner starts a track; it is their clear wish for check-ins, so held follow-ups
    are turned back on (the page says so before they click)."""
    kind = TrackKind(kind)
    if session.scalar(select(EventTrack.id).where(
            EventTrack.user_id == user.id, EventTrack.kind == kind,
            EventTrack.status == TrackStatus.ACTIVE)) is not None:
        raise InvalidState(_("You already have this track running. You can end it from its "
                             "page and start a new one."))
    if related_session is not None and related_session.participant_for(user) is None:
        raise InvalidInput({"session_id": [_("Choose a session you took part in.")]})
    if state_of(session, user) is not PreferenceState.ACTIVE:
        set_choice(session, user=user, action="resume", now=now, via="track")
    plan = current_plan(session, user.centre, TRACK_PLAN[kind], now)
    track = EventTrack(centre_id=user.centre_id, user_id=user.id, kind=kind, plan_id=plan.id,
                       related_session_id=related_session.id if related_session else None,
                       status=TrackStatus.ACTIVE, started_at=now)
    session.add(track)
    session.flush()
    for stage in plan.stages:
        if stage.on_event:
            continue  # kept back for its event (``track_branches``)
        due, expires = stage_times(stage, now, user.centre.timezone, user.centre.country)
        session.add(new_followup(stage, plan, user_id=user.id, centre_id=user.centre_id,
                              track_id=track.id, anchor=now, due=due, expires=expires,
                              state=PreferenceState.ACTIVE, now=now))
    session.flush()
    audit.record(session, action="event_track.started", actor=user, now=now,
                 object_type="event_track", object_id=track.id)
    return track


def end_track(session: Session, *, track: EventTrack, user: User, now: datetime) -> None:
    if track.user_id != user.id:
        raise InvalidState(_("Only the learner who started a track can end it."))
    if track.status is TrackStatus.ENDED:
        return
    track.status = TrackStatus.ENDED
    track.ended_at = now
    session.execute(update(FollowUp)
                    .where(FollowUp.track_id == track.id, FollowUp.status.in_(NOT_YET_SENT))
                    .values(status=FollowUpStatus.STOPPED, status_changed_at=now)
                    .execution_options(synchronize_session=False))
    notifications.cancel_followup_emails(
        session, list(session.scalars(select(FollowUp.id).where(FollowUp.track_id == track.id))))
    session.flush()
    audit.record(session, action="event_track.ended", actor=user, now=now,
                 object_type="event_track", object_id=track.id)


#: A claim older than this is taken to be from a dispatcher that died, and is taken again.
