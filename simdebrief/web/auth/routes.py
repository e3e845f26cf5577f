"""Login, logout, invitations and password resets."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from simdebrief import languages
from simdebrief.clock import current_now
from simdebrief.emails.accounts import rehearse_reset_email, send_reset_email
from simdebrief.errors import (
    InvalidInput,
    LinkExpired,
    LinkInvalid,
    LoginFailed,
    LoginThrottled,
    RequestThrottled,
)
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.languages import ngettext
from simdebrief.models import User
from simdebrief.passwords import verify_password
from simdebrief.services import accounts, audit
from simdebrief.services import two_factor as two_factor_service
from simdebrief.web import client_ip, public
from simdebrief.web.auth.forms import (
    ChangePasswordForm,
    DisableTwoFactorForm,
    EnrolForm,
    LanguageForm,
    LoginForm,
    RequestResetForm,
    SecondFactorForm,
    SetPasswordForm,
)
from simdebrief.web.forms import apply_service_errors, form_status

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths; anything else would make the login page an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("main.dashboard")


def _log_in(user: User, *, second_factor_passed: bool = False) -> None:
    """A new login session; it still needs its second factor unless one was just passed
    (a password change inside a session that had passed it) or none is needed."""
    session.clear()
    passed = second_factor_passed or not two_factor_service.needs_second_factor(user)
    accounts.start_session(db.session, user=user, ip_address=client_ip(), now=current_now(),
                           second_factor_passed=passed)
    db.session.commit()
    login_user(user)


def _after_login(target: str | None):
    """Straight on, or first to the code page (or enrolment) when a second factor is due."""
    if current_user.second_factor_passed:
        return redirect(_safe_next(target))
    return redirect(url_for("auth.second_factor", next=_safe_next(target)))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session, email=form.email.data, password=form.password.data,
                ip_address=client_ip(), now=current_now(), limits=login_limits(),
            )
        except LoginThrottled as throttled:
            db.session.commit()
            minutes = max(1, math.ceil(throttled.retry_after.total_seconds() / 60))
            form.form_errors.append(ngettext(
                "Too many failed attempts from here. Please wait %(num)d minute before you "
                "try again, or reset your password.",
                "Too many failed attempts from here. Please wait %(num)d minutes before you "
                "try again, or reset your password.", minutes))
            headers["Retry-After"] = str(math.ceil(throttled.retry_after.total_seconds()))
            status = 429
        except LoginFailed:
            db.session.commit()
            form.form_errors.append(_("Email or password is wrong."))
            status = 401
        else:
            _log_in(user)
            return _after_login(request.args.get("next"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status, headers


def login_limits() -> accounts.LoginLimits:
    config = current_app.config
    return accounts.LoginLimits(
        per_pair_per_minute=config["SIMDEBRIEF_LOGIN_LIMIT_PER_MINUTE"],
        per_address_per_minute=config["SIMDEBRIEF_LOGIN_ADDRESS_LIMIT_PER_MINUTE"])


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(db.session, current_user.get_id())
    audit.record(db.session, action="logout", actor=current_user, now=current_now(),
                 ip_address=client_ip())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "success")
    return redirect(url_for("auth.login"))


def _link_user(token: str, purpose: str) -> User:
    return accounts.read_account_link_token(
        db.session, token, purpose=purpose, secret_key=current_app.config["SECRET_KEY"],
        now=current_now(),
    )


def _apply_new_password(form, user: User, *, action: str, message: str,
                        second_factor_passed: bool = False) -> bool:
    """Set the password, end every other session, audit it and log in afresh.

    Returns False with the rule's messages next to the field when the password is refused.
    """
    try:
        accounts.set_password(user, form.password.data)
    except InvalidInput as error:
        apply_service_errors(form, error)
        return False
    accounts.revoke_all_sessions(db.session, user)
    audit.record(db.session, action=action, actor=user, now=current_now(),
                 ip_address=client_ip())
    _log_in(user, second_factor_passed=second_factor_passed)
    flash(message, "success")
    return True


def _set_password_page(token: str, purpose: str, template: str):
    try:
        user = _link_user(token, purpose)
    except LinkExpired:
        return render_template("auth/link_problem.html", expired=True, purpose=purpose), 410
    except LinkInvalid:
        return render_template("auth/link_problem.html", expired=False, purpose=purpose), 404
    form = SetPasswordForm()
    welcome = (_("Your password is saved. Welcome to SimDebrief.") if purpose == accounts.INVITE
               else _("Your password is changed."))
    if form.validate_on_submit() and _apply_new_password(
            form, user, action=f"password.set_by_{purpose}", message=welcome):
        return _after_login(None)
    status = form_status()
    return render_template(template, form=form, user=user), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    return _set_password_page(token, accounts.INVITE, "auth/accept_invitation.html")


@bp.route("/reset-password", methods=["GET", "POST"])
@public
def request_reset():
    form = RequestResetForm()
    if form.validate_on_submit():
        now = current_now()
        try:
            accounts.count_request(db.session, kind="reset", account=form.email.data,
                                   ip_address=client_ip(), now=now, limit=accounts.RESET_LIMIT)
        except RequestThrottled:
            db.session.commit()
            form.form_errors.append(_(
                "Several links were asked for already. Please use the newest email, or wait "
                "an hour before asking again."))
            return render_template("auth/request_reset.html", form=form), 429
        user = accounts.find_user_by_email(db.session, form.email.data)
        # The same answer, and the same work, whether or not the account exists.
        if user is not None and user.is_active_account:
            send_reset_email(user, now)
        else:
            rehearse_reset_email(accounts.normalise_email(form.email.data), now)
        audit.record(db.session, action="password.reset_requested", now=now,
                     actor=user if user is not None and user.is_active_account else None,
                     ip_address=client_ip())
        db.session.commit()
        return render_template("auth/reset_sent.html", email=form.email.data)
    status = form_status()
    return render_template("auth/request_reset.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    return _set_password_page(token, accounts.RESET, "auth/reset_password.html")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append(_("This is not your current password."))
        elif _apply_new_password(
                form, user, action="password.changed",
                second_factor_passed=user.second_factor_passed,
                message=_("Your password is changed. You are logged out everywhere else.")):
            return redirect(url_for("main.dashboard"))
    status = form_status()
    return render_template("auth/change_password.html", form=form), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's own settings: their language, and the ways to password and second factor."""
    user = current_user._get_current_object()
    form = LanguageForm(locale=languages.locale_of(user))
    form.locale.choices = languages.language_choices()
    if form.validate_on_submit():
        user.locale = form.locale.data
        db.session.commit()
        languages.forget_request_locale()  # the message below is already in the new language
        flash(_("Your language is saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), form_status()


# --- second factor -------------------------------------------------------------------------

#: What a login whose second factor is still due may reach.
PENDING_ENDPOINTS = {"auth.second_factor", "auth.two_factor_setup", "auth.logout"}


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    user = current_user._get_current_object()
    target = _safe_next(request.args.get("next"))
    if user.second_factor_passed:
        return redirect(target)
    if not user.has_two_factor:
        return redirect(url_for("auth.two_factor_setup", next=target))
    form = SecondFactorForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        now = current_now()
        try:
            accounts.count_request(db.session, kind="code", account=user.email,
                                   ip_address=client_ip(), now=now,
                                   limit=two_factor_service.CODE_LIMIT)
        except RequestThrottled as throttled:
            db.session.commit()
            form.form_errors.append(_("Too many wrong codes. Please wait five minutes."))
            headers["Retry-After"] = str(int(throttled.retry_after.total_seconds()))
            return render_template("auth/second_factor.html", form=form), 429, headers
        secret_key = current_app.config["SECRET_KEY"]
        if two_factor_service.check_code(user, form.code.data, now) or \
                two_factor_service.use_recovery_code(db.session, user, form.code.data, now=now,
                                                     secret_key=secret_key):
            two_factor_service.mark_passed(db.session, user.get_id())
            accounts.clear_requests(db.session, kind="code", account=user.email)
            audit.record(db.session, action="login.second_factor_passed", actor=user, now=now,
                         ip_address=client_ip())
            db.session.commit()
            left = two_factor_service.recovery_codes_left(db.session, user)
            if left <= 3:
                flash(_("You have %(count)d recovery codes left. Make new ones under "
                        "Two-factor login.", count=left), "info")
            return redirect(target)
        audit.record(db.session, action="login.second_factor_failed", outcome="refused",
                     actor=user, now=now, ip_address=client_ip())
        db.session.commit()
        form.code.errors.append(_("This code does not work. Codes change every 30 seconds, "
                                  "and each works once."))
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/second_factor.html", form=form), status, headers


@bp.route("/account/two-factor/setup", methods=["GET", "POST"])
def two_factor_setup():
    user = current_user._get_current_object()
    if user.has_two_factor and not user.second_factor_passed:
        return redirect(url_for("auth.second_factor"))
    if user.has_two_factor:
        return redirect(url_for("auth.two_factor_settings"))
    form = EnrolForm()
    # Kept for this login session, so reloading the page does not invalidate a scanned code.
    secret = session.get("totp_setup_secret")
    if not secret:
        secret = two_factor_service.new_secret()
        session["totp_setup_secret"] = secret
    if form.validate_on_submit():
        now = current_now()
        try:
            codes = two_factor_service.enrol(db.session, user, secret=secret, code=form.code.data,
                                     now=now, secret_key=current_app.config["SECRET_KEY"])
        except InvalidInput as error:
            apply_service_errors(form, error)
        else:
            two_factor_service.mark_passed(db.session, user.get_id())
            db.session.commit()
            session.pop("totp_setup_secret", None)
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next=_safe_next(request.args.get("next")))
    uri = two_factor_service.provisioning_uri(user, secret)
    return render_template(
        "auth/two_factor_setup.html", form=form, secret=secret,
        qr_svg=two_factor_service.qr_code_svg(uri, _("QR code for your authenticator app")),
        required=two_factor_service.is_required(user)), form_status()


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor_settings():
    user = current_user._get_current_object()
    form = DisableTwoFactorForm()
    if form.validate_on_submit() and user.has_two_factor:
        try:
            two_factor_service.disable(db.session, user, code=form.code.data, now=current_now())
        except InvalidInput as error:
            db.session.rollback()
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(_("Two-factor login is off."), "success")
            return redirect(url_for("auth.two_factor_settings"))
    return render_template(
        "auth/two_factor.html", form=form, user=user,
        required=two_factor_service.is_required(user),
        codes_left=two_factor_service.recovery_codes_left(db.session, user)), form_status()
