"""Emails about simulation sessions: invited, changed, removed, cancelled, reminded."""

from __future__ import annotations

from datetime import datetime

from flask import url_for

from simdebrief.emails.composer import absolute_url, later, queue_templated
from simdebrief.languages import lazy_gettext as _l
from simdebrief.timefmt import local_text, span_text

SESSION_NOTICES = {
    "added": ("session_added", lambda: _l("You are invited to a simulation session")),
    "rescheduled": ("session_changed", lambda: _l("Your simulation session has changed")),
    "removed": ("session_removed", lambda: _l("You are no longer in a simulation session")),
    "cancelled": ("session_cancelled", lambda: _l("Your simulation session is cancelled")),
}


def _session_context(sim_session) -> dict:
    zone = sim_session.centre.timezone
    return {
        "sim_session": sim_session,
        "when": later(span_text, sim_session.starts_at, sim_session.ends_at, zone),
        "link": absolute_url(url_for("sessions.detail", session_id=sim_session.id)),
        "support_contacts": sim_session.centre.support_contacts,
    }


def queue_session_change(change, now: datetime) -> int:
    """Tell each affected participant what changed; returns how many emails were queued."""
    sim_session = change.session
    context = _session_context(sim_session)
    queued = 0
    for kind, (template, subject) in SESSION_NOTICES.items():
        for user in getattr(change, kind):
            queue_templated(
                key=f"session:{sim_session.id}:{kind}:{user.id}:{sim_session.sequence}",
                to=user, template=template, subject=subject(), now=now, **context)
            queued += 1
    return queued


def queue_session_reminder(participant, now: datetime) -> None:
    sim_session = participant.session
    queue_templated(
        key=f"session:{sim_session.id}:reminder:{participant.user_id}:"
            f"{int(sim_session.starts_at.timestamp())}",
        to=participant.user, template="session_reminder",
        subject=_l("Reminder: your simulation session on %(day)s",
                   day=later(local_text, sim_session.starts_at, sim_session.centre.timezone,
                                 "weekday_day_month")),
        now=now, **_session_context(sim_session))
    participant.reminded_for = sim_session.starts_at
