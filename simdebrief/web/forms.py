"""Form pieces shared by every area."""

from __future__ import annotations

import wtforms
from flask import request
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SubmitField, ValidationError

from simdebrief.errors import InvalidInput
from simdebrief.languages import DOMAIN
from simdebrief.languages import lazy_gettext as _l


def no_nul(_form, field) -> None:
    """PostgreSQL refuses NUL in text while SQLite stores it; refuse it the same everywhere."""
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError(_l("This field contains a character that is not allowed."))


def strip(value):
    return value.strip() if isinstance(value, str) else value


def apply_service_errors(form, error: InvalidInput) -> None:
    """Put a service's field errors next to the fields; the rest at the top of the form."""
    for name, messages in error.errors.items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def form_status() -> int:
    """A form page shown again after a POST carries problems to fix: 400; a first view: 200."""
    return 400 if request.method == "POST" else 200


class _FormMessages:
    """What WTForms asks to translate its own messages: SimDebrief's catalogue, in the
    language in force (see ``simdebrief.web.form_messages``)."""

    def gettext(self, string: str) -> str:
        return DOMAIN.get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return DOMAIN.get_translations().ungettext(singular, plural, n)


FORM_MESSAGES = _FormMessages()


class _CatalogueMeta:
    """WTForms' form options: its messages from ``FORM_MESSAGES``."""

    def get_translations(self, form):
        return FORM_MESSAGES


class Form(FlaskForm):
    """Every SimDebrief form: Flask-WTF's (CSRF), with WTForms' messages in the reader's
    language from SimDebrief's catalogue, found once per request like every other string."""

    Meta = _CatalogueMeta


class SubForm(wtforms.Form):
    """A form inside another (``FormField``): no CSRF token of its own, the same messages."""

    Meta = _CatalogueMeta


class EmptyForm(Form):
    """A form with only the CSRF token, for buttons that change state."""

    submit = SubmitField(_l("Confirm"))
