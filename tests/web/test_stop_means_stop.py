"""Stop means stop: pausing or stopping cancels the learner's follow-up emails still waiting in
the outbox, and every follow-up email carries an RFC 8058 one-click stop."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import dispatch_followups, relay_outbox
from simdebrief.models import FollowUpChoice, OutboxEmail, OutboxStatus, PreferenceState, User
from simdebrief.services.followups import stage_rows
from tests.conftest import (
    LINK_PATTERN,
    Planning,
    both_databases,
    client_for,
    link_in,
    seed_people,
    sync_shipped_library,
)
from tests.web.test_debriefs import finalised, running_session
from tests.web.test_followups import FU0, FU1, one


@pytest.fixture
def mail_people(smtp_app, clock):
    return seed_people(smtp_app, clock.now())


@pytest.fixture
def finalised_session(smtp_app, mail_people, clock) -> int:
    planning = Planning(sync_shipped_library(smtp_app, clock.now()), 0, 0, 0)
    session_id = running_session(smtp_app, mail_people, planning, clock)
    finalised(smtp_app, mail_people, session_id)
    return session_id


def followup_emails(app) -> list[tuple[str, OutboxStatus]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(OutboxEmail.idempotency_key, OutboxEmail.status)
            .where(OutboxEmail.link_ref.like("followup:%")).order_by(OutboxEmail.id))]


def state(app, user_id) -> PreferenceState:
    with app.app_context():
        return stage_rows.state_of(db.session, db.session.get(User, user_id))


@both_databases
def test_stop_chosen_while_smtp_is_down_means_nothing_arrives(
        smtp_app, smtp_server, mail_people, finalised_session, clock):
    student = mail_people.ids["student"]
    relay_outbox(smtp_app, now=clock.now())  # "your feedback is ready"
    sent_before = len(smtp_server.wait_for(2))
    assert dispatch_followups(smtp_app, now=clock.now()).sent == 2
    smtp_server.stop()
    failed = relay_outbox(smtp_app, now=clock.now())
    assert failed.failed == 2 and failed.delivered == 0
    # The learner stops follow-ups from their own page while their email waits for a retry.
    learner = client_for(smtp_app, mail_people, "student")
    assert learner.post("/me/follow-ups/choice", data={"action": "stop"}).status_code == 302
    mine = f"followup:{one(smtp_app, student, FU0).id}"
    statuses = dict(followup_emails(smtp_app))
    assert statuses[mine] is OutboxStatus.CANCELLED
    assert [s for k, s in statuses.items() if k != mine] == [OutboxStatus.PENDING]

    smtp_server.start()
    assert relay_outbox(smtp_app, now=clock.advance(hours=1)).delivered == 1
    messages = smtp_server.wait_for(sent_before + 1)[sent_before:]
    assert [m["To"] for m in messages] == [mail_people.emails["student2"]]
    # Nor is the learner reminded later.
    clock.advance(days=2)
    dispatch_followups(smtp_app, now=clock.now())
    relay_outbox(smtp_app, now=clock.now())
    later = smtp_server.wait_for(sent_before + 2, 0.5)[sent_before:]
    assert later and all(m["To"] != mail_people.emails["student"] for m in later)


def test_pausing_cancels_waiting_reminders_too(
        smtp_app, smtp_server, mail_people, finalised_session, clock):
    clock.set(one(smtp_app, mail_people.ids["student"], FU1).due_at)
    dispatch_followups(smtp_app, now=clock.now())
    relay_outbox(smtp_app, now=clock.now())
    first = one(smtp_app, mail_people.ids["student"], FU1)
    smtp_server.stop()
    clock.set(first.remind_at + timedelta(minutes=1))
    assert dispatch_followups(smtp_app, now=clock.now()).reminders == 2
    relay_outbox(smtp_app, now=clock.now())
    client_for(smtp_app, mail_people, "student").post("/me/follow-ups/choice",
                                                      data={"action": "pause"})
    statuses = dict(followup_emails(smtp_app))
    assert statuses[f"followup:{first.id}:reminder"] is OutboxStatus.CANCELLED
    smtp_server.start()
    before = len(smtp_server.messages)
    relay_outbox(smtp_app, now=clock.advance(hours=1))
    arrived = smtp_server.wait_for(before + 1)[before:]
    assert [m["To"] for m in arrived] == [mail_people.emails["student2"]]


@both_databases
def test_follow_up_emails_carry_a_one_click_stop(
        smtp_app, smtp_server, mail_people, finalised_session, clock):
    dispatch_followups(smtp_app, now=clock.now())
    relay_outbox(smtp_app, now=clock.now())
    [message] = [m for m in smtp_server.wait_for(4)
                 if m["To"] == mail_people.emails["student"] and m["List-Unsubscribe"]]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = "".join(message["List-Unsubscribe"].split())  # unfold a long header line
    assert header.startswith("<https://sim.example.org/f/unsubscribe/") and header.endswith(">")
    path = LINK_PATTERN.search(header.strip("<>")).group(1)
    body = message.get_payload(decode=True).decode()
    stage_path = link_in(body)
    # The same stop link closes the text, for mail programs that hide the header's.
    assert f"https://sim.example.org{path}" in body.splitlines()

    smtp_app.config["WTF_CSRF_ENABLED"] = True  # as in production
    mailbox = smtp_app.test_client()
    page = mailbox.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Stop follow-ups" in page.get_data(as_text=True)
    assert state(smtp_app, mail_people.ids["student"]) is PreferenceState.ACTIVE
    # The CSRF exemption is for this one view only.
    assert mailbox.post(f"{stage_path}/choice", data={"action": "stop"}).status_code == 400
    # The mailbox provider's POST: no login, no CSRF token, stopped at once.
    done = mailbox.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Follow-ups are stopped" in done.get_data(as_text=True)
    assert state(smtp_app, mail_people.ids["student"]) is PreferenceState.STOPPED
    assert state(smtp_app, mail_people.ids["student2"]) is PreferenceState.ACTIVE
    with smtp_app.app_context():
        assert db.session.scalar(select(FollowUpChoice.via).where(
            FollowUpChoice.user_id == mail_people.ids["student"])) == "unsubscribe"
    assert mailbox.post(path[:-3] + "xyz").status_code == 404
    clock.advance(days=181)
    assert mailbox.post(path).status_code == 410


def test_an_admin_cannot_revive_an_email_cancelled_by_stop(
        smtp_app, smtp_server, mail_people, finalised_session, clock):
    dispatch_followups(smtp_app, now=clock.now())
    client_for(smtp_app, mail_people, "student").post("/me/follow-ups/choice",
                                                      data={"action": "stop"})
    with smtp_app.app_context():
        [cancelled] = db.session.scalars(select(OutboxEmail.id).where(
            OutboxEmail.status == OutboxStatus.CANCELLED)).all()
    admin = client_for(smtp_app, mail_people, "admin")
    response = admin.post(f"/admin/outbox/{cancelled}/retry", follow_redirects=True)
    assert "Only an email that failed can be tried again." in response.get_data(as_text=True)
    assert dict(followup_emails(smtp_app)).get(
        f"followup:{one(smtp_app, mail_people.ids['student'], FU0).id}") \
        is OutboxStatus.CANCELLED
