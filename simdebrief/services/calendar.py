"""iCalendar files: one session, a person's feed, a room's feed; resetting feed addresses.

Events keep the session's ``calendar_uid`` and ``sequence``, so a calendar app updates an
entry when a session changes and removes it when it is cancelled. Times are written in the
centre's zone with its VTIMEZONE, so they stay right across daylight-saving changes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from simdebrief.languages import gettext as _
from simdebrief.languages import ngettext
from simdebrief.models import (
    Role,
    Room,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
    session_instructor,
)
from simdebrief.models.users import new_security_stamp
from simdebrief.services import audit

if TYPE_CHECKING:
    from icalendar import Event

PRODID = "-//SimDebrief//Simulation sessions//EN"
#: How far back a feed reaches; older sessions drop out of subscribed calendars.
FEED_PAST = timedelta(days=90)
#: How far ahead a feed reaches; sessions are rarely planned further ahead than this.
FEED_FUTURE = timedelta(days=2 * 365)
#: How often calendar apps are asked to fetch a feed again.
REFRESH_INTERVAL = timedelta(hours=1)


class Audience(enum.StrEnum):
    """Who reads the event: the description is written for them."""

    #: A learner taking part: what to expect, nothing of the scenario's content.
    LEARNER = "learner"
    #: Instructors and admins: participant count, instructors and the planning note.
    STAFF = "staff"
    #: A room's calendar, which may be shown to anyone: no names of learners, no note.
    ROOM = "room"


def _uid(sim_session: SimSession) -> str:
    return f"{sim_session.calendar_uid}@simdebrief"


def _location(room: Room) -> str:
    return f"{room.name}, {room.location}" if room.location else room.name


def _description(sim_session: SimSession, audience: Audience) -> str:
    lines = []
    if sim_session.status is SessionStatus.CANCELLED:
        lines.append(_("This session has been cancelled."))
        # Participants are told the reason by email too; a room's calendar may be public.
        if sim_session.cancel_reason and audience is not Audience.ROOM:
            lines.append(f"{_('Reason:')} {sim_session.cancel_reason}")
        if audience is Audience.LEARNER:
            return "\n\n".join(lines)
    if audience is Audience.LEARNER:
        # The same words as the emails' "What to expect", so translations are shared.
        lines.append(_(
            "The session starts with a pre-brief: your instructors explain the goals, how the "
            "simulation works and what is expected of you. Mistakes are part of learning, you "
            "can ask for a time-out at any moment, and what happens in the session stays in "
            "the room."))
        lines.append(_(
            "A debrief follows the simulation: the group talks through what happened and why. "
            "Adverse events almost always have several causes, not one person."))
        lines.append(_(
            "Afterwards SimDebrief sends you a few short check-ins over the following weeks, "
            "because how an event affects you can change over time. You can pause or stop "
            "them at any time with one click, without giving a reason."))
        return "\n\n".join(lines)
    instructors = ", ".join(person.name for person in sim_session.instructors)
    lines.append(ngettext("Simulation session with %(num)d participant.",
                          "Simulation session with %(num)d participants.",
                          len(sim_session.participants)))
    if instructors:
        lines.append(_("Instructors: %(names)s", names=instructors))
    if audience is Audience.STAFF and sim_session.note:
        lines.append(sim_session.note)
    return "\n\n".join(lines)


def session_event(sim_session: SimSession, *, now: datetime,
                  audience: Audience = Audience.LEARNER) -> Event:
    """One VEVENT for the session, its times in the centre's zone."""
    zone = ZoneInfo(sim_session.centre.timezone)
    from icalendar import Event  # loaded on use: most processes never build a calendar

    cancelled = sim_session.status is SessionStatus.CANCELLED
    return Event.new(
        uid=_uid(sim_session),
        sequence=sim_session.sequence,
        stamp=now,
        last_modified=sim_session.updated_at,
        start=sim_session.starts_at.astimezone(zone),
        end=sim_session.ends_at.astimezone(zone),
        summary=sim_session.title,
        location=_location(sim_session.room),
        description=_description(sim_session, audience),
        status="CANCELLED" if cancelled else "CONFIRMED",
    )


