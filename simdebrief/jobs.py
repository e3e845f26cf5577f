"""APScheduler wiring. Each job is a thin call into services that owns its transactions.

APScheduler is only the clock: all state lives in our own tables, so the in-memory job store
is enough and a restart loses nothing. Several scheduler processes are safe and share the work:
follow-up claims and outbox claims are atomic, an outbox claim's lease is renewed while it
sends, and an email is marked sent only under the claim that holds it.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import select

from simdebrief.clock import current_now
from simdebrief.extensions import db
from simdebrief.models import Centre, OutboxStatus
from simdebrief.services import mail_transport, notifications, report_files

log = logging.getLogger(__name__)

OUTBOX_INTERVAL_SECONDS = 20
REMINDER_INTERVAL_SECONDS = 300


def make_transport(config) -> mail_transport.SmtpTransport | mail_transport.LogTransport:
    host = config.get("SIMDEBRIEF_SMTP_HOST")
    if not host:
        return mail_transport.LogTransport()
    return mail_transport.SmtpTransport(
        host,
        config["SIMDEBRIEF_SMTP_PORT"],
        timeout=config["SIMDEBRIEF_SMTP_TIMEOUT"],
        starttls=config["SIMDEBRIEF_SMTP_STARTTLS"],
        username=config.get("SIMDEBRIEF_SMTP_USERNAME"),
        password=config.get("SIMDEBRIEF_SMTP_PASSWORD"),
    )


def _breaker(app: Flask) -> notifications.CircuitBreaker:
    """This process's circuit breaker for the app's mail server."""
    if "simdebrief.smtp_breaker" not in app.extensions:
        app.extensions["simdebrief.smtp_breaker"] = notifications.CircuitBreaker(
            threshold=app.config.get("SIMDEBRIEF_SMTP_BREAKER_FAILURES",
                                     notifications.BREAKER_FAILURES),
            cooldown=timedelta(seconds=app.config.get(
                "SIMDEBRIEF_SMTP_BREAKER_SECONDS", notifications.BREAKER_COOLDOWN.seconds)))
    return app.extensions["simdebrief.smtp_breaker"]


def relay_outbox(app: Flask, now: datetime | None = None, batch: int = 50):
    """Send due outbox emails; a temporary failure schedules a retry with backoff, a
    permanent refusal (5xx) fails the email at once.

    Each email is sent only while this sender's claim holds it: the lease is renewed once
    half of it has gone, and an email whose lease lapsed and that another sender claimed is
    left to that sender. Sending stops after a time budget, and while the circuit breaker
    rests a mail server that keeps refusing connections; untried emails are given back.
    """
    from simdebrief.emails import links

    result = notifications.RelayResult()
    lease = timedelta(seconds=app.config.get("SIMDEBRIEF_OUTBOX_LEASE_SECONDS", 300))
    budget = timedelta(seconds=app.config.get("SIMDEBRIEF_OUTBOX_BUDGET_SECONDS", 120))
    breaker = _breaker(app)
    started = time.monotonic()

    def elapsed() -> timedelta:
        return timedelta(seconds=time.monotonic() - started)

    with job_context(app):
        now = now or current_now()

        def moment() -> datetime:
            """``now`` moved on by the time this run has taken, for leases and the breaker."""
            return now + elapsed()

        mail_from = app.config["SIMDEBRIEF_MAIL_FROM"]
        while not breaker.is_open(moment()) and elapsed() < budget:
            claimed_at = moment()
            emails = notifications.claim_due_emails(db.session, now=claimed_at, batch=batch,
                                                    lease=lease)
            messages = []
            builder = links.LinkBuilder(db.session, emails, now)
            for email in emails:
                # The live link is signed here, in memory, and never written back.
                outgoing = builder.prepare(email)
                if outgoing is None:
                    email.status = OutboxStatus.CANCELLED
                    continue
                messages.append((email.id, mail_transport.build_message(
                    email, mail_from=mail_from, body=outgoing.body,
                    extra_headers=outgoing.headers), email.attachment))
            # The claim is its own short transaction, committed before the slow SMTP work, so
            # no database lock is held while talking to the mail server.
            db.session.commit()
            if not emails:
                break
            result.claimed += len(messages)
            _send_claimed(app, messages, token=emails[0].claim_token, lease=lease,
                          lease_until=claimed_at + lease, now=now, moment=moment,
                          out_of_time=lambda: elapsed() >= budget, breaker=breaker,
                          result=result)
            if len(emails) < batch:
                break
    return result


def _send_claimed(app: Flask, messages: list, *, token: str, lease: timedelta,
                  lease_until: datetime, now: datetime, moment, out_of_time, breaker,
                  result: notifications.RelayResult) -> None:
    held = {email_id for email_id, _message, _attachment in messages}
    delivered: list[int] = []

    def record_delivered() -> None:
        # One statement marks what was sent so far: a commit per email cost more than
        # sending it. A sender that dies in between leaves its lease, and those emails go
        # again with the same Message-IDs.
        marked = notifications.mark_claimed_delivered(
            db.session, token=token, ids=delivered, now=now, logged_only=transport.logged_only)
        result.delivered += marked
        result.lost += len(delivered) - marked
        delivered.clear()
        db.session.commit()

    with make_transport(app.config) as transport:
        for position, (email_id, message, attachment) in enumerate(messages):
            if out_of_time() or breaker.is_open(moment()):
                untried = [i for i, _m, _a in messages[position:] if i in held]
                until = breaker.open_until if breaker.is_open(moment()) else now
                result.released += notifications.release_claimed(
                    db.session, token=token, ids=untried, until=until)
                break
            if moment() + lease / 2 > lease_until:
                record_delivered()
                remaining = [i for i, _m, _a in messages[position:] if i in held]
                lease_until = moment() + lease
                still_held = notifications.renew_lease(db.session, token=token, ids=remaining,
                                                       until=lease_until)
                db.session.commit()
                result.lost += len(set(remaining) - still_held)
                held = still_held
            if email_id not in held:
                continue
            try:
                if attachment:
                    attach_document(message, attachment, now)
                transport.send(message)
            except (smtplib.SMTPException, OSError, report_files.AttachmentError) as exc:
                _record_failure(exc, email_id, token=token, now=now, moment=moment,
                                breaker=breaker, result=result)
            else:
                breaker.succeeded()
                delivered.append(email_id)
        record_delivered()


def _record_failure(exc: Exception, email_id: int, *, token: str, now: datetime, moment,
                    breaker, result: notifications.RelayResult) -> None:
    error = repr(exc)
    if notifications.is_connection_failure(exc):
        breaker.failed(moment())
    email = notifications.held_email(db.session, token=token, email_id=email_id)
    if email is None:
        result.lost += 1
    elif notifications.is_permanent_rejection(exc):
        notifications.mark_rejected(db.session, email, now=now, error=error)
        result.rejected += 1
    else:
        notifications.mark_attempt_failed(email, now=now, error=error)
        result.failed += 1
    db.session.commit()


def attach_document(message, reference: str, now: datetime) -> None:
    """Render the document an outbox row refers to and attach it. Only reads; the transaction
    ends before the mail server is contacted."""
    try:
        report_files.attach(db.session, message, reference, now=now)
    finally:
        db.session.rollback()


def job_context(app: Flask):
    """An app and request context for jobs that build links (``url_for``) into emails."""
    return app.test_request_context("/", base_url=app.config["SIMDEBRIEF_BASE_URL"])


def send_session_reminders(app: Flask, now: datetime | None = None) -> int:
    """Queue reminder emails for sessions inside their centre's reminder window."""
    from simdebrief.emails.sessions import queue_session_reminder
    from simdebrief.services import scheduling

    with job_context(app):
        now = now or current_now()
        due = scheduling.participants_due_a_reminder(db.session, now=now)
        for participant in due:
            queue_session_reminder(participant, now)
        db.session.commit()
    return len(due)


