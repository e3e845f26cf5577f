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
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

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
from simdebrief.models import User
from simdebrief.passwords import verify_password
from simdebrief.services import accounts, audit
from simdebrief.web import client_ip, public
from simdebrief.web.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    RequestResetForm,
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


def _log_in(user: User) -> None:
    session.clear()
    accounts.start_session(db.session, user=user, ip_address=client_ip(), now=current_now())
    db.session.commit()
    login_user(user)


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
            return redirect(_safe_next(request.args.get("next")))
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


def _apply_new_password(form, user: User, *, action: str, message: str) -> bool:
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
    _log_in(user)
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
        return redirect(url_for("main.dashboard"))
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
                message=_("Your password is changed. You are logged out everywhere else.")):
            return redirect(url_for("main.dashboard"))
    status = form_status()
    return render_template("auth/change_password.html", form=form), status

