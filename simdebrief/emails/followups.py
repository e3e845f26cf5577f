"""The emails of follow-up stages, and one dispatch pass that claims due stages.

Kept apart from services so that services stay free of templates. The emails never name a
session, a stage or what it asks about: an inbox may be read over someone's shoulder.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from types import SimpleNamespace

from flask import current_app, render_template
from flask_babel import force_locale

from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.languages import locale_of
from simdebrief.models import FollowUp
from simdebrief.services import notifications
from simdebrief.services.followups import claims, conversations
from simdebrief.timefmt import local_text


class Composer:
    """Composes stage emails for one dispatch pass, rendering each distinct text only once.

    Learners whose stage falls due together get the same words; only the name differs, put
    in afterwards in place of a marker no template or name contains. The link is stored as
    ``LINK_PLACEHOLDER``: the relay signs it when it sends (``emails.links``).
    """

    def __init__(self, now: datetime, *, item_delay: float = 0.0):
        self.now = now
        self.item_delay = item_delay
        self._texts: dict[tuple, tuple[str, str]] = {}
        self._name = f"\x00name-{secrets.token_hex(8)}\x00"

    def _compose(self, followup: FollowUp, template: str, subject) -> tuple[str, str]:
        if self.item_delay:
            time.sleep(self.item_delay)  # reliability tests: let a kill land mid-batch
        locale = locale_of(followup.user)
        offers = bool(followup.stage.offers_conversation)
        key = (template, locale, followup.centre_id, followup.track_id is not None,
               followup.expires_at, offers, followup.sent_at or self.now)
        text = self._texts.get(key)
        if text is None:
            with force_locale(locale):
                body = render_template(
                    f"emails/{template}.txt", recipient=SimpleNamespace(name=self._name),
                    centre=followup.centre, link=notifications.LINK_PLACEHOLDER,
                    stop_link=notifications.STOP_LINK_PLACEHOLDER,
                    on_track=followup.track_id is not None, offers_conversation=offers,
                    decline_until=local_text((followup.sent_at or self.now)
                                             + conversations.NOTICE,
                                             followup.centre.timezone, "weekday_day_month_time"),
                    open_until=local_text(followup.expires_at, followup.centre.timezone,
                                          "weekday_day_month_time"))
                text = self._texts[key] = (str(subject()), body)
        title, body = text
        return title, body.replace(self._name, followup.user.name)

    def stage(self, followup: FollowUp, now: datetime) -> tuple[str, str]:
        return self._compose(followup, "followup_stage",
                             lambda: _("A short check-in from SimDebrief"))

    def reminder(self, followup: FollowUp, now: datetime) -> tuple[str, str]:
        return self._compose(followup, "followup_reminder",
                             lambda: _("Your SimDebrief check-in is still open"))


def dispatch(now: datetime, *, batch: int = 200,
             item_delay: float = 0.0) -> claims.DispatchResult:
    """One pass: send due stages, remind non-responders once, close stages past their time.

    Needs an app and request context (``jobs.job_context``) for the links. Each batch is its
    own transaction: its claims and its outbox rows are committed together.
    """
    mail_from = current_app.config["SIMDEBRIEF_MAIL_FROM"]
    result = claims.DispatchResult()
    composer = Composer(now, item_delay=item_delay)
    while True:
        part = claims.claim_due(db.session, now=now, batch=batch,
                                compose=composer.stage, mail_from=mail_from)
        db.session.commit()
        result.add(part)
        if part.claimed < batch:
            break
    while True:
        reminded = claims.claim_reminders(db.session, now=now, batch=batch,
                                          compose=composer.reminder, mail_from=mail_from)
        db.session.commit()
        result.reminders += reminded
        if reminded < batch:
            break
    result.expired = claims.expire_unanswered(db.session, now=now)
    db.session.commit()
    result.conversations = len(conversations.open_due_tasks(db.session, now))
    db.session.commit()
    return result
