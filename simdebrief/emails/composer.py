"""Render an email template in the recipient's language and put it in the outbox.

Every email of SimDebrief passes through ``queue_templated``; callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale

from simdebrief.extensions import db
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


def render_templated(*, to: User | str, template: str, **context) -> str:
    """The body of ``emails/<template>.txt`` in the recipient's language."""
    locale = to.locale if isinstance(to, User) and to.locale else None
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return render_template(f"emails/{template}.txt", recipient=to, **context)


def queue_templated(
    *, key: str, to: User | str, template: str, subject: str, now: datetime,
    link_ref: str | None = None, **context
) -> OutboxEmail:
    """Render ``emails/<template>.txt`` in the recipient's language and add it to the outbox.

    With ``link_ref``, the template's ``link`` is the placeholder the relay replaces with the
    live link when sending (``emails.links``): the outbox never holds a usable token.
    """
    if link_ref is not None:
        context["link"] = notifications.LINK_PLACEHOLDER
    address = to.email if isinstance(to, User) else to
    body = render_templated(to=to, template=template, **context)
    return notifications.enqueue_email(
        db.session, key=key, to=address, subject=subject, body=body, now=now,
        mail_from=current_app.config["SIMDEBRIEF_MAIL_FROM"],
        centre_id=to.centre_id if isinstance(to, User) else None, link_ref=link_ref,
    )
