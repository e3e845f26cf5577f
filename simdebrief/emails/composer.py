"""Render an email template in the recipient's language and put it in the outbox.

Every email of SimDebrief passes through ``queue_templated``; callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import current_app, has_request_context, render_template
from flask_babel import LazyString

from simdebrief.extensions import db
from simdebrief.languages import locale_of, written_in
from simdebrief.models import OutboxEmail, User
from simdebrief.services import notifications


@contextmanager
def link_context() -> Iterator[None]:
    """Let ``url_for`` build links where no request is active (CLI, jobs, the demo loader).

    Inside a request nothing changes; elsewhere a request for the base URL is pushed into the
    current app context, so the database session stays the caller's.
    """
    if has_request_context():
        yield
        return
    app = current_app._get_current_object()
    with app.test_request_context("/", base_url=app.config["SIMDEBRIEF_BASE_URL"]):
        yield


def absolute_url(path: str) -> str:
    return current_app.config["SIMDEBRIEF_BASE_URL"].rstrip("/") + path


def recipient_locale(to) -> str:
    """The language the recipient reads (their choice, else their centre's default)."""
    return locale_of(None) if isinstance(to, str) else locale_of(to)


def later(function, *args, **kwargs) -> LazyString:
    """A value worked out when the email is written, i.e. in the recipient's language
    (dates in an email's subject or body: ``later(local_text, moment, zone)``)."""
    return LazyString(function, *args, **kwargs)


def render_templated(*, to: User | str, template: str, **context) -> str:
    """The body of ``emails/<template>.txt`` in the recipient's language."""
    with written_in(recipient_locale(to)):
        return render_template(f"emails/{template}.txt", recipient=to, **context)


def queue_templated(
    *, key: str, to: User | str, template: str, subject: str, now: datetime,
    link_ref: str | None = None, **context
) -> OutboxEmail:
    """Render ``emails/<template>.txt`` in the recipient's language and add it to the outbox.

    ``subject`` and any context value may be lazy (``_l``, ``later``): they are worked out in
    the recipient's language, whatever the language of the request or job that queues it.

    With ``link_ref``, the template's ``link`` is the placeholder the relay replaces with the
    live link when sending (``emails.links``): the outbox never holds a usable token.
    """
    if link_ref is not None:
        context["link"] = notifications.LINK_PLACEHOLDER
    address = to.email if isinstance(to, User) else to
    body = render_templated(to=to, template=template, **context)
    with written_in(recipient_locale(to)):
        subject = str(subject)
    return notifications.enqueue_email(
        db.session, key=key, to=address, subject=subject, body=body, now=now,
        mail_from=current_app.config["SIMDEBRIEF_MAIL_FROM"],
        centre_id=to.centre_id if isinstance(to, User) else None, link_ref=link_ref,
    )
