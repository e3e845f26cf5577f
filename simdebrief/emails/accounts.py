"""Emails with account links: invitations and password resets (signed, expiring, single-use).

The outbox keeps only a reference to the link; the relay signs the token when it sends
(``emails.links``), so nobody who can read the outbox can use the link.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from simdebrief.emails.composer import queue_templated
from simdebrief.models import User
from simdebrief.services import accounts


def send_invitation_email(user: User, now, *, inviter: User) -> None:
    hours = current_app.config["SIMDEBRIEF_INVITE_MAX_AGE_HOURS"]
    queue_templated(
        key=f"invite:{user.id}:{user.security_stamp}:{int(now.timestamp())}",
        to=user, template="invitation",
        subject=_("You are invited to SimDebrief at %(centre)s", centre=user.centre.name),
        now=now, inviter=inviter, valid_days=max(1, hours // 24),
        link_ref=accounts.account_link_ref(user, purpose=accounts.INVITE, now=now,
                                           max_age=timedelta(hours=hours)),
    )


def send_reset_email(user: User, now) -> None:
    minutes = current_app.config["SIMDEBRIEF_RESET_MAX_AGE_MINUTES"]
    queue_templated(
        key=f"reset:{user.id}:{user.security_stamp}:{int(now.timestamp())}",
        to=user, template="password_reset", subject=_("Reset your SimDebrief password"),
        now=now, valid_minutes=minutes,
        link_ref=accounts.account_link_ref(user, purpose=accounts.RESET, now=now,
                                           max_age=timedelta(minutes=minutes)),
    )
