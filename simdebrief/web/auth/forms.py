from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from simdebrief.web.forms import no_nul, strip


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip],
                       validators=[DataRequired(_l("Enter your email address.")), no_nul,
                                   Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(_l("Enter your password.")), no_nul],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Log in"))


class RequestResetForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip],
                       validators=[DataRequired(_l("Enter your email address.")),
                                   Email(_l("Enter an email address like name@example.org.")),
                                   no_nul, Length(max=254)],
                       render_kw={"autocomplete": "username"})
    submit = SubmitField(_l("Send me a link"))


class SetPasswordForm(FlaskForm):
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
