"""Emails with account links: invitations and password resets (signed, expiring, single-use).

The outbox keeps only a reference to the link; the relay signs the token when it sends
(``emails.links``), so nobody who can read the outbox can use the link.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import current_app, url_for

from simdebrief.emails.composer import absolute_url, queue_templated, render_templated
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import User
from simdebrief.models.users import new_security_stamp
from simdebrief.services import accounts


def send_invitation_email(user: User, now, *, inviter: User) -> None:
    hours = current_app.config["SIMDEBRIEF_INVITE_MAX_AGE_HOURS"]
    queue_templated(
        key=f"invite:{user.id}:{user.security_stamp}:{int(now.timestamp())}",
        to=user, template="invitation",
        subject=_l("You are invited to SimDebrief at %(centre)s", centre=user.centre.name),
        now=now, inviter=inviter, valid_days=max(1, hours // 24),
        link_ref=accounts.account_link_ref(user, purpose=accounts.INVITE, now=now,
                                           max_age=timedelta(hours=hours)),
    )


def send_invitation_elsewhere_email(user: User, now, *, inviter: User) -> None:
    """Tell the owner of an address that another centre tried to invite it."""
    queue_templated(
        key=f"invite-elsewhere:{user.id}:{inviter.centre_id}:{int(now.timestamp())}",
        to=user, template="invitation_elsewhere",
        subject=_l("An invitation to SimDebrief at %(centre)s", centre=inviter.centre.name),
        now=now, inviter=inviter, login_link=absolute_url(url_for("auth.login")),
    )


def send_reset_email(user: User, now) -> None:
    minutes = current_app.config["SIMDEBRIEF_RESET_MAX_AGE_MINUTES"]
    queue_templated(
        key=f"reset:{user.id}:{user.security_stamp}:{int(now.timestamp())}",
        to=user, template="password_reset", subject=_l("Reset your SimDebrief password"),
        now=now, valid_minutes=minutes,
        link_ref=accounts.account_link_ref(user, purpose=accounts.RESET, now=now,
                                           max_age=timedelta(minutes=minutes)),
    )


def rehearse_reset_email(email: str, now) -> None:
    """Do the work of ``send_reset_email`` for an address without an account, send nothing.

    Signing the link and rendering the email are most of the time a reset request takes;
    doing them either way keeps the answer's timing from telling whether an account exists.
    """
    stand_in = SimpleNamespace(id=0, email=email, name=email, locale=None,
                               centre=SimpleNamespace(name="SimDebrief"),
                               security_stamp=new_security_stamp())
    minutes = current_app.config["SIMDEBRIEF_RESET_MAX_AGE_MINUTES"]
    token = accounts.make_account_link_token(
        stand_in, purpose=accounts.RESET, secret_key=current_app.config["SECRET_KEY"],
        now=now, max_age=timedelta(minutes=minutes))
    render_templated(to=stand_in, template="password_reset", valid_minutes=minutes,
                     link=absolute_url(url_for("auth.reset_password", token=token)))
