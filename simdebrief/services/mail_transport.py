"""Building each email as MIME and handing it to SMTP (or, without a host, to the log)."""

from __future__ import annotations

import contextlib
import logging
import smtplib
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.utils import format_datetime

from simdebrief.models import OutboxEmail

log = logging.getLogger(__name__)


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def build_message(email: OutboxEmail, *, mail_from: str, body: str | None = None,
                  extra_headers: dict[str, str] | None = None) -> Message:
    """The email as sent, with ``body`` (the stored text with its live link) when given.
    Plain text is built with the fast ``MIMEText``; an email that will carry an attachment
    uses ``EmailMessage``, whose API adds it just before sending."""
    text = email.body_text if body is None else body
    if email.attachment:
        message: Message = EmailMessage()
        message.set_content(text)
        headers = {"From": mail_from, "To": email.to_address, "Subject": email.subject}
    else:
        message = MIMEText(text, "plain", "utf-8")
        headers = {"From": _header(mail_from), "To": _header(email.to_address),
                   "Subject": _header(email.subject)}
    for name, value in headers.items():
        message[name] = value
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(email.created_at)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (extra_headers or {}).items():
        message[name] = value
    return message


def body_text(message: Message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


class SmtpTransport:
    """Sends over SMTP with explicit timeouts; one connection per batch."""

    def __init__(self, host: str, port: int, *, timeout: float = 20, starttls: bool = False,
                 username: str | None = None, password: str | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.starttls, self.username, self.password = starttls, username, password
        self._connection: smtplib.SMTP | None = None

    logged_only = False

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is None:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                connection.starttls()
            if self.username:
                connection.login(self.username, self.password or "")
            self._connection = connection
        return self._connection

    def send(self, message: Message) -> None:
        try:
            self._connect().send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._connection = None


class LogTransport:
    """Development without an SMTP server: each email goes to the log instead."""

    logged_only = True

    def __enter__(self) -> LogTransport:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def send(self, message: Message) -> None:
        log.info("email (not sent, no SMTP host configured) to=%s subject=%s\n%s",
                 message["To"], message["Subject"], body_text(message))
