"""Requests for a conversation: a peer supporter (tier 2), who may refer on to a professional.

Only the learner starts a request, and only what they choose to share travels with it. Every
time a supporter opens a request's content an audit event records who and which request,
never what it says.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, literal, or_, select
from sqlalchemy.orm import Session

from simdebrief.crisis_cues import has_self_harm_cue
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.languages import gettext as _
from simdebrief.models import (
    CheckIn,
    OnDutyShift,
    Role,
    SimSession,
    SupporterTier,
    SupportRequest,
    SupportRequestEvent,
    SupportStatus,
    User,
)
from simdebrief.models.wellbeing import STILL_OPEN
from simdebrief.services import audit, signals

TEXT_MAX = 4000
PHONE_MAX = 40
#: How a learner can prefer to be reached.
CHANNELS = ("email", "phone", "text", "in_person")
WAITING = (SupportStatus.OPEN, SupportStatus.REFERRED)
#: The event of a peer request passed up to the professionals when nobody took it in time.
TO_PROFESSIONALS = "escalated_to_professionals"
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
    message: str = "", instructors_informed: bool = False, contact: Contact | None = None,
) -> SupportRequest:
    """The learner asks for a conversation, sharing the check-in and/or message they chose.

    ``instructors_informed`` lets the session's instructors see that the learner asked;
    they never see what was shared. ``contact`` is how and when they would like to be
    reached. A self-harm cue in the message also runs the crisis route (``alert_on_cue``).
    """
    tier = SupporterTier(tier)
    text = _clean_text(message, "message")
    contact = clean_contact(contact or Contact())
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
        phone=contact.phone or None, preferred_channel=contact.preferred_channel or None,
        good_times=contact.good_times or None,
    )
    session.add(request)
    session.flush()
    _event(session, request, actor=learner, action="created", now=now)
    signals.support_requested.send(request, now=now)
    alert_on_cue(session, learner=learner, texts=[text], now=now, sim_session=sim_session)
    return request


@dataclass(frozen=True)
class Contact:
    """How and when the learner would like to be reached; all optional."""

    phone: str = ""
    preferred_channel: str = ""
    good_times: str = ""


def clean_contact(contact: Contact) -> Contact:
    phone = (contact.phone or "").strip()
    if phone and (len(phone) > PHONE_MAX
                  or not all(c.isdigit() or c in " +-()/." for c in phone)
                  or sum(c.isdigit() for c in phone) < 4):
        raise InvalidInput({"phone": [_("Enter a phone number with digits, spaces and + only, "
                                        "or leave it empty.")]})
    channel = contact.preferred_channel or ""
    if channel and channel not in CHANNELS:
        raise InvalidInput({"preferred_channel": [_("Choose from the options shown.")]})
    if channel in ("phone", "text") and not phone:
        raise InvalidInput({"phone": [_("Add the number to call or text, or choose another "
                                        "way to be reached.")]})
    good_times = _clean_text(contact.good_times, "good_times")[:200]
    return Contact(phone, channel, good_times)


# --- urgent requests: the crisis route ----------------------------------------------------


def active_urgent_request(session: Session, learner: User) -> SupportRequest | None:
    return session.scalar(
        select(SupportRequest)
        .where(SupportRequest.learner_id == learner.id, SupportRequest.urgent.is_(True),
               SupportRequest.status != SupportStatus.CLOSED)
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc()).limit(1))


def raise_urgent_request(session: Session, *, learner: User, now: datetime,
                         sim_session: SimSession | None = None,
                         origin: str = "urgent") -> SupportRequest:
    """An urgent request to the on-duty professional, carrying no text; one at a time.

    Pressing the button twice, or after the crisis route already raised one, returns the
    request that is still open instead of a second one.
    """
    existing = active_urgent_request(session, learner)
    if existing is not None:
        return existing
    request = SupportRequest(
        centre_id=learner.centre_id, learner_id=learner.id,
        session_id=sim_session.id if sim_session is not None else None,
        tier=SupporterTier.PROFESSIONAL, status=SupportStatus.OPEN, urgent=True,
        origin=origin, instructors_informed=False, created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    _event(session, request, actor=learner, action="created", now=now)
    signals.support_requested.send(request, now=now)
    return request


def alert_on_cue(session: Session, *, learner: User, texts: Iterable[str | None],
                 now: datetime, sim_session: SimSession | None = None,
                 ) -> SupportRequest | None:
    """If a text holds a self-harm cue and the centre chose to be alerted, raise an urgent
    request at once. It carries no text; its email says only that it waits."""
    if not learner.centre.alert_on_self_harm_cue or not has_self_harm_cue(*texts):
        return None
    return raise_urgent_request(session, learner=learner, now=now, sim_session=sim_session,
                                origin="cue_alert")


def on_duty_professionals(session: Session, centre_id: int, now: datetime) -> list[User]:
    """Who answers urgent requests now: the rota's professionals on duty, else every
    available professional, else every active professional (never nobody by choice)."""
    on_shift = list(session.scalars(
        select(User).join(OnDutyShift, OnDutyShift.supporter_id == User.id)
        .where(OnDutyShift.centre_id == centre_id, OnDutyShift.starts_at <= now,
               OnDutyShift.ends_at > now, User.is_active_account.is_(True))
        .order_by(User.id).distinct()))
    if on_shift:
        return on_shift
    professionals = list(session.scalars(
        select(User).where(User.centre_id == centre_id, User.role == Role.SUPPORTER,
                           User.supporter_tier == SupporterTier.PROFESSIONAL,
                           User.is_active_account.is_(True)).order_by(User.id)))
    available = [user for user in professionals if user.supporter_available]
    return available or professionals


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
    ``policy.may_view_support_request``). A query, so that the page can take one page of it;
    its values (``queue_values``) are bound when it runs.

    Every supporter's page asks it (the navigation counts the queue), so it is built once per
    process for supporters with a tier and once for those without."""
    return _queue_statement(supporter.supporter_tier is not None)


