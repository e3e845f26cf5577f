"""Emails to supporters: that someone asked for a conversation, nothing of what they wrote."""

from __future__ import annotations

from datetime import datetime

from flask import url_for

from simdebrief.emails.composer import absolute_url, queue_templated
from simdebrief.extensions import db
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import Role, SupportRequest, SupportStatus
from simdebrief.services import support, support_triage


def queue_support_notice(support_request: SupportRequest, now: datetime) -> int:
    """Email the centre's supporters of the request's tier: that someone asked, nothing more."""
    referred = support_request.status is SupportStatus.REFERRED
    urgent = support_request.urgent
    if urgent:
        subject = _l("An urgent request for a conversation is waiting")
    elif referred:
        subject = _l("A request for a conversation was passed on to you")
    else:
        subject = _l("A learner asked for a conversation")
    link = absolute_url(url_for("support.queue"))
    queued = 0
    for supporter in support.supporters_to_notify(db.session, support_request, now):
        queue_templated(
            key=f"support:{support_request.id}:{support_request.tier.value}:{supporter.id}",
            to=supporter, template="support_request", subject=subject, now=now,
            link=link, referred=referred, urgent=urgent, centre=supporter.centre)
        queued += 1
    return queued


def queue_overdue_notice(support_request: SupportRequest, now: datetime) -> int:
    """Tell the next tier that a request waited past its target: that it waits, no more."""
    subject = (_l("An urgent request has not been taken in time") if support_request.urgent
               else _l("A request for a conversation has not been taken in time"))
    link = absolute_url(url_for("support.queue"))
    queued = 0
    for person in support_triage.escalation_recipients(db.session, support_request):
        queue_templated(
            key=f"support-overdue:{support_request.id}:{person.id}", to=person,
            template="support_overdue", subject=subject, now=now, link=link,
            urgent=support_request.urgent, centre=person.centre,
            for_supporter=person.role is Role.SUPPORTER)
        queued += 1
    return queued
