"""The crisis route: how strongly a learner's page responds, and the urgent human contact.

Three bands decide what the learner's page leads with:

* ``steady``: below the centre's offer threshold; the ways to talk stay available;
* ``offer``: distress at or above the offer threshold, or support asked for: the ways to
  talk come first;
* ``urgent``: distress at or above the centre's urgent threshold, or a self-harm cue in any
  free text: the centre's urgent contacts and a one-click urgent request to the on-duty
  professional come first.

A cue may also alert the on-duty professional at once (a centre setting, on by default): an
urgent request is raised for the learner and the email says only that it waits
(``support.alert_on_cue``, called by the operations that store free text). Nothing here
labels the learner; the bands choose words and buttons, nothing else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief import checkin_options as options
from simdebrief.crisis_cues import has_self_harm_cue
from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Centre,
    CheckIn,
    OnDutyShift,
    Role,
    SupporterTier,
    UrgentContact,
    User,
)
from simdebrief.services import audit


class Band(enum.StrEnum):
    STEADY = "steady"
    OFFER = "offer"
    URGENT = "urgent"


def band_for(centre: Centre, *, distress: int | None, texts: Iterable[str | None] = (),
             wants_support: bool = False) -> Band:
    if has_self_harm_cue(*texts):
        return Band.URGENT
    if distress is not None and distress >= centre.urgent_distress_threshold:
        return Band.URGENT
    if wants_support or (distress is not None and distress >= centre.distress_threshold):
        return Band.OFFER
    return Band.STEADY


def band_for_checkin(checkin: CheckIn, centre: Centre) -> Band:
    if checkin.skipped or not checkin.payload:
        return Band.STEADY
    return band_for(centre, distress=checkin.distress, texts=[checkin.free_text],
                    wants_support=options.wants_support(checkin.support_wanted))


def urgent_contacts(session: Session, centre: Centre) -> list[UrgentContact]:
    """The centre's urgent contacts, the emergency number first."""
    return list(session.scalars(
        select(UrgentContact).where(UrgentContact.centre_id == centre.id)
        .order_by(UrgentContact.is_emergency.desc(), UrgentContact.position,
                  UrgentContact.id)))


# --- the centre's urgent contacts and on-duty rota ------------------------------------------


def add_urgent_contact(session: Session, *, centre: Centre, actor: User, name: str,
                       phone: str, opening_hours: str, is_emergency: bool,
                       now: datetime) -> UrgentContact:
    name, phone, hours = (name or "").strip(), (phone or "").strip(), (opening_hours or "").strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 200 or "\x00" in name:
        errors["name"] = [_("Give the contact a name of at most 200 characters.")]
    if (not phone or len(phone) > 40
            or not all(c.isdigit() or c in " +-()/." for c in phone)
            or not any(c.isdigit() for c in phone)):
        errors["phone"] = [_("Enter a phone number with digits, spaces and + only.")]
    if len(hours) > 200 or "\x00" in hours:
        errors["opening_hours"] = [_("Please keep it under %(count)d characters.", count=200)]
    if errors:
        raise InvalidInput(errors)
    position = 1 + max((c.position for c in urgent_contacts(session, centre)), default=0)
    contact = UrgentContact(centre_id=centre.id, name=name, phone=phone, opening_hours=hours,
                            is_emergency=bool(is_emergency), position=position)
    session.add(contact)
    session.flush()
    audit.record(session, action="urgent_contact.added", actor=actor, now=now,
                 object_type="urgent_contact", object_id=contact.id)
    return contact


def remove_urgent_contact(session: Session, *, contact: UrgentContact, actor: User,
                          now: datetime) -> None:
    audit.record(session, action="urgent_contact.removed", actor=actor, now=now,
                 object_type="urgent_contact", object_id=contact.id)
    session.delete(contact)
    session.flush()


def professionals_of(session: Session, centre: Centre) -> list[User]:
    return list(session.scalars(
        select(User).where(User.centre_id == centre.id, User.role == Role.SUPPORTER,
                           User.supporter_tier == SupporterTier.PROFESSIONAL,
                           User.is_active_account.is_(True)).order_by(User.name)))


def add_shift(session: Session, *, centre: Centre, actor: User, supporter: User | None,
              starts_at: datetime, ends_at: datetime, now: datetime) -> OnDutyShift:
    if supporter is None or supporter.centre_id != centre.id \
            or supporter.supporter_tier is not SupporterTier.PROFESSIONAL:
        raise InvalidInput({"supporter_id": [_("Choose one of the centre's professional "
                                               "supporters.")]})
    if ends_at <= starts_at:
        raise InvalidInput({"ends_at": [_("The shift must end after it starts.")]})
    shift = OnDutyShift(centre_id=centre.id, supporter_id=supporter.id, starts_at=starts_at,
                        ends_at=ends_at)
    session.add(shift)
    session.flush()
    audit.record(session, action="on_duty_shift.added", actor=actor, now=now,
                 object_type="on_duty_shift", object_id=shift.id)
    return shift


def remove_shift(session: Session, *, shift: OnDutyShift, actor: User, now: datetime) -> None:
    audit.record(session, action="on_duty_shift.removed", actor=actor, now=now,
                 object_type="on_duty_shift", object_id=shift.id)
    session.delete(shift)
    session.flush()


def rota(session: Session, centre: Centre, now: datetime) -> list[OnDutyShift]:
    """Shifts not yet over, soonest first."""
    return list(session.scalars(
        select(OnDutyShift).where(OnDutyShift.centre_id == centre.id, OnDutyShift.ends_at > now)
        .order_by(OnDutyShift.starts_at, OnDutyShift.id)))