def _calendar(name: str, events: Iterable[Event], *, uid: str | None = None) -> bytes:
    from icalendar import Calendar

    events = list(events)
    calendar = Calendar.new(prodid=PRODID, name=name, uid=uid, subcomponents=events,
                            refresh_interval=REFRESH_INTERVAL)
    days = [moment.date() for event in events for moment in (event.start, event.end)
            if isinstance(moment, datetime)]
    if days:
        # The zone's rules for the span the events cover, not for the default 1970–2038.
        calendar.add_missing_timezones(first_date=min(days) - timedelta(days=1),
                                       last_date=max(days) + timedelta(days=366))
    return calendar.to_ical()


def _feed_query(now: datetime):
    return (
        select(SimSession)
        .where(SimSession.starts_at >= now - FEED_PAST,
               SimSession.starts_at < now + FEED_FUTURE)
        .order_by(SimSession.starts_at, SimSession.id)
        .options(selectinload(SimSession.centre), selectinload(SimSession.instructors),
                 selectinload(SimSession.participants))
    )


def sessions_taken_part_in(session: Session, user: User, now: datetime) -> list[SimSession]:
    return list(session.scalars(_feed_query(now).where(SimSession.id.in_(
        select(SessionParticipant.session_id).where(SessionParticipant.user_id == user.id)
    ))).unique())


def sessions_taught(session: Session, user: User, now: datetime) -> list[SimSession]:
    return list(session.scalars(_feed_query(now).where(SimSession.id.in_(
        select(session_instructor.c.session_id).where(session_instructor.c.user_id == user.id)
    ))).unique())


#: A source of events for a person's feed: (db session, user, now) -> events.
EventSource = Callable[[Session, User, datetime], Iterable["Event"]]


def simulation_session_events(session: Session, user: User, now: datetime) -> list[Event]:
    """Learners: the sessions they take part in. Instructors and admins: those they teach."""
    if user.role is Role.STUDENT:
        return [session_event(s, now=now, audience=Audience.LEARNER)
                for s in sessions_taken_part_in(session, user, now)]
    if user.role in (Role.INSTRUCTOR, Role.ADMIN):
        return [session_event(s, now=now, audience=Audience.STAFF)
                for s in sessions_taught(session, user, now)]
    return []


#: Everything a personal feed shows. Other areas add their kinds of dates with
#: ``register_feed_source`` (the app does so at start-up), so this module depends on none of them.
USER_FEED_SOURCES: list[EventSource] = [simulation_session_events]


def register_feed_source(source: EventSource) -> None:
    """Add a kind of dates to every personal feed; registering the same source again is a no-op."""
    if source not in USER_FEED_SOURCES:
        USER_FEED_SOURCES.append(source)


def feed_for_user(session: Session, user: User, now: datetime, *,
                  sources: Iterable[EventSource] | None = None) -> bytes:
    events: list[Event] = []
    for source in USER_FEED_SOURCES if sources is None else sources:
        events.extend(source(session, user, now))
    return _calendar(_("SimDebrief: %(name)s", name=user.name), events,
                     uid=f"user-feed-{user.id}@simdebrief")


def feed_for_room(session: Session, room: Room, now: datetime) -> bytes:
    sessions = session.scalars(_feed_query(now).where(SimSession.room_id == room.id)).unique()
    return _calendar(_("SimDebrief: %(room)s", room=room.name),
                     (session_event(s, now=now, audience=Audience.ROOM) for s in sessions),
                     uid=f"room-feed-{room.id}@simdebrief")


def single_session_ics(sim_session: SimSession, now: datetime,
                       audience: Audience | str = Audience.LEARNER) -> bytes:
    """One session as a file to download and open in a calendar app."""
    event = session_event(sim_session, now=now, audience=Audience(audience))
    return _calendar(sim_session.title, [event])


def reset_user_feed(session: Session, *, user: User, now: datetime,
                    ip_address: str = "") -> str:
    """Give the person a new feed address; the old one stops working at once."""
    user.calendar_token = new_security_stamp()
    session.flush()
    audit.record(session, action="calendar.user_feed_reset", actor=user, now=now,
                 object_type="user", object_id=user.id, ip_address=ip_address)
    return user.calendar_token


def reset_room_feed(session: Session, *, room: Room, actor: User, now: datetime,
                    ip_address: str = "") -> str:
    room.calendar_token = new_security_stamp()
    session.flush()
    audit.record(session, action="calendar.room_feed_reset", actor=actor, now=now,
                 object_type="room", object_id=room.id, ip_address=ip_address)
    return room.calendar_token
