"""Emails to supporters: that someone asked for a conversation, nothing of what they wrote."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _

from simdebrief.emails.composer import absolute_url, queue_templated
from simdebrief.extensions import db
from simdebrief.models import SupportRequest, SupportStatus
from simdebrief.services import support


def queue_support_notice(support_request: SupportRequest, now: datetime) -> int:
    """Email the centre's supporters of the request's tier: that someone asked, nothing more."""
    referred = support_request.status is SupportStatus.REFERRED
    subject = (_("A request for a conversation was passed on to you") if referred
               else _("A learner asked for a conversation"))
    link = absolute_url(url_for("support.queue"))
    queued = 0
    for supporter in support.supporters_to_notify(db.session, support_request):
        queue_templated(
            key=f"support:{support_request.id}:{support_request.tier.value}:{supporter.id}",
            to=supporter, template="support_request", subject=subject, now=now,
            link=link, referred=referred, centre=supporter.centre)
        queued += 1
    return queued
