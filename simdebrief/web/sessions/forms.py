from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional

from simdebrief.languages import lazy_gettext as _l
from simdebrief.web.forms import Form, no_nul, strip
from simdebrief.web.ids import coerce_id


class SessionForm(Form):
    scenario_version_id = SelectField(
        _l("Scenario"), coerce=coerce_id, validators=[DataRequired(_l("Choose a scenario."))])
    day = DateField(_l("Date"), validators=[DataRequired(_l("Enter the date, e.g. 2026-11-03."))])
    start_time = TimeField(_l("Starts at"),
                           validators=[DataRequired(_l("Enter the start time, e.g. 09:00."))])
    end_time = TimeField(_l("Ends at"),
                         description=_l("Include the debrief: it usually takes as long as the "
                                        "scenario itself, or longer."),
                         validators=[DataRequired(_l("Enter the end time, e.g. 12:00."))])
    room_id = SelectField(_l("Room"), coerce=coerce_id,
                          validators=[DataRequired(_l("Choose a room."))])
    instructor_ids = SelectMultipleField(_l("Instructors"), coerce=coerce_id)
    cohort_ids = SelectMultipleField(
        _l("Whole cohorts"), coerce=coerce_id,
        description=_l("Every student in the chosen cohorts takes part."))
    student_ids = SelectMultipleField(_l("Individual students"), coerce=coerce_id)
    note = TextAreaField(_l("Note for the team"), filters=[strip],
                         validators=[Optional(), Length(max=4000), no_nul])
    confirm_warnings = BooleanField(_l("Schedule anyway"))
    submit = SubmitField(_l("Save session"))


class CancelForm(Form):
    reason = TextAreaField(
        _l("Reason"), filters=[strip],
        description=_l("Sent to the participants with the cancellation."),
        validators=[DataRequired(_l("Say briefly why the session is cancelled.")),
                    Length(max=2000), no_nul])
    submit = SubmitField(_l("Cancel the session"))


class AttendanceForm(Form):
    present_ids = SelectMultipleField(_l("Present"), coerce=coerce_id)
    submit = SubmitField(_l("Start the session"))
