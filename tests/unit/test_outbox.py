"""The outbox delivers through a real SMTP server, retries with backoff, never duplicates."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simdebrief.extensions import db
from simdebrief.jobs import relay_outbox
from simdebrief.models import OutboxEmail, OutboxStatus
from simdebrief.services import mail_transport, notifications, operations
from tests.conftest import both_databases

FROM = "SimDebrief <no-reply@sim.example.org>"


def enqueue(app, clock, key="test:1", to="learner@example.org", **extra):
    with app.app_context():
        email = notifications.enqueue_email(
            db.session, key=key, to=to, subject="Your debrief", body="Hello æøå",
            now=clock.now(), mail_from=FROM, **extra)
        db.session.commit()
        return email.id


def load(app, email_id) -> OutboxEmail:
    with app.app_context():
        email = db.session.get(OutboxEmail, email_id)
        db.session.expunge(email)
        return email


@both_databases
def test_email_is_delivered_once_with_a_stable_message_id(smtp_app, smtp_server, clock):
    email_id = enqueue(smtp_app, clock)
    result = relay_outbox(smtp_app, now=clock.now())
    assert (result.claimed, result.delivered, result.failed) == (1, 1, 0)
    [message] = smtp_server.wait_for(1)
    email = load(smtp_app, email_id)
    assert email.status is OutboxStatus.SENT
    assert message["Message-ID"] == email.message_id
    with smtp_app.app_context():
        installation = operations.installation_id(db.session)
    assert email.message_id == notifications.message_id_for("test:1", FROM,
                                                            installation=installation)
    assert installation[:12] in email.message_id
    assert message.get_payload(decode=True).decode().strip() == "Hello æøå"
    assert relay_outbox(smtp_app, now=clock.now() + timedelta(hours=1)).claimed == 0
    assert len(smtp_server.wait_for(2, timeout=0.2)) == 1


@both_databases
def test_smtp_outage_is_retried_with_backoff_and_nothing_is_lost(smtp_app, smtp_server, clock):
    smtp_app.config["SIMDEBRIEF_SMTP_BREAKER_FAILURES"] = 20  # the backoff alone, here
    ids = [enqueue(smtp_app, clock, key=f"test:{n}", to=f"p{n}@example.org") for n in range(3)]
    smtp_server.stop()

    first = relay_outbox(smtp_app, now=clock.now())
    assert (first.claimed, first.failed) == (3, 3)
    email = load(smtp_app, ids[0])
    assert email.status is OutboxStatus.PENDING
    assert email.attempts == 1
    assert email.last_error
    assert email.next_attempt_at == clock.now() + timedelta(seconds=30)

    # Not due again until the backoff has passed.
    assert relay_outbox(smtp_app, now=clock.advance(seconds=10)).claimed == 0
    second = relay_outbox(smtp_app, now=clock.advance(seconds=25))
    assert second.failed == 3
    assert load(smtp_app, ids[0]).next_attempt_at == clock.now() + timedelta(seconds=60)

    smtp_server.start()
    assert relay_outbox(smtp_app, now=clock.advance(seconds=30)).claimed == 0
    third = relay_outbox(smtp_app, now=clock.advance(seconds=31))
    assert third.delivered == 3
    messages = smtp_server.wait_for(3)
    assert sorted(m["To"] for m in messages) == ["p0@example.org", "p1@example.org",
                                                 "p2@example.org"]
    assert all(load(smtp_app, i).status is OutboxStatus.SENT for i in ids)


def test_backoff_doubles_and_is_capped_at_an_hour():
    delays = [notifications.retry_delay(n) for n in (1, 2, 3, 4, 10, 30)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays[4] == delays[5] == timedelta(hours=1)


def test_gives_up_after_the_last_attempt_and_an_admin_can_retry(app, clock):
    email_id = enqueue(app, clock)
    with app.app_context():
        email = db.session.get(OutboxEmail, email_id)
        email.attempts = notifications.MAX_ATTEMPTS
        notifications.mark_attempt_failed(email, now=clock.now(), error="550 mailbox unavailable")
        assert email.status is OutboxStatus.FAILED
        notifications.retry_now(email, now=clock.now())
        db.session.commit()
    assert load(app, email_id).status is OutboxStatus.PENDING


def test_the_same_key_twice_is_one_email(app, clock):
    first = enqueue(app, clock, key="followup:42")
    second = enqueue(app, clock, key="followup:42")
    assert first == second
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1


def test_email_rolled_back_with_its_cause_is_never_sent(app, clock):
    with app.app_context():
        notifications.enqueue_email(db.session, key="test:rollback", to="x@example.org",
                                    subject="s", body="b", now=clock.now(), mail_from=FROM)
        db.session.rollback()
        assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0
    assert relay_outbox(app, now=clock.now()).claimed == 0


def test_a_sender_that_died_mid_send_is_picked_up_after_its_lease(smtp_app, smtp_server, clock):
    email_id = enqueue(smtp_app, clock)
    with smtp_app.app_context():
        [claimed] = notifications.claim_due_emails(db.session, now=clock.now())
        claimed_id = claimed.id
        db.session.commit()  # and then the process dies without sending
    assert relay_outbox(smtp_app, now=clock.advance(minutes=4)).claimed == 0
    assert relay_outbox(smtp_app, now=clock.advance(minutes=2)).delivered == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert load(smtp_app, email_id).attempts == 2
    assert claimed_id == email_id


@both_databases
def test_two_senders_never_claim_the_same_email(app, clock):
    for n in range(20):
        enqueue(app, clock, key=f"test:{n}")
    with app.app_context():
        engine = db.engine
        with Session(engine) as first, Session(engine) as second:
            a = {e.id for e in notifications.claim_due_emails(first, now=clock.now(), batch=12)}
            first.commit()
            b = {e.id for e in notifications.claim_due_emails(second, now=clock.now(), batch=12)}
            second.commit()
    assert len(a) == 12 and len(b) == 8
    assert not a & b


def test_without_smtp_host_emails_are_logged_and_listed_for_admins(
    app, people, admin_client, clock, caplog
):
    enqueue(app, clock, key="test:log", to="someone@example.org", centre_id=people.centre_id)
    with caplog.at_level("INFO", logger="simdebrief.services.mail_transport"):
        result = relay_outbox(app, now=clock.now())
    assert result.delivered == 1
    assert "someone@example.org" in caplog.text
    page = admin_client.get("/admin/outbox?status=logged").get_data(as_text=True)
    assert "someone@example.org" in page
    assert "No SMTP server is configured" in page


@pytest.mark.parametrize("header_injection", ["Hi\r\nBcc: x@evil.example", "Hi\nBcc: y"])
def test_subject_cannot_inject_headers(app, clock, header_injection):
    with app.app_context():
        email = notifications.enqueue_email(db.session, key="test:inj", to="x@example.org",
                                            subject=header_injection, body="b",
                                            now=clock.now(), mail_from=FROM)
        message = mail_transport.build_message(email, mail_from=FROM)
    assert message["Bcc"] is None


def test_danish_subject_and_body_arrive_intact(smtp_app, smtp_server, clock):
    from email.header import decode_header, make_header

    with smtp_app.app_context():
        notifications.enqueue_email(db.session, key="test:da", to="laerke@example.org",
                                    subject="Påmindelse: din simulation på torsdag",
                                    body="Hej Lærke, vi ses i simulationsrummet.",
                                    now=clock.now(), mail_from="SimDebrief <no-reply@sim.dk>")
        db.session.commit()
    assert relay_outbox(smtp_app, now=clock.now()).delivered == 1
    [message] = smtp_server.wait_for(1)
    assert str(make_header(decode_header(message["Subject"]))) == \
        "Påmindelse: din simulation på torsdag"
    assert message.get_payload(decode=True).decode("utf-8") == \
        "Hej Lærke, vi ses i simulationsrummet."
