from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from simdebrief import taxonomy
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import Role, SupporterTier
from simdebrief.web.forms import Form, choices, no_nul, strip
from simdebrief.web.ids import coerce_id

ROLE_CHOICES = choices([
    (Role.STUDENT.value, _l("Student")),
    (Role.INSTRUCTOR.value, _l("Instructor")),
    (Role.SUPPORTER.value, _l("Supporter")),
    (Role.ADMIN.value, _l("Administrator")),
])
TIER_CHOICES = choices([
    ("", _l("Not a supporter")),
    (SupporterTier.PEER.value, _l("Peer supporter")),
    (SupporterTier.PROFESSIONAL.value, _l("Professional (e.g. psychologist)")),
])


class InviteUserForm(Form):
    name = StringField(_l("Full name"), filters=[strip],
                       validators=[DataRequired(_l("Enter the person's name.")),
                                   Length(max=200), no_nul])
    email = EmailField(_l("Email"), filters=[strip],
                       validators=[DataRequired(_l("Enter an email address.")),
                                   Email(_l("Enter an email address like name@example.org.")),
                                   Length(max=254), no_nul])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.STUDENT.value)
    supporter_tier = SelectField(_l("Supporter tier"), choices=TIER_CHOICES, default="",
                                 description=_l("Only for supporters."))
    submit = SubmitField(_l("Send invitation"))


class ChangeRoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    supporter_tier = SelectField(_l("Supporter tier"), choices=TIER_CHOICES, default="")
    submit = SubmitField(_l("Change role"))


class CohortForm(Form):
    name = StringField(_l("Name"), filters=[strip],
                       description=_l("For example “Master year 1, autumn 2026”."),
                       validators=[DataRequired(_l("Give the cohort a name.")),
                                   Length(max=200), no_nul])
    description = TextAreaField(_l("Description"), filters=[strip],
                                validators=[Optional(), Length(max=2000), no_nul])
    submit = SubmitField(_l("Create cohort"))


class AddStudentForm(Form):
    student = SelectField(_l("Student"), coerce=coerce_id,
                          validators=[DataRequired(_l("Choose a student."))])
    submit = SubmitField(_l("Add to cohort"))


class ImportStudentsForm(Form):
    file = FileField(
        _l("CSV file"),
        description=_l("One student per line, with a first line naming the columns "
                       "email and name. Commas or semicolons both work."),
        validators=[FileRequired(_l("Choose a CSV file.")),
                    FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
    )
    submit = SubmitField(_l("Import students"))


class RoomForm(Form):
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(_l("Give the room a name.")),
                                   Length(max=200), no_nul])
    capacity = IntegerField(_l("Capacity (people)"),
                            validators=[InputRequired(_l("Enter how many people fit.")),
                                        NumberRange(1, 500, _l("Enter a number from 1 to 500."))])
    location = StringField(_l("Location"), filters=[strip],
                           validators=[Optional(), Length(max=200), no_nul])
    submit = SubmitField(_l("Save room"))


