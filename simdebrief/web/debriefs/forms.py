"""Debrief forms. The main form is built per debrief: its phases follow the centre's
framework and its framing checklist follows the centre's Just Culture setting."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from simdebrief import taxonomy
from simdebrief.languages import lazy_gettext as _l
from simdebrief.web.forms import Form, choices, no_nul, strip
from simdebrief.web.ids import whole_number

LONG_TEXT = [Optional(), Length(max=20000), no_nul]


def field_key(code: str) -> str:
    return code.replace(".", "__")


def notes_form_class(phases, framing_items):
    """A form class with one field per pre-brief item, phase and framing point."""

    class DebriefNotesForm(Form):
        #: The version the page was loaded at; a save based on an older one is refused.
        version = IntegerField(widget=HiddenInput(), validators=[Optional(), whole_number(0)])
        role_model_story_shared = BooleanField(
            _l("The scenario's role-model story was shared with the group"))
        triggers = SelectMultipleField(
            _l("Second-victim triggers that arose in the session"),
            choices=choices(taxonomy.TRIGGER_TYPES),
            description=_l("What in this session could leave a learner feeling wounded. The "
                           "triggers your centre counts as high-risk give the learners who "
                           "were there the high-risk follow-up plan (an extra check-in with a "
                           "conversation offered), and ask you to check in with each of them "
                           "within 24 hours."))
        take_home_messages = TextAreaField(
            _l("The group's take-home messages"), filters=[strip],
            description=_l("One message per line. Learners receive these in their feedback."),
            validators=LONG_TEXT)
        submit = SubmitField(_l("Save the debrief"))

    for code, label in taxonomy.PREBRIEF_ITEMS:
        setattr(DebriefNotesForm, f"prebrief_{code}", BooleanField(label))
    for code, label in phases:
        setattr(DebriefNotesForm, f"phase_{code}",
                TextAreaField(label, filters=[strip], validators=LONG_TEXT))
    for code, label in framing_items:
        setattr(DebriefNotesForm, f"framing_{field_key(code)}", BooleanField(label))
    return DebriefNotesForm


class AnalysisItemForm(Form):
    kind = RadioField(_l("Kind"), choices=choices(taxonomy.ANALYSIS_KINDS),
                      validators=[DataRequired(_l("Choose the kind of item."))])
    domain = SelectField(_l("Domain"), choices=choices(taxonomy.ANALYSIS_DOMAINS))
    strategy = SelectField(_l("Strategy used"), choices=choices(taxonomy.ANALYSIS_STRATEGIES))
    text = TextAreaField(_l("What was discussed"), filters=[strip],
                         validators=[DataRequired(_l("Describe the item.")),
                                     Length(max=5000), no_nul])
    observation = TextAreaField(
        _l("Advocacy: what you observed and what you thought of it"), filters=[strip],
        description=_l("For focused facilitation (advocacy-inquiry)."),
        validators=[Optional(), Length(max=5000), no_nul])
    question = TextAreaField(_l("Inquiry: the question you asked"), filters=[strip],
                             validators=[Optional(), Length(max=5000), no_nul])
    learner_frame = TextAreaField(
        _l("The learner's frame: the reasoning behind the action"), filters=[strip],
        validators=[Optional(), Length(max=5000), no_nul])
    submit = SubmitField(_l("Add item"))


class ProblemForm(Form):
    description = TextAreaField(
        _l("Care-delivery problem"), filters=[strip],
        description=_l("Care that went beyond safe limits, e.g. “the allergy was not checked "
                       "before the antibiotic was given”."),
        validators=[DataRequired(_l("Describe the care-delivery problem.")),
                    Length(max=3000), no_nul])
    submit = SubmitField(_l("Add problem"))


def objectives_form_class(objectives: list[str]):
    """One outcome and one note per learning objective of the scenario."""

    class ObjectivesForm(Form):
        submit = SubmitField(_l("Save objectives"))

    outcomes = [("", _l("Not recorded"))] + list(taxonomy.OBJECTIVE_OUTCOMES)
    for position, objective in enumerate(objectives):
        setattr(ObjectivesForm, f"outcome_{position}",
                RadioField(objective, choices=choices(outcomes), default="",
                           validators=[Optional()]))
        setattr(ObjectivesForm, f"note_{position}",
                TextAreaField(_l("Note"), filters=[strip],
                              validators=[Optional(), Length(max=3000), no_nul]))
    return ObjectivesForm


PHASE_TIME_FORMAT = "%Y-%m-%dT%H:%M"


def phase_times_form_class(phases):
    """A start and an end time (centre's local time) per phase of the framework."""

    class PhaseTimesForm(Form):
        submit = SubmitField(_l("Save the times"))

    for code, label in phases:
        setattr(PhaseTimesForm, f"start_{code}", DateTimeLocalField(
            _l("%(phase)s: start", phase=label), format=PHASE_TIME_FORMAT,
            validators=[Optional()]))
        setattr(PhaseTimesForm, f"end_{code}", DateTimeLocalField(
            _l("%(phase)s: end", phase=label), format=PHASE_TIME_FORMAT,
            validators=[Optional()]))
    return PhaseTimesForm


def roles_form_class(instructors):
    """A role per instructor of the session."""

    class RolesForm(Form):
        submit = SubmitField(_l("Save roles"))

    for user in instructors:
        setattr(RolesForm, f"role_{user.id}",
                SelectField(user.name, choices=choices(taxonomy.DEBRIEF_ROLES)))
    return RolesForm


class JustCultureForm(Form):
    just_culture = SelectField(_l("Just Culture classification"))
    submit = SubmitField(_l("Save classification"))


class FactorForm(Form):
    code = SelectField(_l("Contributing factor (London Protocol)"))
    description = TextAreaField(_l("How it contributed"), filters=[strip],
                                validators=[Optional(), Length(max=3000), no_nul])
    attribution = RadioField(_l("Attribution"), choices=choices(taxonomy.ATTRIBUTIONS),
                             default="system")
    changeable = BooleanField(_l("This can be changed"), default=True)
    submit = SubmitField(_l("Add factor"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Grouped by London Protocol level: the page shows one optgroup per level.
        # The placeholder sits outside every group (key None).
        self.code.choices = {None: choices([("", _l("Choose a factor"))])} | {
            str(level): choices(codes) for level, codes in taxonomy.lp_factor_groups()}


class FeedbackForm(Form):
    strengths = TextAreaField(_l("Strengths"), filters=[strip], validators=LONG_TEXT)
    to_improve = TextAreaField(_l("What to improve"), filters=[strip], validators=LONG_TEXT)
    learning_goals = TextAreaField(_l("Learning goals"), filters=[strip], validators=LONG_TEXT)
    submit = SubmitField(_l("Save feedback"))


class AmendmentForm(Form):
    target = SelectField(_l("What to amend"))
    text = TextAreaField(_l("New text"), filters=[strip],
                         validators=[Optional(), Length(max=20000), no_nul])
    reason = StringField(_l("Why"), filters=[strip],
                         validators=[DataRequired(_l("Say why the finalised debrief is "
                                                     "changed.")), Length(max=500), no_nul])
    submit = SubmitField(_l("Record amendment"))


def rating_form_class():
    class DashForm(Form):
        submit = SubmitField(_l("Send my rating"))
        skip = SubmitField(_l("Skip rating"))

    scale = [("", _l("Skip this one"))] + list(taxonomy.DASH_SCALE)
    for code, label in taxonomy.DASH_ELEMENTS:
        setattr(DashForm, code, RadioField(label, choices=choices(scale), default="",
                                           validators=[Optional()]))
    return DashForm
