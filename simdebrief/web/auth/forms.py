from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from simdebrief.languages import lazy_gettext as _l
from simdebrief.web.forms import Form, no_nul, strip


class LoginForm(Form):
    email = EmailField(_l("Email"), filters=[strip],
                       validators=[DataRequired(_l("Enter your email address.")), no_nul,
                                   Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(_l("Enter your password.")), no_nul],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Log in"))


class RequestResetForm(Form):
    email = EmailField(_l("Email"), filters=[strip],
                       validators=[DataRequired(_l("Enter your email address.")),
                                   Email(_l("Enter an email address like name@example.org.")),
                                   no_nul, Length(max=254)],
                       render_kw={"autocomplete": "username"})
    submit = SubmitField(_l("Send me a link"))


class SetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        description=_l("At least 10 characters. A few unrelated words are easy to remember "
                       "and hard to guess."),
        validators=[DataRequired(_l("Choose a password.")), no_nul],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(_l("Repeat the password.")),
                    EqualTo("password", _l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save password"))


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"),
                            validators=[DataRequired(_l("Enter your current password."))],
                            render_kw={"autocomplete": "current-password"})


class LanguageForm(Form):
    #: Choices are the installation's languages in their own names, set by the view.
    locale = SelectField(_l("Language"),
                         description=_l("The language of your pages, emails and documents."))
    submit = SubmitField(_l("Save language"))


class SecondFactorForm(Form):
    code = StringField(_l("Code"), filters=[strip],
                       description=_l("The six digits your authenticator app shows now, or one "
                                      "of your recovery codes."),
                       validators=[DataRequired(_l("Enter the code.")), Length(max=40), no_nul],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text"})
    submit = SubmitField(_l("Continue"))


class EnrolForm(Form):
    code = StringField(_l("Code from the app"), filters=[strip],
                       validators=[DataRequired(_l("Enter the six digits the app shows.")),
                                   Length(max=20), no_nul],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Turn on two-factor login"))


class DisableTwoFactorForm(Form):
    code = StringField(_l("Code from the app"), filters=[strip],
                       validators=[DataRequired(_l("Enter the six digits the app shows.")),
                                   Length(max=20), no_nul],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Turn off two-factor login"))
