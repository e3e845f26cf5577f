"""The notice that a learner's emotional data is about to be deleted (no content, a link)."""

from __future__ import annotations

from datetime import datetime

from flask import url_for

from simdebrief.emails.composer import absolute_url, later, queue_templated
from simdebrief.extensions import db
from simdebrief.languages import lazy_gettext as _l
from simdebrief.services import retention
from simdebrief.timefmt import local_text


def queue_retention_notices(now: datetime) -> int:
    """Tell each learner whose emotional data goes within 14 days, once per purge date."""
    queued = 0
    for user, purge_at in retention.learners_to_notify(db.session, now):
        when = later(local_text, purge_at, user.centre.timezone, "long_date")
        subject = _l("Your check-ins will be deleted on %(when)s", when=when)
        queue_templated(
            key=f"retention:{user.id}:{purge_at.date().isoformat()}", to=user,
            template="retention_notice", now=now, when=when, subject=subject,
            link=absolute_url(url_for("learner.my_data")))
        retention.mark_notified(user, purge_at)
        queued += 1
    return queued
