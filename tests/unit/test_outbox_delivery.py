"""Delivery when SMTP misbehaves: a permanent refusal fails at once, a dead server is rested,
a slow one cannot make a batch outlive its lease, and a sender whose lease was taken over
neither marks nor resends."""

import smtplib
from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief.extensions import db
from simdebrief.jobs import dispatch_followups, relay_outbox
from simdebrief.models import FollowUpStatus, OutboxEmail, OutboxStatus
from simdebrief.services import notifications
from simdebrief.services.followups.figures import StageFigures
from tests.conftest import both_databases, client_for
from tests.unit.test_outbox import enqueue, load
from tests.web.test_followups import FU0, one
from tests.web.test_stop_means_stop import finalised_session, mail_people  # noqa: F401


def statuses(app) -> Counter:
    with app.app_context():
        return Counter(db.session.scalars(select(OutboxEmail.status)))


@both_databases
def test_a_550_fails_at_once_and_the_follow_up_is_undeliverable(
        smtp_app, smtp_server, mail_people, finalised_session, clock):  # noqa: F811
    relay_outbox(smtp_app, now=clock.now())  # "your feedback is ready"
    before = len(smtp_server.wait_for(2))
    assert dispatch_followups(smtp_app, now=clock.now()).sent == 2
    smtp_server.handler.refused.add(mail_people.emails["student"])

    result = relay_outbox(smtp_app, now=clock.now())
    assert (result.delivered, result.rejected, result.failed) == (1, 1, 0)
    student_stage = one(smtp_app, mail_people.ids["student"], FU0)
    assert student_stage.status is FollowUpStatus.UNDELIVERABLE
    assert one(smtp_app, mail_people.ids["student2"], FU0).status is FollowUpStatus.SENT
    with smtp_app.app_context():
        refused = db.session.scalar(select(OutboxEmail).where(
            OutboxEmail.idempotency_key == f"followup:{student_stage.id}"))
        refused_id = refused.id
    assert load(smtp_app, refused_id).status is OutboxStatus.REJECTED
    assert "550" in load(smtp_app, refused_id).last_error

    # Never tried again, not even when the server would now accept it.
    smtp_server.handler.refused.clear()
    assert relay_outbox(smtp_app, now=clock.advance(hours=2)).claimed == 0
    arrived = smtp_server.wait_for(before + 2, timeout=0.3)[before:]
    assert [m["To"] for m in arrived] == [mail_people.emails["student2"]]

    admin = client_for(smtp_app, mail_people, "admin")
    page = admin.get("/admin/outbox?status=rejected").get_data(as_text=True)
    assert mail_people.emails["student"] in page
    assert "Refused by the mail server" in page
    # The admin's "try again" is only for emails that failed after every retry.
    admin.post(f"/admin/outbox/{refused_id}/retry")
    assert load(smtp_app, refused_id).status is OutboxStatus.REJECTED
    learner = client_for(smtp_app, mail_people, "student")
    assert "Could not be emailed to you" in learner.get("/me/follow-ups").get_data(as_text=True)


def test_an_undeliverable_stage_is_not_counted_as_sent():
    figures = StageFigures("FU0", "Next day", 0,
                           Counter(open=6, completed=5, undeliverable=5), k=5)
    assert figures.sent.value == 11
    assert figures["undeliverable"].value == 5
    assert figures.total == 16


def test_retry_is_refused_for_an_email_that_was_sent(app, people, admin_client, clock):
    email_id = enqueue(app, clock, centre_id=people.centre_id)
    assert relay_outbox(app, now=clock.now()).delivered == 1
    response = admin_client.post(f"/admin/outbox/{email_id}/retry", follow_redirects=True)
    assert "Only an email that failed can be tried again" in response.get_data(as_text=True)
    assert load(app, email_id).status is OutboxStatus.LOGGED
    assert relay_outbox(app, now=clock.advance(minutes=1)).claimed == 0


