"""Live links, signed just before an email leaves: the outbox never holds a usable token.

An outbox row with a personal link stores ``LINK_PLACEHOLDER`` in its body and a
``link_ref`` naming the link; ``prepare`` signs the token, puts the link in place of the
placeholder and, for follow-up emails, adds the RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy.orm import Session

from simdebrief.emails.composer import absolute_url
from simdebrief.models import FollowUp, OutboxEmail, User
from simdebrief.services import accounts, notifications
from simdebrief.services.followups import answers

ACCOUNT_PAGES = {accounts.INVITE: "auth.accept_invitation", accounts.RESET: "auth.reset_password"}


@dataclass
class Outgoing:
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def stage_link(followup: FollowUp, now: datetime) -> str:
    """The signed link that opens this stage's form, and nothing else, without a password."""
    token = answers.make_link_token(followup, secret_key=current_app.config["SECRET_KEY"],
                                    now=now)
    return absolute_url(url_for("followups.stage_by_link", token=token))


def unsubscribe_link(user: User, now: datetime) -> str:
    """The signed link that stops the learner's follow-ups (POST) or asks first (GET)."""
    token = answers.make_unsubscribe_token(user, secret_key=current_app.config["SECRET_KEY"],
                                           now=now)
    return absolute_url(url_for("followups.unsubscribe", token=token))


def unsubscribe_headers(user: User, now: datetime) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{unsubscribe_link(user, now)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def prepare(session: Session, email: OutboxEmail, now: datetime) -> Outgoing | None:
    """The body and extra headers to send, or None when the email must not go any more (its
    follow-up is gone, or its learner's account was closed)."""
    if not email.link_ref:
        return Outgoing(email.body_text)
    kind, _sep, rest = email.link_ref.partition(":")
    if kind in ACCOUNT_PAGES:
        token = accounts.token_for_link_ref(email.link_ref,
                                            secret_key=current_app.config["SECRET_KEY"])
        link = absolute_url(url_for(ACCOUNT_PAGES[kind], token=token))
        return Outgoing(email.body_text.replace(notifications.LINK_PLACEHOLDER, link))
    if kind == "followup":
        followup = session.get(FollowUp, int(rest))
        if followup is None or not followup.user.is_active_account:
            return None
        return Outgoing(
            email.body_text.replace(notifications.LINK_PLACEHOLDER, stage_link(followup, now)),
            unsubscribe_headers(followup.user, now))
    raise ValueError(f"unknown link reference kind {kind!r}")
