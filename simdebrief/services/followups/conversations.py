"""Conversations that are offered, not only asked for.

A *conversation stage* (``FollowUpStage.offers_conversation``) goes out like any stage and
tells the learner that a supporter will propose a time; unless the learner declines with one
click within ``NOTICE``, a supporter task is created: a peer ``SupportRequest`` with a
proposed time, origin ``offered``. A "yes" to a stage question about a conversation or an
experienced colleague creates the same task at once (origin ``answer``). The follow-up row's
``conversation_state`` (None, ``task``, ``declined``) is claimed with conditional updates, so
two dispatchers never create two tasks and a decline never races a task into existence.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from simdebrief.models import (
    ConversationTask,
    FollowUp,
    FollowUpStage,
    FollowUpStatus,
    SupporterTier,
    SupportRequest,
    SupportRequestEvent,
    SupportStatus,
)
from simdebrief.services import audit, signals
from simdebrief.services.followups.stage_catalogue import at_local

#: How long the learner has to decline an offered conversation before the task is created.
NOTICE = timedelta(days=2)
#: Local hour of the proposed time.
PROPOSED_HOUR = 14
#: Stage answers that ask for a conversation.
YES_ANSWERS = {"closing_conversation": "yes", "role_model": "yes"}

TASK, DECLINED = "task", "declined"


def proposed_time(after: datetime, zone: str) -> datetime:
    """The next weekday after ``after`` at the proposed hour, local time."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return at_local(day, PROPOSED_HOUR, tz)


def offer_deadline(followup: FollowUp) -> datetime | None:
    """Until when the learner can decline before a supporter is asked."""
    return followup.sent_at + NOTICE if followup.sent_at else None


def offer_proposed_time(followup: FollowUp) -> datetime | None:
    deadline = offer_deadline(followup) or (followup.due_at + NOTICE)
    return proposed_time(deadline, followup.centre.timezone)


def _claim(session: Session, followup: FollowUp, state: str, *, only_if=None) -> bool:
    result = session.execute(
        update(FollowUp).where(FollowUp.id == followup.id,
                               FollowUp.conversation_state.is_(only_if))
        .values(conversation_state=state).execution_options(synchronize_session=False))
    if result.rowcount == 1:
        session.refresh(followup)
        return True
    return False


def _create_task(session: Session, followup: FollowUp, *, origin: str,
                 now: datetime) -> SupportRequest:
    request = SupportRequest(
        centre_id=followup.centre_id, learner_id=followup.user_id,
        session_id=followup.session_id, tier=SupporterTier.PEER, status=SupportStatus.OPEN,
        origin=origin,
        proposed_at=proposed_time(now, followup.centre.timezone),
        instructors_informed=False, created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    session.add(ConversationTask(followup_id=followup.id, request_id=request.id))
    request.events.append(SupportRequestEvent(at=now, actor_id=None, action="created"))
    session.flush()
    audit.record(session, action=f"conversation.{origin}", now=now,
                 object_type="support_request", object_id=request.id,
                 detail=f"follow_up={followup.id}")
    signals.support_requested.send(request, now=now)
    return request


def open_due_tasks(session: Session, now: datetime) -> list[SupportRequest]:
    """A task for every offered conversation whose notice has passed and that nobody
    declined; stages that were not sent (paused, stopped, skipped) offer nothing."""
    candidates = session.scalars(
        select(FollowUp).join(FollowUpStage, FollowUp.stage_id == FollowUpStage.id)
        .where(FollowUpStage.offers_conversation.is_(True),
               FollowUp.conversation_state.is_(None), FollowUp.sent_at.is_not(None),
               FollowUp.sent_at <= now - NOTICE,
               FollowUp.status.in_((FollowUpStatus.SENT, FollowUpStatus.COMPLETED,
                                    FollowUpStatus.EXPIRED, FollowUpStatus.SKIPPED)))
        .options(joinedload(FollowUp.centre), joinedload(FollowUp.user))).all()
    created = []
    for followup in candidates:
        if not followup.user.is_active_account:
            continue
        if _claim(session, followup, TASK):
            created.append(_create_task(session, followup, origin="offered", now=now))
    return created


def request_from_answer(session: Session, followup: FollowUp, stage_answers: dict[str, str],
                        now: datetime) -> SupportRequest | None:
    """A "yes" to a conversation question creates the supporter task straight away."""
    if not any(stage_answers.get(code) == value for code, value in YES_ANSWERS.items()):
        return None
    if not _claim(session, followup, TASK):
        return None
    return _create_task(session, followup, origin="answer", now=now)


def decline(session: Session, *, followup: FollowUp, now: datetime) -> bool:
    """The learner's one click: no conversation. A task already created is withdrawn.

    Returns False if there was nothing to decline (already declined).
    """
    if followup.conversation_state == DECLINED:
        return False
    if _claim(session, followup, DECLINED):
        declined = True
    else:
        declined = _claim(session, followup, DECLINED, only_if=TASK)
        if declined:
            for request in task_requests(session, followup):
                if request.status in (SupportStatus.OPEN, SupportStatus.REFERRED):
                    request.status = SupportStatus.CLOSED
                    request.closed_at = now
                    request.updated_at = now
                    request.events.append(SupportRequestEvent(
                        at=now, actor_id=followup.user_id, action="withdrawn"))
    if declined:
        session.flush()
        audit.record(session, action="conversation.declined", actor=followup.user, now=now,
                     object_type="follow_up", object_id=followup.id)
    return declined


def task_requests(session: Session, followup: FollowUp) -> list[SupportRequest]:
    return task_requests_of(session, [followup.id]).get(followup.id, [])


def task_requests_of(session: Session, followup_ids) -> dict[int, list[SupportRequest]]:
    """The requests behind each stage's conversation task, for a page of stages in one
    query (a timeline with many conversations asks as often as one with none)."""
    found: dict[int, list[SupportRequest]] = {}
    if followup_ids:
        for followup_id, request in session.execute(
                select(ConversationTask.followup_id, SupportRequest)
                .join(SupportRequest, ConversationTask.request_id == SupportRequest.id)
                .where(ConversationTask.followup_id.in_(set(followup_ids)))
                .order_by(SupportRequest.id)):
            found.setdefault(followup_id, []).append(request)
    return found
