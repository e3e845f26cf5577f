"""Local time for people: conversion from what they type, and formatting in a centre's zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import match_skeleton
from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import format_percent as babel_format_percent
from flask_babel import get_timezone

from simdebrief.languages import locale_in_force


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


#: Every way a date or time is shown, by name. English and Danish have patterns of their own
#: (the house style: "Mon 30 Nov 2026, 06:27", "man. 30. nov. 2026 06.27"); any other locale
#: gets CLDR's pattern for the (date skeleton, time skeleton) pair.
STYLES: dict[str, tuple[str | None, str | None]] = {
    "datetime": ("yMMMEd", "Hm"),
    "date": ("yMMMd", None),
    "day_month": ("MMMd", None),
    "long_date": ("yMMMMd", None),
    "long_datetime": ("yMMMMd", "Hm"),
    "weekday_date": ("yMMMMEEEEd", None),
    "weekday_datetime": ("yMMMMEEEEd", "Hm"),
    "weekday_day_month": ("MMMMEEEEd", None),
    "weekday_day_month_time": ("MMMMEEEEd", "Hm"),
    "day_month_time": ("MMMd", "Hm"),
    "weekday_time": ("E", "Hm"),
    "time": (None, "Hm"),
    "month": ("yMMMM", None),
    "weekday": ("EEEE", None),
    "weekday_short": ("E", None),
}

PATTERNS: dict[str, dict[str, str]] = {
    "en": {
        "datetime": "EEE d MMM y, HH:mm",
        "date": "d MMM y",
        "day_month": "d MMM",
        "long_date": "d MMMM y",
        "long_datetime": "d MMMM y, HH:mm",
        "weekday_date": "EEEE d MMMM y",
        "weekday_datetime": "EEEE d MMMM y, HH:mm",
        "weekday_day_month": "EEEE d MMMM",
        "weekday_day_month_time": "EEEE d MMMM, HH:mm",
        "day_month_time": "d MMM, HH:mm",
        "weekday_time": "EEE HH:mm",
        "time": "HH:mm",
        "month": "LLLL y",
        "weekday": "EEEE",
        "weekday_short": "EEE",
    },
    "da": {
        "datetime": "EEE d. MMM y HH.mm",
        "date": "d. MMM y",
        "day_month": "d. MMM",
        "long_date": "d. MMMM y",
        "long_datetime": "d. MMMM y 'kl.' HH.mm",
        "weekday_date": "EEEE 'den' d. MMMM y",
        "weekday_datetime": "EEEE 'den' d. MMMM y 'kl.' HH.mm",
        "weekday_day_month": "EEEE 'den' d. MMMM",
        "weekday_day_month_time": "EEEE 'den' d. MMMM 'kl.' HH.mm",
        "day_month_time": "d. MMM HH.mm",
        "weekday_time": "EEE HH.mm",
        "time": "HH.mm",
        "month": "LLLL y",
        "weekday": "EEEE",
        "weekday_short": "EEE",
    },
}


#: Moments kept written out (``local_text``): well under a megabyte a process.
FORMATTED_KEPT = 4096


def current_locale() -> Locale:
    """The locale in force (a request's, or one set by ``force_locale``); English otherwise."""
    try:
        locale = locale_in_force()
    except (RuntimeError, AttributeError):  # outside an app, or before Babel is set up
        locale = None
    return locale or Locale.parse("en")


def pattern(style: str, locale: Locale) -> str:
    """The Babel pattern of a named style in ``locale``."""
    own = PATTERNS.get(str(locale)) or PATTERNS.get(locale.language)
    if own is not None:
        return own[style]
    if style in ("weekday", "weekday_short"):  # a single field: the same in every language
        return PATTERNS["en"][style]
    date_skeleton, time_skeleton = STYLES[style]
    parts = [_skeleton_pattern(s, locale) for s in (time_skeleton, date_skeleton) if s]
    if len(parts) == 1:
        return parts[0]
    return locale.datetime_formats["medium"].replace("{0}", parts[0]).replace("{1}", parts[1])


def _skeleton_pattern(skeleton: str, locale: Locale) -> str:
    best = match_skeleton(skeleton, locale.datetime_skeletons) or skeleton
    return str(locale.datetime_skeletons.get(best, skeleton))


def local_text(moment: datetime, zone: str, style: str = "datetime") -> str:
    """``moment`` in ``zone``, written the current language's way (see ``STYLES``)."""
    return _formatted(moment, zone, style, current_locale())


@lru_cache(maxsize=FORMATTED_KEPT)
def _formatted(moment: datetime, zone: str, style: str, locale: Locale) -> str:
    """Babel writes a moment field by field (tens of microseconds); a page shows the same
    session and window times on every visit, so the text is kept, a few thousand at most."""
    return babel_format_datetime(moment, pattern(style, locale), tzinfo=ZoneInfo(zone),
                                 locale=locale)


def moment_writer(zone: str, style: str = "datetime") -> Callable[[datetime], str]:
    """``local_text`` for many moments in one zone and style: the language in force is read
    once, not once a moment (a list writes a date on each of its rows)."""
    locale = current_locale()

    def write(moment: datetime) -> str:
        return _formatted(moment, zone, style, locale)

    return write


def date_text(day: date | datetime, style: str = "date", zone: str | None = None) -> str:
    """A calendar date (or a moment's date in ``zone``) in the current language."""
    if isinstance(day, datetime):
        return local_text(day, zone or "UTC", style)
    return _date_formatted(day, style, current_locale())


@lru_cache(maxsize=FORMATTED_KEPT)
def _date_formatted(day: date, style: str, locale: Locale) -> str:
    """Kept as ``local_text``'s moments are: the overview writes twelve week starts and a
    month calendar some forty days on every view, the same ones from one view to the next."""
    return babel_format_date(day, pattern(style, locale), locale=locale)


def span_text(start: datetime, end: datetime, zone: str) -> str:
    """From ``start`` to ``end`` in ``zone``: the end's date is left out when it is the
    start's. Kept as ``local_text``'s texts are (a list shows a span per row)."""
    return _span(start, end, zone, current_locale())


@lru_cache(maxsize=FORMATTED_KEPT)
def _span(start: datetime, end: datetime, zone: str, locale: Locale) -> str:
    same_day = to_local(start, zone).date() == to_local(end, zone).date()
    end_text = _formatted(end, zone, "time" if same_day else "datetime", locale)
    return f"{_formatted(start, zone, 'datetime', locale)}–{end_text}"


def number_text(value: float | int) -> str:
    """A figure written the current language's way ("4.5", "4,5")."""
    return babel_format_decimal(value, format="#,##0.#", locale=current_locale())


def percent_text(rate: float) -> str:
    """A share (0–1) as a whole percentage the current language's way ("45%", "45 %")."""
    return _percent(rate, current_locale())


@lru_cache(maxsize=FORMATTED_KEPT)
def _percent(rate: float, locale: Locale) -> str:
    """Kept as dates are: Babel applies its number pattern each time (the follow-up overview
    writes a rate per stage, the same ones view after view)."""
    return babel_format_percent(rate, locale=locale)


def reader_text(moment: datetime, style: str = "datetime") -> str:
    """``moment`` in the time zone of the current page's reader (their centre's), for
    templates whose macros cannot see the user."""
    return local_text(moment, str(get_timezone() or "UTC"), style)
