"""The email outbox: write emails with the change that causes them, send them later.

Delivery is exactly once while senders stay alive, however slow the mail server: a sender
holds each claimed email under a lease it renews while it works, and marks an email delivered
only while its claim token still holds it. Only a crash between the server's acceptance and our
commit sends a message again; every copy then carries the same ``Message-ID`` (the idempotency
key and the installation's random id), so mail clients can recognise the repeat.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from simdebrief.models import FollowUp, FollowUpStatus, OutboxEmail, OutboxStatus
from simdebrief.services import operations

log = logging.getLogger(__name__)

#: Stands in the stored body where the relay puts the live link just before sending.
LINK_PLACEHOLDER = "[personal link, added when the email is sent]"
#: Follow-up emails end with a one-click stop link, signed when the email is sent as well.
STOP_LINK_PLACEHOLDER = "[stop link, added when the email is sent]"
#: What remains of a sent email that carried a link, once its retention time is over.
PURGED_NOTE = "[text removed after sending: this email carried a personal link]"
#: What is left of any email's text after the centre's outbox retention period.
RETENTION_NOTE = "[text removed after the centre's retention period for sent emails]"
#: How long the text of a sent email that carried a link is kept (the centre may shorten it).
LINK_BODY_RETENTION = timedelta(days=30)

MAX_ATTEMPTS = 20
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=5)


#: After this many connection failures in a row the relay stops trying the mail server ...
BREAKER_FAILURES = 5
#: ... for this long (each attempt on a dead server costs a whole connection timeout).
BREAKER_COOLDOWN = timedelta(minutes=2)


def message_id_for(idempotency_key: str, mail_from: str, *, installation: str) -> str:
    """Stable for one email of one installation, different across installations: two
    databases never send the same ``Message-ID`` (a deduplicating mail system would drop one)."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "simdebrief.localhost"
    digest = hashlib.sha256(f"{installation}:{idempotency_key}".encode()).hexdigest()[:24]
    # The hash covers the whole installation id; its start is shown too, for whoever reads
    # the headers. Short enough that the header line is never folded.
    return f"<{digest}.{installation[:12]}@{domain}>"


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the given number of failed attempts, capped at an hour."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def enqueue_email(
    session: Session,
    *,
    key: str,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    mail_from: str,
    centre_id: int | None = None,
    link_ref: str | None = None,
) -> OutboxEmail:
    """Add an email to the outbox; the same key twice returns the first one unchanged.

    An email with a personal link is stored with ``LINK_PLACEHOLDER`` in its body and the
    ``link_ref`` that tells the relay which link to build when sending.
    """
    existing = session.scalar(select(OutboxEmail).where(OutboxEmail.idempotency_key == key))
    if existing is not None:
        return existing
    email = OutboxEmail(
        idempotency_key=key,
        centre_id=centre_id,
        to_address=to,
        subject=subject.replace("\n", " ").replace("\r", " ")[:300],
        body_text=body,
        link_ref=link_ref,
        message_id=message_id_for(key, mail_from,
                                  installation=operations.installation_id(session)),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(email)
    session.flush()
    return email


def _due_clause(now: datetime):
    return or_(
        and_(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now),
        # A sender that died mid-send leaves its lease behind; once it runs out, retry.
        and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.lease_until < now),
    )


def claim_due_emails(session: Session, *, now: datetime, batch: int = 50,
                     lease: timedelta = LEASE) -> list[OutboxEmail]:
    """Claim up to ``batch`` due emails for this sender, each under a lease of ``lease``.

    The UPDATE repeats the due condition, so of two senders racing for a row only one
    changes it; PostgreSQL additionally skips rows another sender has locked. Every claimed
    row carries the claim's token: whatever the sender later writes checks it.
    """
    candidates = (
        select(OutboxEmail.id)
        .where(_due_clause(now))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    token = secrets.token_hex(16)
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(ids), _due_clause(now))
        .values(
            status=OutboxStatus.SENDING,
            claim_token=token,
            lease_until=now + lease,
            attempts=OutboxEmail.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.claim_token == token)
            .order_by(OutboxEmail.id)
            .execution_options(populate_existing=True)
        )
    )


