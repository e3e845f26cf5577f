from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from simdebrief import checkin_options as options
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import SupporterTier
from simdebrief.services.checkins import FREE_TEXT_MAX
from simdebrief.services.support import CHANNELS, PHONE_MAX, TEXT_MAX
from simdebrief.web.forms import Form, choices, no_nul, strip

TIERS = (SupporterTier.PEER.value, SupporterTier.PROFESSIONAL.value)


class CheckInForm(Form):
    distress = IntegerField(
        _l("How much distress do you feel right now?"),
        description=_l("Think of the session and anything it brought up. 0 means no distress "
                       "at all, 10 the worst you can imagine."),
        validators=[Optional(), NumberRange(
            options.DISTRESS_MIN, options.DISTRESS_MAX,
            _l("Choose a number from 0 to 10, or leave it empty."))])
    symptoms = SelectMultipleField(
        _l("Have you noticed any of these?"),
        description=_l("Reactions like these are common after a difficult event, simulated or "
                       "real."),
        choices=choices(options.choices(options.SYMPTOMS)))
    coping = SelectMultipleField(
        _l("What helps you at the moment?"),
        choices=choices(options.choices(options.COPING)))
    support_wanted = SelectMultipleField(
        _l("Would any of these help?"),
        description=_l("Ticking a box sends nothing to anyone. It only decides what we "
                       "suggest on the next page."),
        choices=choices(options.choices(options.SUPPORT_WANTED)))
    free_text = TextAreaField(
        _l("Private notes"),
        description=_l("Only you can read these. Please do not name colleagues, other "
                       "learners or patients."),
        filters=[strip], validators=[Optional(), Length(max=FREE_TEXT_MAX), no_nul])
    submit = SubmitField(_l("Save my check-in"))

    def validate_support_wanted(self, field):
        chosen = field.data or []
        if options.NO_SUPPORT in chosen and len(chosen) > 1:
            raise ValidationError(_l("Tick “Nothing right now” or the kinds of support you "
                                     "would like, not both."))


class SkipForm(Form):
    """One click, no questions: the button sits in the check-in form."""

    skip = SubmitField(_l("Skip for now"))


class SupportRequestForm(Form):
    tier = RadioField(
        _l("Who would you like to talk to?"),
        choices=choices([
            (SupporterTier.PEER.value, _l("A peer supporter")),
            (SupporterTier.PROFESSIONAL.value, _l("A professional")),
        ]),
        validate_choice=False,
        validators=[InputRequired(_l("Choose who you would like to talk to.")),
                    AnyOf(TIERS, _l("Choose who you would like to talk to."))])
    share_checkin = BooleanField(
        _l("Share my check-in with the supporter"),
        description=_l("The supporter sees your distress score and what you ticked. Your "
                       "private notes stay private."))
    message = TextAreaField(
        _l("A message for the supporter (optional)"),
        description=_l("Anything you would like them to know, or when and how to reach you. "
                       "Please do not name colleagues, other learners or patients."),
        filters=[strip], validators=[Optional(), Length(max=TEXT_MAX), no_nul])
    preferred_channel = RadioField(
        _l("How would you like to be contacted? (optional)"),
        choices=choices([("email", _l("By email")), ("phone", _l("By phone")),
                         ("text", _l("By text message")), ("in_person", _l("In person"))]),
        validate_choice=False,
        validators=[Optional(), AnyOf(CHANNELS, _l("Choose from the options shown."))])
    phone = StringField(
        _l("Phone number (optional)"),
        description=_l("Only the supporter who takes your request sees it."),
        filters=[strip], validators=[Optional(), Length(max=PHONE_MAX), no_nul])
    good_times = StringField(
        _l("Good times to reach you (optional)"),
        description=_l("For example “weekdays after 16” or “not Thursday”."),
        filters=[strip], validators=[Optional(), Length(max=200), no_nul])
    instructors_informed = BooleanField(
        _l("Let the instructors of this session know that I asked for a conversation"),
        description=_l("They see only that you asked, never what you share here. Tick this "
                       "only if you want them to know; nobody is told otherwise."),
        default=False)
    submit = SubmitField(_l("Send my request"))

    def contact(self):
        from simdebrief.services.support import Contact

        return Contact(phone=self.phone.data or "",
                       preferred_channel=self.preferred_channel.data or "",
                       good_times=self.good_times.data or "")


class WithdrawForm(Form):
    submit = SubmitField(_l("Withdraw this request"))


class DeleteEmotionalDataForm(Form):
    confirm = BooleanField(
        _l("I understand that my check-ins, follow-up answers and the texts of my requests "
           "for a conversation are deleted for good."),
        validators=[InputRequired(_l("Tick the box to confirm the deletion."))])
    submit = SubmitField(_l("Delete my emotional data now"))


class ErasureRequestForm(Form):
    confirm = BooleanField(
        _l("I want my account erased. I understand that I can no longer log in once an "
           "administrator has confirmed it."),
        validators=[InputRequired(_l("Tick the box to confirm the request."))])
    submit = SubmitField(_l("Ask for my account to be erased"))
