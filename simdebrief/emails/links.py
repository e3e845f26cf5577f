"""Live links, signed just before an email leaves: the outbox never holds a usable token.

An outbox row with a personal link stores ``LINK_PLACEHOLDER`` in its body and a
``link_ref`` naming the link; ``prepare`` signs the token, puts the link in place of the
placeholder and, for follow-up emails, puts the one-click stop link at the foot of the text and
in the RFC 8058 unsubscribe headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from simdebrief.emails.composer import absolute_url
from simdebrief.models import FollowUp, OutboxEmail
from simdebrief.services import accounts, notifications
from simdebrief.services.followups import answers

ACCOUNT_PAGES = {accounts.INVITE: "auth.accept_invitation", accounts.RESET: "auth.reset_password"}


@dataclass
class Outgoing:
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class LinkBuilder:
    """Builds the live links of one relay batch: the follow-ups are loaded in one query and
    each page's URL prefix is built once (``url_for`` per email cost more than sending)."""

    def __init__(self, session: Session, emails: list[OutboxEmail], now: datetime):
        self.session, self.now = session, now
        self.secret_key = current_app.config["SECRET_KEY"]
        ids = [int(e.link_ref.partition(":")[2]) for e in emails
               if e.link_ref and e.link_ref.startswith("followup:")]
        self.followups = {f.id: f for f in session.scalars(
            select(FollowUp).where(FollowUp.id.in_(ids)).options(joinedload(FollowUp.user)))
        } if ids else {}
        self._prefixes: dict[str, str] = {}

    def _url(self, endpoint: str, token: str) -> str:
        if endpoint not in self._prefixes:
            marker = "TOKEN"
            self._prefixes[endpoint] = absolute_url(url_for(endpoint, token=marker))[
                :-len(marker)]
        return self._prefixes[endpoint] + token

    def prepare(self, email: OutboxEmail) -> Outgoing | None:
        """The body and extra headers to send, or None when the email must not go any more
        (its follow-up is gone, or its learner's account was closed)."""
        if not email.link_ref:
            return Outgoing(email.body_text)
        kind, _sep, rest = email.link_ref.partition(":")
        if kind in ACCOUNT_PAGES:
            token = accounts.token_for_link_ref(email.link_ref, secret_key=self.secret_key)
            return Outgoing(email.body_text.replace(
                notifications.LINK_PLACEHOLDER, self._url(ACCOUNT_PAGES[kind], token)))
        if kind == "followup":
            followup = self.followups.get(int(rest))
            if followup is None or not followup.user.is_active_account:
                return None
            stage = answers.make_link_token(followup, secret_key=self.secret_key, now=self.now)
            stop = answers.make_unsubscribe_token(followup.user, secret_key=self.secret_key,
                                                  now=self.now)
            stop_url = self._url("followups.unsubscribe", stop)
            return Outgoing(
                email.body_text.replace(notifications.LINK_PLACEHOLDER,
                                        self._url("followups.stage_by_link", stage))
                .replace(notifications.STOP_LINK_PLACEHOLDER, stop_url),
                {"List-Unsubscribe": f"<{stop_url}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        raise ValueError(f"unknown link reference kind {kind!r}")


def prepare(session: Session, email: OutboxEmail, now: datetime) -> Outgoing | None:
    """One email's body and headers as sent (see ``LinkBuilder.prepare``)."""
    return LinkBuilder(session, [email], now).prepare(email)
