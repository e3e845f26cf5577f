"""Requests for a conversation: a peer supporter (tier 2), who may refer on to a professional.

Only the learner starts a request, and only what they choose to share travels with it. Every
time a supporter opens a request's content an audit event records who and which request,
never what it says.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.models import (
    CheckIn,
    Role,
    SimSession,
    SupporterTier,
    SupportRequest,
    SupportRequestEvent,
    SupportStatus,
    User,
)
from simdebrief.services import audit, signals

TEXT_MAX = 4000
WAITING = (SupportStatus.OPEN, SupportStatus.REFERRED)
IN_HAND = (SupportStatus.TAKEN, SupportStatus.CONTACTED)


def _clean_text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise InvalidInput({field: [_("This field contains a character that is not allowed.")]})
    if len(text) > TEXT_MAX:
        raise InvalidInput({field: [_("Please keep it under %(count)d characters.",
                                      count=TEXT_MAX)]})
    return text


def _event(session: Session, request: SupportRequest, *, actor: User, action: str,
           now: datetime, note: str = "") -> None:
    request.events.append(SupportRequestEvent(at=now, actor_id=actor.id, action=action,
                                              note=note or None))
    request.updated_at = now
    session.flush()
    audit.record(session, action=f"support_request.{action}", actor=actor, now=now,
                 object_type="support_request", object_id=request.id,
                 detail=f"tier={request.tier.value} status={request.status.value}")


def create_request(
    session: Session, *, learner: User, tier: SupporterTier, now: datetime,
    sim_session: SimSession | None = None, checkin: CheckIn | None = None,
    message: str = "", instructors_informed: bool = False,
) -> SupportRequest:
    """The learner asks for a conversation, sharing the check-in and/or message they chose.

    ``instructors_informed`` lets the session's instructors see that the learner asked;
    they never see what was shared.
    """
    tier = SupporterTier(tier)
    text = _clean_text(message, "message")
    if sim_session is not None and sim_session.participant_for(learner) is None:
        raise InvalidInput(_("You can only link a session you take part in."))
    if checkin is not None:
        if checkin.user_id != learner.id or checkin.skipped:
            raise InvalidInput({"share_checkin": [_("That check-in cannot be shared.")]})
        if sim_session is None and checkin.session is not None:
            sim_session = checkin.session
    request = SupportRequest(
        centre_id=learner.centre_id, learner_id=learner.id,
        session_id=sim_session.id if sim_session is not None else None,
        tier=tier, status=SupportStatus.OPEN,
        instructors_informed=bool(instructors_informed and sim_session is not None),
        shared_checkin_id=checkin.id if checkin is not None else None,
        message=text or None, created_at=now, updated_at=now,
    )
    session.add(request)
    session.flush()
    _event(session, request, actor=learner, action="created", now=now)
    signals.support_requested.send(request, now=now)
    return request


def withdraw(session: Session, *, request: SupportRequest, learner: User,
             now: datetime) -> None:
    """The learner takes back a request nobody has picked up yet."""
    if request.learner_id != learner.id:
        raise InvalidState(_("Only the person who asked can withdraw a request."))
    if request.status is not SupportStatus.OPEN:
        raise InvalidState(_("A supporter has already picked this request up. You can tell "
                             "them you no longer need the conversation."))
    request.status = SupportStatus.CLOSED
    request.closed_at = now
    _event(session, request, actor=learner, action="withdrawn", now=now)


def _require_assignee(request: SupportRequest, supporter: User) -> None:
    if request.assignee_id != supporter.id:
        raise InvalidState(_("Take the request first; it is then yours to follow up."))


def take(session: Session, *, request: SupportRequest, supporter: User, now: datetime) -> None:
    if request.status not in WAITING:
        raise InvalidState(_("This request has already been taken or closed."))
    if supporter.supporter_tier is not request.tier:
        raise InvalidState(_("This request is for the other tier of supporters."))
    request.status = SupportStatus.TAKEN
    request.assignee_id = supporter.id
    _event(session, request, actor=supporter, action="taken", now=now)


def record_contact(session: Session, *, request: SupportRequest, supporter: User, note: str,
                   now: datetime) -> None:
    """The supporter has talked with, or written to, the learner; the note stays private."""
    _require_assignee(request, supporter)
    if request.status not in IN_HAND:
        raise InvalidState(_("Contact can only be recorded for a request you have taken."))
    text = _clean_text(note, "note")
    request.status = SupportStatus.CONTACTED
    _event(session, request, actor=supporter, action="contacted", now=now, note=text)


def refer(session: Session, *, request: SupportRequest, supporter: User, now: datetime,
          note: str = "") -> None:
    """A peer supporter passes the request, with what the learner shared, to professionals."""
    _require_assignee(request, supporter)
    if request.tier is not SupporterTier.PEER or request.status not in IN_HAND:
        raise InvalidState(_("Only a peer request you have taken can be referred."))
    text = _clean_text(note, "note")
    request.tier = SupporterTier.PROFESSIONAL
    request.status = SupportStatus.REFERRED
    request.assignee_id = None
    _event(session, request, actor=supporter, action="referred", now=now, note=text)
    signals.support_requested.send(request, now=now)


def close(session: Session, *, request: SupportRequest, supporter: User, now: datetime,
          note: str = "") -> None:
    _require_assignee(request, supporter)
    if request.status is SupportStatus.CLOSED:
        raise InvalidState(_("This request is already closed."))
    text = _clean_text(note, "note")
    request.status = SupportStatus.CLOSED
    request.closed_at = now
    _event(session, request, actor=supporter, action="closed", now=now, note=text)


def record_view(session: Session, *, request: SupportRequest, viewer: User, now: datetime,
                ip_address: str = "") -> None:
    """Call whenever a supporter is shown what a learner shared."""
    audit.record(session, action="support_request.viewed", actor=viewer, now=now,
                 object_type="support_request", object_id=request.id, ip_address=ip_address)


def queue_query(supporter: User) -> Select:
    """Unassigned requests of the supporter's tier, and the ongoing ones assigned to them,
    oldest first; never a colleague's case (the same rule as
    ``policy.may_view_support_request``). A query, so that the page can take one page of it."""
    conditions = [SupportRequest.assignee_id == supporter.id]
    if supporter.supporter_tier is not None:
        conditions.append(and_(SupportRequest.assignee_id.is_(None),
                               SupportRequest.tier == supporter.supporter_tier))
    return (select(SupportRequest)
            .where(SupportRequest.centre_id == supporter.centre_id,
                   SupportRequest.status != SupportStatus.CLOSED, or_(*conditions))
            .order_by(SupportRequest.created_at, SupportRequest.id))



def requests_of(session: Session, learner: User) -> list[SupportRequest]:
    """The learner's own requests, newest first."""
    return list(session.scalars(
        select(SupportRequest).where(SupportRequest.learner_id == learner.id)
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())))


def supporters_to_notify(session: Session, request: SupportRequest) -> list[User]:
    """The centre's active supporters of the request's tier."""
    return list(session.scalars(
        select(User).where(User.centre_id == request.centre_id, User.role == Role.SUPPORTER,
                           User.supporter_tier == request.tier,
                           User.is_active_account.is_(True))
        .order_by(User.id)))


def support_requested_learner_ids(session: Session, sim_session: SimSession) -> set[int]:
    """Learners of this session who sent a request and agreed that its instructors may know.

    The only per-learner signal instructors get: that someone asked, never what they shared
    or how the request went. A withdrawn request no longer counts.
    """
    participants = {p.user_id for p in sim_session.participants}
    ids = session.scalars(
        select(SupportRequest.learner_id).where(
            SupportRequest.session_id == sim_session.id,
            SupportRequest.instructors_informed.is_(True),
            ~SupportRequest.events.any(SupportRequestEvent.action == "withdrawn"))).all()
    return {learner_id for learner_id in ids if learner_id in participants}