def _held(token: str, ids) -> tuple:
    """Rows this claim still holds: not taken over after a lapsed lease, not cancelled."""
    return (OutboxEmail.id.in_(list(ids)), OutboxEmail.claim_token == token,
            OutboxEmail.status == OutboxStatus.SENDING)


def renew_lease(session: Session, *, token: str, ids, until: datetime) -> set[int]:
    """Extend the lease of the claim's rows; returns the ids it still holds (a row whose
    lease lapsed and that another sender claimed is no longer this sender's to send)."""
    if not ids:
        return set()
    return set(session.scalars(
        update(OutboxEmail).where(*_held(token, ids)).values(lease_until=until)
        .returning(OutboxEmail.id).execution_options(synchronize_session=False)))


def mark_claimed_delivered(session: Session, *, token: str, ids, now: datetime,
                           logged_only: bool) -> int:
    """Mark sent the rows this claim still holds; returns how many it marked."""
    if not ids:
        return 0
    result = session.execute(
        update(OutboxEmail).where(*_held(token, ids))
        .values(status=OutboxStatus.LOGGED if logged_only else OutboxStatus.SENT,
                sent_at=now, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def release_claimed(session: Session, *, token: str, ids, until: datetime) -> int:
    """Give back rows the sender did not try (its time budget ran out, or the mail server is
    resting): due again at ``until``, and the claim does not count as an attempt."""
    if not ids:
        return 0
    result = session.execute(
        update(OutboxEmail).where(*_held(token, ids))
        .values(status=OutboxStatus.PENDING, next_attempt_at=until, lease_until=None,
                attempts=OutboxEmail.attempts - 1)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def held_email(session: Session, *, token: str, email_id: int) -> OutboxEmail | None:
    """The row, freshly read, unless another sender claimed it since (it may have been
    cancelled meanwhile: ``mark_attempt_failed`` leaves it so)."""
    return session.scalar(select(OutboxEmail).where(OutboxEmail.id == email_id,
                                                    OutboxEmail.claim_token == token)
                          .execution_options(populate_existing=True))


def mark_delivered(email: OutboxEmail, *, now: datetime, logged_only: bool) -> None:
    email.status = OutboxStatus.LOGGED if logged_only else OutboxStatus.SENT
    email.sent_at = now
    email.lease_until = None
    email.last_error = None


def mark_attempt_failed(email: OutboxEmail, *, now: datetime, error: str) -> None:
    email.last_error = error[:2000]
    if email.status is OutboxStatus.CANCELLED:
        return  # cancelled while the relay was trying: never tried again
    email.lease_until = None
    if email.attempts >= MAX_ATTEMPTS:
        email.status = OutboxStatus.FAILED
        log.error("giving up on outbox email %s after %s attempts", email.id, email.attempts)
    else:
        email.status = OutboxStatus.PENDING
        email.next_attempt_at = now + retry_delay(email.attempts)


def is_permanent_rejection(error: BaseException) -> bool:
    """A 5xx reply to this message (its recipient or its content): trying again cannot help.
    A refused connection, a timeout or a 4xx reply is temporary, and so is a refused sender
    address (our configuration, not this email: every email would fail the same way)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(
            code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def is_connection_failure(error: BaseException) -> bool:
    """The mail server could not be reached or dropped us: a reason to rest it. (Every SMTP
    error is an ``OSError``; a reply to one message is not a connection failure.)"""
    if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def mark_rejected(session: Session, email: OutboxEmail, *, now: datetime, error: str) -> None:
    """The mail server refused the email for good: no retries. A follow-up stage whose own
    email was refused becomes undeliverable (the admin sees it; it does not count as sent)."""
    email.last_error = error[:2000]
    if email.status is OutboxStatus.CANCELLED:
        return
    email.status = OutboxStatus.REJECTED
    email.lease_until = None
    log.warning("outbox email %s was refused permanently by the mail server", email.id)
    kind, _sep, rest = email.idempotency_key.partition(":")
    if kind == "followup" and rest.isdigit():
        session.execute(
            update(FollowUp).where(FollowUp.id == int(rest),
                                   FollowUp.status == FollowUpStatus.SENT)
            .values(status=FollowUpStatus.UNDELIVERABLE, status_changed_at=now)
            .execution_options(synchronize_session=False))


class CircuitBreaker:
    """Stops trying a mail server that failed ``threshold`` connections in a row, for
    ``cooldown``; kept per relay process (each process finds out for itself)."""

    def __init__(self, threshold: int = BREAKER_FAILURES, cooldown: timedelta = BREAKER_COOLDOWN):
        self.threshold, self.cooldown = threshold, cooldown
        self.failures = 0
        self.open_until: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        return self.open_until is not None and now < self.open_until

    def succeeded(self) -> None:
        self.failures, self.open_until = 0, None

    def failed(self, now: datetime) -> bool:
        """Count a connection failure; returns whether the breaker just opened."""
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = now + self.cooldown
            self.failures = 0
            log.warning("mail server unreachable %s times in a row: not trying it until %s",
                        self.threshold, self.open_until.isoformat())
            return True
        return False


def retry_now(email: OutboxEmail, *, now: datetime) -> bool:
    """An admin's "try again" for an email that was given up on; only a failed email (never
    one cancelled because the learner stopped follow-ups). Returns whether it was queued."""
    if email.status is not OutboxStatus.FAILED:
        return False
    email.status = OutboxStatus.PENDING
    email.attempts = 0
    email.next_attempt_at = now
    return True


def followup_link_ref(followup_id: int) -> str:
    return f"followup:{followup_id}"


def cancel_followup_emails(session: Session, followup_ids: list[int]) -> int:
    """Cancel the waiting emails (stages and reminders) of these follow-ups; the caller's
    transaction is the one that records the learner's pause or stop. Returns how many."""
    if not followup_ids:
        return 0
    result = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.link_ref.in_([followup_link_ref(i) for i in followup_ids]),
               OutboxEmail.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING,
                                       OutboxStatus.FAILED)))
        .values(status=OutboxStatus.CANCELLED, lease_until=None)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def purge_sent_bodies(session: Session, *, now: datetime,
                      older_than: timedelta = LINK_BODY_RETENTION) -> int:
    """Replace the text of sent emails that carried a personal link with a short note, once
    they were sent longer ago than ``older_than``. For the daily retention job; returns how
    many were purged. Subject, address and times stay, so the admin's list still adds up."""
    result = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.link_ref.is_not(None), OutboxEmail.body_purged_at.is_(None),
               OutboxEmail.status.in_((OutboxStatus.SENT, OutboxStatus.LOGGED,
                                       OutboxStatus.CANCELLED)),
               or_(OutboxEmail.sent_at < now - older_than,
                   and_(OutboxEmail.sent_at.is_(None), OutboxEmail.created_at < now - older_than)))
        .values(body_text=PURGED_NOTE, body_purged_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


@dataclass
class RelayResult:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    rejected: int = 0
    #: Claimed but given back untried: the time budget ran out or the breaker opened.
    released: int = 0
    #: Claimed, then no longer this sender's to send: taken over by another sender after this
    #: one's lease lapsed, or cancelled by the learner meanwhile.
    lost: int = 0


def purge_old_bodies(session: Session, *, now: datetime, older_than: timedelta) -> int:
    """Replace the text of every email sent (or logged) more than ``older_than`` ago with a
    short note: the retention period of outbox bodies. Returns how many were purged.

    Subject, address, times and status stay, so the outbox still shows that an email went.
    """
    result = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status.in_((OutboxStatus.SENT, OutboxStatus.LOGGED)),
               OutboxEmail.sent_at <= now - older_than, OutboxEmail.body_purged_at.is_(None))
        .values(body_text=RETENTION_NOTE, body_purged_at=now)
        .execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount or 0
