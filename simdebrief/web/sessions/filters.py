"""The session list's filters: a GET form read from the query string, applied in SQL.

A value that is not valid (a date that is not one, a room of another centre) is named next
to its field and left out of the query; the list still shows.
"""

from __future__ import annotations

import functools
from datetime import time, timedelta

from flask import render_template
from markupsafe import Markup
from sqlalchemy import Select, String, bindparam, func, literal_column, select, union_all
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from simdebrief.languages import gettext as _
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import Room, Scenario, ScenarioVersion, SessionStatus, SimSession
from simdebrief.scenario_translations import current_language
from simdebrief.timefmt import local_to_utc
from simdebrief.web.forms import Form, choices
from simdebrief.web.ids import coerce_id
from simdebrief.web.navigation import session_status

SHOW = ("upcoming", "past", "all")


def _optional_id(value):
    if value in (None, "", 0, "0"):
        return 0
    return coerce_id(value)


class SessionFilterForm(Form):
    class Meta:
        csrf = False  # a GET form that changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    room = SelectField(_l("Room"), coerce=_optional_id, default=0)
    scenario = SelectField(_l("Scenario"), coerce=_optional_id, default=0)
    status = SelectField(_l("Status"), default="")

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))


#: The query string's names of the filters.
NAMES = ("date_from", "date_to", "room", "scenario", "status")


def given_in(args) -> bool:
    """Whether the query string asks for any filter (even one that is not valid)."""
    return any(args.get(name) for name in NAMES)


def filter_form(session, centre_id: int, args) -> SessionFilterForm:
    """The form bound to the query string, with the centre's rooms and the scenarios."""
    form = SessionFilterForm(formdata=args)
    _fill(form, *_choice_rows(session, centre_id, current_language()))
    form.validate()
    return form


def _choice_rows(session, centre_id: int, language: str) -> tuple[tuple, tuple]:
    """The centre's rooms and the scenarios, each by name, in one statement."""
    rooms, scenarios = [], []
    for kind, key, name in session.execute(_choices(language), {"centre_id": centre_id}):
        (rooms if kind == _ROOM else scenarios).append((key, name))
    return tuple(rooms), tuple(scenarios)


def _fill(form: SessionFilterForm, rooms: tuple, scenarios: tuple) -> None:
    form.room.choices = choices([(0, _("Any room"))] + [(i, name) for i, name in rooms])
    form.scenario.choices = choices([(0, _("Any scenario"))] + [(i, t) for i, t in scenarios])
    form.status.choices = choices([("", _("Any status"))] + [
        (status.value, session_status(status)) for status in SessionStatus])


def blank_fields(session, centre_id: int) -> Markup:
    """The filters' fields with nothing chosen, as HTML: the list's usual first view.

    Rendering the five fields (WTForms' widgets, the field macro) cost a quarter of the
    list's view, and the blank fields are the same for every reader of a centre who reads
    the same language. So they are kept per (language, rooms, scenarios): the rooms and
    scenarios are read on every view, so a new room or a renamed scenario is a new entry,
    never a stale form. Nothing of a reader is kept (no value they typed)."""
    language = current_language()
    return _blank_fields(language, *_choice_rows(session, centre_id, language))


@functools.lru_cache(maxsize=32)
def _blank_fields(language: str, rooms: tuple, scenarios: tuple) -> Markup:
    form = SessionFilterForm(formdata=None)
    _fill(form, rooms, scenarios)
    return Markup(render_template("sessions/_filter_fields.html", filter_form=form))  # noqa: S704


_ROOM, _SCENARIO = "room", "scenario"


@functools.cache
def _choices(language: str) -> Select:
    """The list's statements are built once per process (per language, per shape of the
    filters): building them cost more than running them. Values come as bound parameters.
    The rooms and the scenarios come in one statement, each kind by name: on PostgreSQL a
    second one cost the list a round trip on every view."""
    title = ScenarioVersion.title_expression(language)
    rooms = select(literal_column(f"'{_ROOM}'", String).label("kind"), Room.id.label("key"),
                   Room.name.label("name"), func.lower(Room.name).label("sort")) \
        .where(Room.centre_id == bindparam("centre_id"))
    scenarios = (select(literal_column(f"'{_SCENARIO}'", String), Scenario.id, title,
                        func.lower(title))
                 .join(ScenarioVersion, ScenarioVersion.id == Scenario.current_version_id))
    both = union_all(rooms, scenarios).subquery()
    return (select(both.c.kind, both.c.key, both.c.name)
            .order_by(both.c.kind, both.c.sort, both.c.key))


def _valid(field):
    return field.data if field.raw_data and not field.errors else None


def bound(form: SessionFilterForm, zone: str) -> tuple[frozenset[str], dict]:
    """Which filters were given and are valid, and their values for ``apply``'s bound
    parameters. Dates are whole days in the centre's zone; a session counts when any part
    of it falls in the range."""
    date_from, date_to = _valid(form.date_from), _valid(form.date_to)
    if date_to and date_from and date_to < date_from:
        date_to = None
    values: dict = {}
    if date_from:
        values.update(SimSession.ends_after_values(local_to_utc(date_from, time(0, 0), zone)))
    if date_to:
        values["before"] = local_to_utc(date_to + timedelta(days=1), time(0, 0), zone)
    room, scenario, status = _valid(form.room), _valid(form.scenario), _valid(form.status)
    if room:
        values["room_id"] = room
    if scenario:
        values["scenario_id"] = scenario
    if status:
        values["status"] = SessionStatus(status)
    return frozenset(values), values


def apply(query: Select, given: frozenset[str]) -> Select:
    """The query narrowed by the ``given`` filters (``bound``), their values bound."""
    if "ends_after" in given:
        query = query.where(SimSession.ends_after())
    if "before" in given:
        query = query.where(SimSession.starts_at < bindparam("before"))
    if "room_id" in given:
        query = query.where(SimSession.room_id == bindparam("room_id"))
    if "scenario_id" in given:
        query = query.where(SimSession.scenario_version_id.in_(
            select(ScenarioVersion.id)
            .where(ScenarioVersion.scenario_id == bindparam("scenario_id"))))
    if "status" in given:
        query = query.where(SimSession.status == bindparam("status"))
    return query


def pager_args(form: SessionFilterForm) -> dict[str, str]:
    """The filters as query parameters, so the pager's links keep them."""
    values = {"date_from": _valid(form.date_from), "date_to": _valid(form.date_to),
              "room": _valid(form.room) or None, "scenario": _valid(form.scenario) or None,
              "status": _valid(form.status) or None}
    return {name: value.isoformat() if hasattr(value, "isoformat") else str(value)
            for name, value in values.items() if value}