def queue_values(supporter: User) -> dict:
    return {"supporter_id": supporter.id, "centre_id": supporter.centre_id,
            "tier": supporter.supporter_tier}


@functools.cache
def _queue_statement(with_tier: bool) -> Select:
    # Each branch whole, so each reads its own index: the supporter's own requests by
    # (assignee, status), the tier's by (centre, tier, status). The centre is checked in
    # both, never outside them ("+ 0" in the first keeps SQLite from choosing the centre's
    # index for it, which would read every request the centre ever had).
    conditions = [and_(SupportRequest.assignee_id == bindparam("supporter_id"),
                       SupportRequest.status.in_(STILL_OPEN),
                       SupportRequest.centre_id + literal(0) == bindparam("centre_id"))]
    if with_tier:
        conditions.append(and_(SupportRequest.centre_id == bindparam("centre_id"),
                               SupportRequest.tier == bindparam("tier"),
                               SupportRequest.status.in_(STILL_OPEN),
                               SupportRequest.assignee_id.is_(None)))
    return (select(SupportRequest)
            .where(or_(*conditions))
            .order_by(SupportRequest.urgent.desc(), SupportRequest.created_at,
                      SupportRequest.id))



def requests_of(session: Session, learner: User) -> list[SupportRequest]:
    """The learner's own requests, newest first."""
    return list(session.scalars(
        select(SupportRequest).where(SupportRequest.learner_id == learner.id)
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())))


def supporters_to_notify(session: Session, request: SupportRequest,
                         now: datetime | None = None) -> list[User]:
    """Who hears of a waiting request: for an urgent one the on-duty professionals; otherwise
    the centre's active supporters of the tier who marked themselves available (all of the
    tier if nobody is available, so a request is never announced to no one)."""
    if request.urgent and now is not None:
        return on_duty_professionals(session, request.centre_id, now)
    supporters = list(session.scalars(
        select(User).where(User.centre_id == request.centre_id, User.role == Role.SUPPORTER,
                           User.supporter_tier == request.tier,
                           User.is_active_account.is_(True))
        .order_by(User.id)))
    available = [user for user in supporters if user.supporter_available]
    return available or supporters


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


