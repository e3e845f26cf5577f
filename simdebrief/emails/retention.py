"""The notice that a learner's emotional data is about to be deleted (no content, a link)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from simdebrief.emails.composer import absolute_url, queue_templated
from simdebrief.extensions import db
from simdebrief.services import retention


def queue_retention_notices(now: datetime) -> int:
    """Tell each learner whose emotional data goes within 14 days, once per purge date."""
    queued = 0
    for user, purge_at in retention.learners_to_notify(db.session, now):
        with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            when = format_date(purge_at, format="long")
            subject = _("Your check-ins will be deleted on %(when)s", when=when)
        queue_templated(
            key=f"retention:{user.id}:{purge_at.date().isoformat()}", to=user,
            template="retention_notice", now=now, when=when, subject=subject,
            link=absolute_url(url_for("learner.my_data")))
        retention.mark_notified(user, purge_at)
        queued += 1
    return queued
