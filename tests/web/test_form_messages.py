"""WTForms' own messages (the length limits, "Not a valid choice.") read in the reader's
language, from SimDebrief's catalogue, and building a form reads no catalogue from disk."""

from __future__ import annotations

import re
from pathlib import Path

import flask_wtf.i18n
import wtforms
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.i18n import messages_path
from wtforms.validators import Length

import simdebrief.web  # noqa: F401  (every form module imported through the blueprints)
from simdebrief.web.form_messages import MESSAGES
from simdebrief.web.forms import Form, SubForm, choices


def _subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_the_marked_messages_are_the_ones_wtforms_can_show():
    """A WTForms upgrade that adds or rewords a message fails here, not on a Danish page."""
    with (Path(messages_path()) / "wtforms.pot").open("rb") as handle:
        theirs = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    ours = {m if isinstance(m, str) else m[0] for m in MESSAGES}
    assert ours == theirs


def test_every_form_of_simdebrief_translates_through_its_catalogue(app):
    with app.app_context():
        import simdebrief.web.admin.forms  # noqa: F401
    mine = {cls for cls in _subclasses(FlaskForm) | _subclasses(wtforms.Form)
            if cls.__module__.startswith("simdebrief.")}
    assert len(mine) > 40
    strays = sorted(cls.__qualname__ for cls in mine
                    if not issubclass(cls, (Form, SubForm)))
    assert not strays, f"forms that bypass simdebrief.web.forms.Form: {strays}"


def test_a_danish_reader_sees_the_length_limit_in_danish(client):
    page = client.post("/login", data={"email": "x" * 300 + "@example.org", "password": "p"},
                       headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert "Feltet må højst være 254 tegn langt." in page
    assert "Field cannot be longer" not in page

    english = client.post("/login", data={"email": "x" * 300 + "@example.org", "password": "p"},
                          headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Field cannot be longer than 254 characters." in english


def test_a_form_is_built_without_reading_a_catalogue_from_disk(app, monkeypatch):
    """Flask-WTF would read WTForms' catalogue from disk once per request."""

    def no_disk():
        raise AssertionError("Flask-WTF's per-request catalogue was read")

    monkeypatch.setattr(flask_wtf.i18n, "_get_translations", no_disk)

    class Pick(Form):
        colour = SelectField(choices=choices([("red", "Red")]))
        note = StringField(validators=[Length(max=3)])

    with app.test_request_context("/", method="POST",
                                  data={"colour": "blue", "note": "four"}), force_locale("da"):
        form = Pick(meta={"csrf": False})
        assert not form.validate()
        assert form.colour.errors == ["Ikke et gyldigt valg."]
        assert re.fullmatch(r"Feltet må højst være 3 tegn langt\.", form.note.errors[0])