FOLLOWUP_INTERVAL_SECONDS = 30


def dispatch_followups(app: Flask, now: datetime | None = None, batch: int = 200,
                       item_delay: float = 0.0):
    """Claim due follow-up stages (their emails written in the same transaction), remind
    non-responders once, and close stages past their time. The outbox relay sends them."""
    from simdebrief.emails import followups as followup_emails

    with job_context(app):
        return followup_emails.dispatch(now or current_now(), batch=batch,
                                        item_delay=item_delay)


HEARTBEAT_INTERVAL_SECONDS = 30


def record_heartbeat(app: Flask, now: datetime | None = None) -> str:
    """Say that this scheduler process is alive (``/healthz`` reports the newest beat)."""
    from simdebrief.services import operations

    with app.app_context():
        name = operations.process_name()
        operations.record_heartbeat(db.session, name=name, now=now or current_now())
        db.session.commit()
    return name


def tick_summary(result) -> str:
    """One log line's worth of what a job did: its counts, never any content."""
    if dataclasses.is_dataclass(result):
        result = dataclasses.asdict(result)
    if isinstance(result, dict):
        return ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in result.items())
    return str(result)


RETENTION_INTERVAL_HOURS = 24


def apply_retention(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Tell learners whose emotional data goes within 14 days, then purge what is past its
    period. Daily; both steps are idempotent, so a missed or repeated day does no harm."""
    from simdebrief.emails.retention import queue_retention_notices
    from simdebrief.services import retention

    with job_context(app):
        now = now or current_now()
        notices = queue_retention_notices(now)
        db.session.commit()
        counts = retention.purge(db.session, now)
        db.session.commit()
    return {"notices": notices, **counts}


THROTTLING_CLEANUP_INTERVAL_HOURS = 1


def forget_old_throttling(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Hourly: failed logins and reset/invitation requests past the limits' windows go."""
    from simdebrief.services import accounts

    with job_context(app):
        counts = accounts.forget_old_throttling(db.session, now or current_now())
        db.session.commit()
    return counts


TALLY_FOLD_INTERVAL_SECONDS = 300
#: Rows folded or marks taken in one go above which the job tidies the table after itself.
TIDY_AFTER_ROWS = 10_000


def fold_follow_up_tallies(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Every few minutes: fold the follow-up tallies' change rows into one row per key, so
    the completion figures read a few rows per stage (``stage_tallies``), and settle each
    centre's distress tallies, so its overview asks only about the batches changed since."""
    from simdebrief.models.base import tidy_after_bulk_delete
    from simdebrief.services.followups import figures, stage_tallies

    with app.app_context():
        now = now or current_now()
        folded = stage_tallies.fold(db.session)
        db.session.commit()
        centres = db.session.scalars(select(Centre).order_by(Centre.id)).all()
        marks = 0
        for centre in centres:
            marks += figures.settle_distress(db.session, centre, now)
            db.session.commit()
        # A mass change (an import, a bulk erasure) leaves many dead rows behind.
        tidied = tidy_after_bulk_delete(db.engine, *[
            name for name, removed in (("follow_up_tally", folded), ("distress_batch_mark", marks))
            if removed >= TIDY_AFTER_ROWS])
    return {"tally changes": folded, "marks taken": marks, "centres settled": len(centres),
            "tables tidied": len(tidied)}


ESCALATION_INTERVAL_SECONDS = 60


def escalate_support_requests(app: Flask, now: datetime | None = None) -> int:
    """Pass up requests nobody took within the centre's response time (each exactly once);
    their emails go into the outbox in the same transaction."""
    from simdebrief.services import support_triage

    with job_context(app):
        escalated = support_triage.escalate_overdue(db.session, now or current_now())
        db.session.commit()
    return len(escalated)


def recompute_followup_times(app: Flask, now: datetime | None = None) -> int:
    """Bring stages not yet sent in line with the current timing rules; run once when the
    scheduler starts, so an upgrade recomputes what was scheduled under older rules (an
    audit entry per centre, only when something changed)."""
    from simdebrief.services.followups import enrolment

    with app.app_context():
        changed = enrolment.recompute_unsent(db.session, now=now or current_now())
        db.session.commit()
    return changed


def _safely(job, app: Flask):
    def run() -> None:
        try:
            log.info("%s: %s", job.__name__, tick_summary(job(app)))
        except Exception:
            log.exception("scheduled job %s failed; it runs again at the next tick", job.__name__)
            with app.app_context():
                db.session.rollback()

    run.__name__ = job.__name__
    return run


def add_jobs(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    scheduler.add_job(
        _safely(relay_outbox, app), "interval", seconds=OUTBOX_INTERVAL_SECONDS,
        id="relay_outbox", replace_existing=True, next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _safely(send_session_reminders, app), "interval", seconds=REMINDER_INTERVAL_SECONDS,
        id="send_session_reminders", replace_existing=True, next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _safely(dispatch_followups, app), "interval", seconds=FOLLOWUP_INTERVAL_SECONDS,
        id="dispatch_followups", replace_existing=True, next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _safely(record_heartbeat, app), "interval", seconds=HEARTBEAT_INTERVAL_SECONDS,
        id="record_heartbeat", replace_existing=True, next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _safely(apply_retention, app), "interval", hours=RETENTION_INTERVAL_HOURS,
        id="apply_retention", replace_existing=True, next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _safely(forget_old_throttling, app), "interval",
        hours=THROTTLING_CLEANUP_INTERVAL_HOURS, id="forget_old_throttling",
        replace_existing=True, next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _safely(recompute_followup_times, app), "date", run_date=datetime.now(UTC),
        id="recompute_followup_times", replace_existing=True,
    )
    scheduler.add_job(
        _safely(fold_follow_up_tallies, app), "interval",
        seconds=TALLY_FOLD_INTERVAL_SECONDS, id="fold_follow_up_tallies",
        replace_existing=True, next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _safely(escalate_support_requests, app), "interval",
        seconds=ESCALATION_INTERVAL_SECONDS, id="escalate_support_requests",
        replace_existing=True, next_run_time=datetime.now(UTC),
    )
    return scheduler


JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}


def background_scheduler(app: Flask) -> BackgroundScheduler:
    return add_jobs(BackgroundScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS), app)


def blocking_scheduler(app: Flask) -> BlockingScheduler:
    return add_jobs(BlockingScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS), app)