@both_databases
def test_a_dead_server_is_rested_after_consecutive_connection_failures(
        smtp_app, smtp_server, clock):
    ids = [enqueue(smtp_app, clock, key=f"test:{n}", to=f"p{n}@example.org") for n in range(8)]
    smtp_server.stop()

    first = relay_outbox(smtp_app, now=clock.now())
    threshold = notifications.BREAKER_FAILURES
    # It stops after the threshold instead of waiting a timeout for every email ...
    assert (first.failed, first.released) == (threshold, 8 - threshold)
    untried = load(smtp_app, ids[-1])
    assert untried.status is OutboxStatus.PENDING and untried.attempts == 0
    # ... and leaves the server alone for the cool-down, even for emails due meanwhile.
    assert relay_outbox(smtp_app, now=clock.advance(seconds=61)).claimed == 0
    smtp_server.start()
    later = relay_outbox(smtp_app, now=clock.advance(seconds=60))
    assert later.delivered == 8
    assert len(smtp_server.wait_for(8)) == 8


def test_a_slow_server_stops_the_run_at_its_time_budget(smtp_app, smtp_server, clock):
    smtp_app.config["SIMDEBRIEF_OUTBOX_BUDGET_SECONDS"] = 1
    smtp_server.handler.delay = 0.4
    for n in range(8):
        enqueue(smtp_app, clock, key=f"test:{n}", to=f"p{n}@example.org")
    result = relay_outbox(smtp_app, now=clock.now())
    assert 1 <= result.delivered <= 4
    assert result.delivered + result.released == 8
    assert statuses(smtp_app)[OutboxStatus.PENDING] == result.released
    # The rest goes at the next tick, none of it twice.
    smtp_server.handler.delay = 0
    relay_outbox(smtp_app, now=clock.advance(seconds=20))
    messages = smtp_server.wait_for(8)
    assert sorted(m["To"] for m in messages) == sorted(f"p{n}@example.org" for n in range(8))


@both_databases
def test_a_sender_whose_lease_was_taken_over_neither_marks_nor_resends(app, clock):
    email_id = enqueue(app, clock)
    with app.app_context(), Session(db.engine) as slow, Session(db.engine) as other:
        [mine] = notifications.claim_due_emails(slow, now=clock.now())
        token = mine.claim_token
        slow.commit()
        # The slow sender's lease lapses; another sender claims the email.
        later = clock.now() + notifications.LEASE + timedelta(seconds=1)
        [theirs] = notifications.claim_due_emails(other, now=later)
        other.commit()
        assert notifications.renew_lease(slow, token=token, ids=[email_id],
                                         until=later + notifications.LEASE) == set()
        assert notifications.mark_claimed_delivered(
            slow, token=token, ids=[email_id], now=later, logged_only=False) == 0
        slow.commit()
        assert theirs.claim_token != token
    email = load(app, email_id)
    assert email.status is OutboxStatus.SENDING and email.sent_at is None


def test_two_installations_never_share_a_message_id():
    first = notifications.message_id_for("followup:1", "a <x@sim.example.org>",
                                         installation="a" * 32)
    second = notifications.message_id_for("followup:1", "a <x@sim.example.org>",
                                          installation="b" * 32)
    assert first != second
    assert first == notifications.message_id_for("followup:1", "a <x@sim.example.org>",
                                                 installation="a" * 32)



def test_only_a_5xx_for_the_message_is_permanent_and_only_the_connection_rests_the_server():
    refused = smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"No such mailbox")})
    busy = smtplib.SMTPRecipientsRefused({"x@example.org": (450, b"Mailbox busy")})
    sender = smtplib.SMTPSenderRefused(553, b"Sender not allowed", "no-reply@example.org")
    assert notifications.is_permanent_rejection(refused)
    assert notifications.is_permanent_rejection(smtplib.SMTPDataError(554, b"Rejected"))
    assert not notifications.is_permanent_rejection(busy)
    assert not notifications.is_permanent_rejection(sender)  # our setting: every email fails
    assert not notifications.is_permanent_rejection(ConnectionRefusedError())
    assert notifications.is_connection_failure(ConnectionRefusedError())
    assert notifications.is_connection_failure(smtplib.SMTPServerDisconnected())
    assert not notifications.is_connection_failure(refused)
    assert not notifications.is_connection_failure(smtplib.SMTPDataError(451, b"Try later"))
