"""Rooms' booked and free times: the week grid per room, and what to suggest when a plan
clashes with a booking (the nearest free room at that time, the nearest free time there).

Slots are hours of the working day in the centre's zone; a session outside them still shows
in the grid's list of other bookings. Nothing here imports scheduling (scheduling uses it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from simdebrief.models import Centre, Room, ScenarioVersion, SessionStatus, SimSession
from simdebrief.timefmt import local_to_utc, to_local

#: The working day the grid shows and the suggestions keep to, in local hours.
DAY_START, DAY_END = 8, 18
SLOT = timedelta(hours=1)
#: How far either side of a wanted time the nearest free time is looked for.
SEARCH_SPAN = timedelta(days=14)
STEP = timedelta(minutes=30)
#: What the grid shows as booked: past sessions too.
BOOKED = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, SessionStatus.DEBRIEFED)
#: What a new plan clashes with, as in scheduling's own check.
CLASHING = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Cell:
    day: date
    starts_at: datetime
    ends_at: datetime
    #: The session booking (part of) this slot, or None when the slot is free.
    booking: SimSession | None
    #: The slot's local end as the scheduling form takes it ("10:00").
    end_label: str = ""


@dataclass
class RoomWeek:
    room: Room
    monday: date
    days: list[date]
    #: One row per slot: (local start "08:00", the seven cells of that hour).
    rows: list[tuple[str, list[Cell]]]
    #: Bookings wholly outside the working day's slots, which no cell shows.
    outside: list[SimSession] = field(default_factory=list)

    @property
    def free_slots(self) -> int:
        return sum(1 for _label, cells in self.rows for cell in cells if cell.booking is None)


def _bookings(session: Session, room: Room, start: datetime, end: datetime,
              exclude_id: int | None = None, statuses=BOOKED) -> list[SimSession]:
    query = (select(SimSession)
             .where(SimSession.room_id == room.id, SimSession.status.in_(statuses),
                    SimSession.overlapping(start, end))
             .options(joinedload(SimSession.scenario_version).load_only(ScenarioVersion.title))
             .order_by(SimSession.starts_at))
    if exclude_id is not None:
        query = query.where(SimSession.id != exclude_id)
    return list(session.scalars(query))


def room_week(session: Session, *, room: Room, monday: date) -> RoomWeek:
    """The room's week from ``monday``: each working hour booked or free. One query."""
    zone = room.centre.timezone
    days = [monday + timedelta(days=i) for i in range(7)]
    bookings = _bookings(session, room, local_to_utc(monday, time(0, 0), zone),
                         local_to_utc(monday + timedelta(days=7), time(0, 0), zone))
    rows, shown = [], set()
    for hour in range(DAY_START, DAY_END):
        cells = []
        for day in days:
            start = local_to_utc(day, time(hour, 0), zone)
            end = start + SLOT
            booking = next((s for s in bookings if s.starts_at < end and s.ends_at > start),
                           None)
            if booking is not None:
                shown.add(booking.id)
            cells.append(Cell(day, start, end, booking, f"{(hour + 1) % 24:02d}:00"))
        rows.append((f"{hour:02d}:00", cells))
    return RoomWeek(room, monday, days, rows, [s for s in bookings if s.id not in shown])


def _overlaps(bookings: list[SimSession], start: datetime, end: datetime) -> bool:
    return any(s.starts_at < end and s.ends_at > start for s in bookings)


def _in_working_day(start: datetime, end: datetime, zone: str) -> bool:
    local_start, local_end = to_local(start, zone), to_local(end, zone)
    return (local_start.date() == local_end.date()
            and local_start.time() >= time(DAY_START, 0)
            and local_end.time() <= time(DAY_END, 0))


def nearest_free_time(session: Session, *, room: Room, starts_at: datetime,
                      ends_at: datetime, now: datetime,
                      exclude_id: int | None = None) -> datetime | None:
    """The start nearest to ``starts_at`` (not before ``now``) at which the room is free for
    the same length of time, inside the working day when the wanted time was; None when the
    two weeks either side are full."""
    length = ends_at - starts_at
    zone = room.centre.timezone
    bookings = _bookings(session, room, starts_at - SEARCH_SPAN, ends_at + SEARCH_SPAN,
                         exclude_id, CLASHING)
    keep_to_day = _in_working_day(starts_at, ends_at, zone)
    candidates = {starts_at + STEP * k for k in range(1, int(SEARCH_SPAN / STEP) + 1)}
    candidates |= {starts_at - STEP * k for k in range(1, int(SEARCH_SPAN / STEP) + 1)}
    candidates |= {s.ends_at for s in bookings} | {s.starts_at - length for s in bookings}
    for start in sorted(candidates, key=lambda c: (abs(c - starts_at), c < starts_at)):
        if start < now or abs(start - starts_at) > SEARCH_SPAN:
            continue
        if keep_to_day and not _in_working_day(start, start + length, zone):
            continue
        if not _overlaps(bookings, start, start + length):
            return start
    return None


def free_rooms(session: Session, *, centre: Centre, starts_at: datetime, ends_at: datetime,
               places: int, exclude_room_id: int | None = None,
               exclude_id: int | None = None) -> list[Room]:
    """Active rooms of the centre with room for ``places`` and no booking at that time,
    the smallest that fits first."""
    busy = (select(SimSession.room_id)
            .where(SimSession.centre_id == centre.id, SimSession.status.in_(CLASHING),
                   SimSession.overlapping(starts_at, ends_at)))
    if exclude_id is not None:
        busy = busy.where(SimSession.id != exclude_id)
    query = (select(Room)
             .where(Room.centre_id == centre.id, Room.is_active.is_(True),
                    Room.capacity >= places, Room.id.not_in(busy))
             .order_by(Room.capacity, func.lower(Room.name)))
    if exclude_room_id is not None:
        query = query.where(Room.id != exclude_room_id)
    return list(session.scalars(query))