class CentreForm(Form):
    name = StringField(_l("Centre name"), filters=[strip],
                       validators=[DataRequired(_l("Enter the centre's name.")),
                                   Length(max=200), no_nul])
    timezone = StringField(_l("Time zone"), filters=[strip],
                           description=_l("An IANA zone such as Europe/Copenhagen."),
                           validators=[DataRequired(_l("Enter a time zone.")), Length(max=64)])
    #: Choices are the installation's languages, set by the view; left out, it stays as it was.
    default_locale = SelectField(
        _l("Default language"),
        description=_l("Pages and emails are in this language for everyone who has not chosen "
                       "one on their account page; new accounts start with it."),
        validators=[Optional()])
    basic_assumption = TextAreaField(
        _l("Basic assumption statement"), filters=[strip],
        description=_l("Read out in every pre-brief: what the centre believes about its "
                       "learners. Write it in your own words."),
        validators=[Optional(), Length(max=4000), no_nul])
    support_contacts = TextAreaField(
        _l("Support contacts"), filters=[strip],
        description=_l("Who learners can talk to, and how. Shown in reminders, check-ins and "
                       "feedback documents."),
        validators=[Optional(), Length(max=4000), no_nul])
    reminder_hours = IntegerField(
        _l("Reminder before a session (hours)"),
        description=_l("Participants get an email with what to expect this long before."),
        validators=[InputRequired(_l("Enter a number of hours.")),
                    NumberRange(1, 336, _l("Enter a number from 1 to 336 (two weeks)."))])
    debrief_framework = SelectField(
        _l("Debrief structure"), choices=choices(taxonomy.DEBRIEF_FRAMEWORK_CHOICES),
        description=_l("The phases instructors follow. Debriefs already started keep theirs."))
    reckless_enabled = BooleanField(
        _l("Show “reckless behaviour” in the Just Culture checklist"),
        description=_l("Off by default: in simulation the point is learning, not sanction."))
    require_two_factor = BooleanField(
        _l("Require two-factor login for administrators, instructors and supporters"),
        description=_l("On by default: these roles can see learners' feedback and requests. "
                       "Students may turn it on for themselves."))
    attach_feedback_pdf = BooleanField(
        _l("Attach the feedback PDF to the “feedback ready” email"),
        description=_l("Off by default: the email then only links to the feedback behind the "
                       "learner's login. The attached PDF never contains check-in data."))
    distress_threshold = IntegerField(
        _l("Distress score from which support is offered prominently"),
        description=_l("0–10. The check-in then shows the ways to talk to someone first. "
                       "Nobody is alerted."),
        validators=[NumberRange(0, 10, _l("Enter a number from 0 to 10."))])
    min_group_size = IntegerField(
        _l("Smallest group for shown figures"),
        description=_l("Group figures of check-ins and debrief ratings appear only when at "
                       "least this many learners answered."),
        validators=[NumberRange(5, 100, _l("Enter a number from 5 to 100: smaller groups "
                                           "could identify a learner."))])
    retention_emotional_months = IntegerField(
        _l("Keep check-ins and follow-up answers (months)"),
        description=_l("Counted from the learner's last follow-up stage or check-in. The "
                       "learner is told 14 days before they are deleted. Empty: 6."),
        validators=[Optional(), NumberRange(1, 60, _l("Enter a number from 1 to 60."))])
    retention_support_months = IntegerField(
        _l("Keep closed requests for a conversation (months)"),
        description=_l("Empty: 12."),
        validators=[Optional(), NumberRange(1, 60, _l("Enter a number from 1 to 60."))])
    retention_outbox_days = IntegerField(
        _l("Keep the text of sent emails (days)"),
        description=_l("Afterwards the outbox shows only address, subject and times. "
                       "Empty: 30."),
        validators=[Optional(), NumberRange(1, 365, _l("Enter a number from 1 to 365."))])
    retention_audit_years = IntegerField(
        _l("Keep the audit log (years)"),
        description=_l("Empty: 5."),
        validators=[Optional(), NumberRange(1, 10, _l("Enter a number from 1 to 10."))])
    urgent_distress_threshold = IntegerField(
        _l("Distress score from which the urgent contacts come first"),
        description=_l("0–10. The learner's page then leads with the urgent contacts and a "
                       "one-click urgent request. Nobody is alerted by a score alone."),
        validators=[InputRequired(_l("Enter a number from 0 to 10.")),
                    NumberRange(0, 10, _l("Enter a number from 0 to 10."))])
    alert_on_self_harm_cue = BooleanField(
        _l("Alert the on-duty professional when a learner writes about harming themselves"),
        description=_l("On by default. An urgent request is raised for the learner; the email "
                       "says only that it waits, never what the learner wrote. Every free-text "
                       "box tells learners this before they write."))
    peer_response_hours = IntegerField(
        _l("Peer requests: taken within (hours)"),
        validators=[InputRequired(_l("Enter a number of hours.")),
                    NumberRange(1, 336, _l("Enter a number from 1 to 336."))])
    professional_response_hours = IntegerField(
        _l("Professional requests: taken within (hours)"),
        validators=[InputRequired(_l("Enter a number of hours.")),
                    NumberRange(1, 336, _l("Enter a number from 1 to 336."))])
    urgent_response_minutes = IntegerField(
        _l("Urgent requests: taken within (minutes)"),
        description=_l("A request not taken in time is passed up once: a peer request to the "
                       "professional supporters, a professional or urgent one to the "
                       "administrators."),
        validators=[InputRequired(_l("Enter a number of minutes.")),
                    NumberRange(5, 1440, _l("Enter a number from 5 to 1440."))])
    country = StringField(
        _l("Country for public holidays"), filters=[strip],
        description=_l("A two-letter code such as DK. Follow-ups that would fall on a weekend "
                       "or a public holiday go out on the next working day."),
        validators=[DataRequired(_l("Enter a two-letter country code.")), Length(2, 2)])
    high_risk_triggers = SelectMultipleField(
        _l("Triggers that lead to the high-risk follow-up plan"),
        choices=choices(taxonomy.TRIGGER_TYPES),
        description=_l("When the debrief names one of these, the session's learners get the "
                       "high-risk plan: an extra check-in three days on, with a conversation "
                       "offered."))
    high_risk_flags = SelectMultipleField(
        _l("Scenario risk flags that lead to the high-risk plan"),
        choices=choices(taxonomy.RISK_FLAGS))
    submit = SubmitField(_l("Save settings"))


