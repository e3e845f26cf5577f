from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from simdebrief.languages import lazy_gettext as _l
from simdebrief.services.support import TEXT_MAX
from simdebrief.web.forms import Form, no_nul, strip

NOTE_HINT = _l("Private to the supporters who work on this request; the learner's "
               "instructors never see it. Keep it short and factual.")


def _note(label):
    return TextAreaField(label, description=NOTE_HINT, filters=[strip],
                         validators=[Optional(), Length(max=TEXT_MAX), no_nul])


class TakeForm(Form):
    submit = SubmitField(_l("Take this request"))


class ContactForm(Form):
    note = _note(_l("Note about the contact (optional)"))
    submit = SubmitField(_l("Record that we have been in touch"))


class ReferForm(Form):
    note = _note(_l("Note for the professional supporters (optional)"))
    submit = SubmitField(_l("Refer to a professional"))


class CloseForm(Form):
    note = _note(_l("Closing note (optional)"))
    submit = SubmitField(_l("Close the request"))


class AvailabilityForm(Form):
    available = HiddenField(validators=[AnyOf(("0", "1"))])
    submit = SubmitField(_l("Change"))
