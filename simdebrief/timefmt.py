"""Local time for people: conversion from what they type, and formatting in a centre's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from flask_babel import get_locale


class NonexistentLocalTime(ValueError):
    """The wall-clock time is skipped by a daylight-saving change in that zone."""


def local_to_utc(day: date, at: time, zone: str) -> datetime:
    """Interpret a date and time as wall-clock time in ``zone``.

    A time inside the spring-forward gap does not exist and is refused; a time in the autumn
    overlap is taken as its first occurrence (summer time), as a person reading a clock would.
    """
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at, tzinfo=tz)
    round_trip = local.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(f"{local:%Y-%m-%d %H:%M} does not exist in {zone}")
    return local.astimezone(UTC)


def to_local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def local_text(moment: datetime, zone: str, pattern: str = "EEE d MMM y, HH:mm") -> str:
    """Format ``moment`` in ``zone`` for the current language (English outside a request)."""
    try:
        locale = get_locale() or "en"
    except RuntimeError:
        locale = "en"
    return babel_format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=locale)


def span_text(start: datetime, end: datetime, zone: str) -> str:
    same_day = to_local(start, zone).date() == to_local(end, zone).date()
    end_text = local_text(end, zone, "HH:mm" if same_day else "EEE d MMM y, HH:mm")
    return f"{local_text(start, zone)}–{end_text}"
