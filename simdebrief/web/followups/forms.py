from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import FollowUpStage, OffsetUnit, TrackKind
from simdebrief.services.followups import learner_choices, stage_catalogue
from simdebrief.web.forms import Form, SubForm, choices, no_nul, strip
from simdebrief.web.learner.forms import CheckInForm


class StageAnswersForm(CheckInForm):
    """The check-in, trimmed to the parts a stage asks, plus the stage's own questions."""

    submit = SubmitField(_l("Save my answers"))


def stage_form(stage: FollowUpStage, **kwargs) -> StageAnswersForm:
    fields = {}
    for code in stage.questions or ():
        question = stage_catalogue.question(code)
        if question is None:
            continue
        # Checked against the known values by the service, which names the field if wrong.
        fields[f"q_{code}"] = RadioField(question.label, description=question.hint or None,
                                         choices=choices(question.choices),
                                         validate_choice=False, validators=[Optional()])
    # Through the form metaclass, so the new fields are collected (plain type() would not).
    form_class = type(StageAnswersForm)("StageForm", (StageAnswersForm,), fields)
    form = form_class(**kwargs)
    for part in stage_catalogue.PART_CODES:
        if part not in (stage.parts or ()):
            del form[part]
    return form


def stage_answers(form: StageAnswersForm) -> dict[str, str]:
    return {name[2:]: field.data for name, field in form._fields.items()
            if name.startswith("q_") and field.data}


class ChoiceForm(Form):
    """Pause, resume or stop: one click, no reason asked."""

    action = HiddenField(validators=[AnyOf(tuple(learner_choices.ACTIONS))])


class TrackForm(Form):
    kind = RadioField(
        _l("What happened?"),
        choices=choices([(TrackKind.COMPLAINT.value, _l("I received a patient complaint")),
                         (TrackKind.REACTIVATED.value,
                          _l("A real event brought a scenario back")),
                         (TrackKind.REAL_EVENT.value,
                          _l("Something happened at work that stays with me"))]),
        validate_choice=False,
        validators=[InputRequired(_l("Choose one of the options.")),
                    AnyOf(tuple(k.value for k in TrackKind), _l("Choose one of the options."))])
    session_id = SelectField(
        _l("Which session did it bring back? (optional)"),
        description=_l("Only you see this. It helps you find the session's resources again."),
        choices=[], validate_choice=False, validators=[Optional()])
    submit = SubmitField(_l("Start the check-ins"))


class EndTrackForm(Form):
    submit = SubmitField(_l("End this track"))


UNIT_CHOICES = [(unit.value, stage_catalogue.UNIT_NAMES[unit]) for unit in OffsetUnit]


class StageRowForm(SubForm):
    key = StringField(_l("Key"), filters=[strip], validators=[Optional(), Length(max=40),
                                                             no_nul],
                      description=_l("Letters, digits and underscores; it links the stage "
                                     "across versions."))
    title = StringField(_l("Title"), filters=[strip],
                        validators=[Optional(), Length(max=200), no_nul])
    offset_amount = IntegerField(_l("Offset"), validators=[Optional()])
    offset_unit = SelectField(_l("Unit"), choices=choices(UNIT_CHOICES),
                              default=OffsetUnit.DAYS.value)
    send_hour = IntegerField(_l("Local send hour"), default=9, validators=[Optional()])
    window_days = IntegerField(_l("May go out up to (days late)"), default=2,
                               validators=[Optional()])
    reminder_after_days = IntegerField(_l("Reminder after (days, empty for none)"),
                                       validators=[Optional()])
    expires_after_days = IntegerField(_l("Closes after (days)"), default=7,
                                      validators=[Optional()])
    parts = SelectMultipleField(_l("Check-in parts"), choices=choices(stage_catalogue.PARTS))
    questions = SelectMultipleField(
        _l("Stage questions"),
        choices=choices([(q.code, q.label) for q in stage_catalogue.QUESTIONS]))
    content = SelectMultipleField(_l("Lessons and resources"),
                                  choices=choices(stage_catalogue.CONTENT))
    offers_conversation = BooleanField(
        _l("Offer a conversation"),
        description=_l("A supporter gets a task to propose a time, unless the learner declines "
                       "with one click."))
    on_event = SelectField(
        _l("When"), choices=choices([("", _l("On the schedule")),
                                     ("decision", _l("Only once the learner says a decision "
                                                     "has come, counted from then"))]),
        validate_choice=False, validators=[Optional()])
    remove = BooleanField(_l("Remove this stage"))


class PlanForm(Form):
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(_l("Give the plan a name.")), Length(max=200),
                                   no_nul])
    description = TextAreaField(_l("Description"), filters=[strip],
                                validators=[Optional(), Length(max=2000), no_nul])
    stages = FieldList(FormField(StageRowForm))
    apply_to_unsent = BooleanField(
        _l("Apply to stages not yet sent"),
        description=_l("Follow-ups already scheduled then follow this version: new times, "
                       "removed stages skipped, new stages added for learners whose "
                       "follow-ups are still running. Unticked, they keep their version."))
    submit = SubmitField(_l("Save as a new version"))