class UrgentContactForm(Form):
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(_l("Enter the contact's name.")),
                                   Length(max=200), no_nul])
    phone = StringField(_l("Phone"), filters=[strip],
                        validators=[DataRequired(_l("Enter a phone number.")),
                                    Length(max=40), no_nul])
    opening_hours = StringField(
        _l("Opening hours"), filters=[strip],
        description=_l("In plain words, e.g. “Open day and night” or “Mon–Fri 11–23”. Keep "
                       "them current."),
        validators=[Optional(), Length(max=200), no_nul])
    is_emergency = BooleanField(_l("This is the emergency number (shown first)"))
    submit = SubmitField(_l("Add contact"))


class StoryForm(Form):
    title = StringField(_l("Title"), filters=[strip],
                        validators=[DataRequired(_l("Give the story a title.")), Length(max=200),
                                    no_nul])
    author_description = StringField(
        _l("How the author is described"), filters=[strip],
        description=_l("For example “a nurse, ten years after graduating”. A name only if the "
                       "author wants it."),
        validators=[DataRequired(_l("Describe the author in a few words.")), Length(max=200),
                    no_nul])
    text = TextAreaField(_l("The story, in the author's words"), filters=[strip],
                         validators=[DataRequired(_l("Write the story.")), Length(max=8000),
                                     no_nul])
    consent = BooleanField(_l("The author agreed in writing that learners may read it"))
    submit = SubmitField(_l("Add story"))


class NearPeerForm(Form):
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(_l("Enter the name.")), Length(max=200), no_nul])
    description = StringField(
        _l("Who they are"), filters=[strip],
        description=_l("For example “resident in anaesthesia; happy to talk about a first "
                       "death”."),
        validators=[DataRequired(_l("Describe them in a few words.")), Length(max=300),
                    no_nul])
    how_to_reach = StringField(_l("How to reach them"), filters=[strip],
                               validators=[DataRequired(_l("Enter an email address or phone.")),
                                           Length(max=200), no_nul])
    consent = BooleanField(_l("They agreed to be contacted by learners"))
    submit = SubmitField(_l("Add contact"))


class ShiftForm(Form):
    supporter_id = SelectField(_l("Professional supporter"), coerce=int,
                               validators=[InputRequired(_l("Choose a supporter."))])
    day = DateField(_l("Starts on"), validators=[InputRequired(_l("Enter the date."))])
    start_time = TimeField(_l("At"), validators=[InputRequired(_l("Enter the time."))])
    end_day = DateField(_l("Ends on"), validators=[InputRequired(_l("Enter the date."))])
    end_time = TimeField(_l("At"), validators=[InputRequired(_l("Enter the time."))])
    submit = SubmitField(_l("Add shift"))
