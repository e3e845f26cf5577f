"""Whole numbers from URLs, query strings and forms, bounded to what the database can hold.

Ids are 64-bit signed integers in PostgreSQL and SQLite; a larger number is not an id of
anything, so it is a 404 (path) or ignored/refused (query string, form) rather than an
``OverflowError`` deep in the database driver.
"""

from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter
from wtforms import ValidationError

from simdebrief.languages import lazy_gettext as _l

MAX_ID = 2**63 - 1
#: Pages beyond this are empty anyway; the bound keeps OFFSET inside 64 bits.
MAX_PAGE = 10**9


class IdConverter(IntegerConverter):
    """``<int:…>`` that matches only 0 … 2**63-1, so larger numbers are a plain 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=-MAX_ID - 1 if min is None else min,
                         max=MAX_ID if max is None else max, signed=signed)


def query_int(name: str, *, minimum: int = 0, maximum: int = MAX_ID,
              source=None) -> int | None:
    """An integer from the query string (or ``source``), or None when it is missing,
    malformed or out of range."""
    text = (request.args if source is None else source).get(name, "")
    if not text or len(text) > 20 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def page_number() -> int:
    return query_int("page", minimum=1, maximum=MAX_PAGE) or 1


def coerce_id(value) -> int:
    """WTForms ``coerce`` for select fields holding ids: refuses anything that is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        if not text or len(text) > 20 or not text.isascii() or not text.lstrip("-").isdigit():
            raise ValueError("not an id")
        number = int(text)
    if not 0 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def whole_number(minimum: int = -MAX_ID, maximum: int = MAX_ID):
    """A validator for IntegerFields with no natural range, keeping values inside 64 bits."""

    def check(_form, field) -> None:
        if field.data is not None and not minimum <= field.data <= maximum:
            raise ValidationError(_l("Enter a number between %(low)d and %(high)d.",
                                     low=minimum, high=maximum))

    return check
