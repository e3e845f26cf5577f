"""No live secret in the outbox: links are signed when the email leaves, admins never see a
usable token, every admin read of a body is audited, and sent bodies with links are purged."""

import re
from datetime import timedelta

from sqlalchemy import func, select, text

from simdebrief.extensions import db
from simdebrief.jobs import relay_outbox
from simdebrief.models import AuditEvent, OutboxEmail, OutboxStatus
from simdebrief.services import notifications
from tests.conftest import LINK_PATTERN, both_databases, client_for, link_in, login, seed_people

SECRET_PATHS = re.compile(r"/(reset-password|invitation|f)/[A-Za-z0-9_.\-]{20,}")
NEW_PASSWORD = "a fresh password for the night shift"


def raw_outbox_dump(app) -> str:
    """Every column of every outbox row, as a database dump would hold it."""
    with app.app_context():
        return "\n".join(" ".join(str(value) for value in row) for row in
                         db.session.execute(text("SELECT * FROM outbox_email")).all())


@both_databases
def test_an_admin_finds_no_working_link_in_the_outbox_but_the_learner_gets_one(
        smtp_app, smtp_server, clock):
    people = seed_people(smtp_app, clock.now())
    # The admin asks for a reset of a learner's password, and invites an alias as supporter.
    smtp_app.test_client().post("/reset-password", data={"email": people.emails["student"]})
    admin = client_for(smtp_app, people, "admin")
    admin.post("/admin/users/invite", data={"name": "Alias", "email": "alias@example.org",
                                            "role": "supporter",
                                            "supporter_tier": "professional"})
    dump = raw_outbox_dump(smtp_app)
    assert "alias@example.org" in dump and notifications.LINK_PLACEHOLDER in dump
    assert not SECRET_PATHS.search(dump), dump

    with smtp_app.app_context():
        ids = list(db.session.scalars(select(OutboxEmail.id).order_by(OutboxEmail.id)))
    assert len(ids) == 2
    pages = [admin.get("/admin/outbox").get_data(as_text=True)]
    for email_id in ids:
        response = admin.get(f"/admin/outbox/{email_id}")
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))
    assert "Reset your SimDebrief password" in pages[0]
    assert "added only when it is sent" in pages[1]
    for page in pages:
        assert not SECRET_PATHS.search(page)
        for path in LINK_PATTERN.findall(page):
            response = smtp_app.test_client().get(path)
            assert "Choose a new password" not in response.get_data(as_text=True)
    with smtp_app.app_context():
        reads = db.session.execute(select(AuditEvent.actor_id, AuditEvent.object_id).where(
            AuditEvent.action == "outbox.email_viewed").order_by(AuditEvent.id)).all()
    assert [tuple(r) for r in reads] == [(people.ids["admin"], str(i)) for i in ids]

    # What the learner actually receives works.
    assert relay_outbox(smtp_app, now=clock.now()).delivered == 2
    messages = smtp_server.wait_for(2)
    [reset] = [m for m in messages if m["To"] == people.emails["student"]]
    link = link_in(reset.get_payload(decode=True).decode())
    assert link.startswith("/reset-password/")
    learner = smtp_app.test_client()
    assert learner.get(link).status_code == 200
    assert learner.post(link, data={"password": NEW_PASSWORD,
                                    "confirm": NEW_PASSWORD}).status_code in (302, 303)
    assert login(smtp_app.test_client(), people.emails["student"],
                 NEW_PASSWORD).status_code in (302, 303)
    # Sending never wrote the link back.
    assert not SECRET_PATHS.search(raw_outbox_dump(smtp_app))


@both_databases
def test_sent_bodies_with_links_are_purged_after_the_retention_time(app, people, clock):
    client = app.test_client()
    client.post("/reset-password", data={"email": people.emails["student"]})
    admin = client_for(app, people, "admin")
    relay_outbox(app, now=clock.now())
    with app.app_context():
        [reset] = db.session.scalars(select(OutboxEmail)).all()
        assert reset.status is OutboxStatus.LOGGED and reset.link_ref
        plain = notifications.enqueue_email(
            db.session, key="plain", to="x@example.org", subject="No link", body="Hello",
            now=clock.now(), mail_from="a@example.org", centre_id=people.centre_id)
        plain.status, plain.sent_at = OutboxStatus.SENT, clock.now()
        db.session.commit()
        assert notifications.purge_sent_bodies(
            db.session, now=clock.now() + timedelta(days=29)) == 0
        assert notifications.purge_sent_bodies(
            db.session, now=clock.now() + timedelta(days=31)) == 1
        db.session.commit()
        bodies = dict(db.session.execute(select(OutboxEmail.idempotency_key,
                                                OutboxEmail.body_text)).all())
        assert bodies["plain"] == "Hello"
        [purged] = [body for key, body in bodies.items() if key.startswith("reset:")]
        assert purged == notifications.PURGED_NOTE
        assert notifications.purge_sent_bodies(
            db.session, now=clock.now() + timedelta(days=60), older_than=timedelta(days=1)) == 0
        reset_id = db.session.scalar(select(OutboxEmail.id).where(
            OutboxEmail.idempotency_key.like("reset:%")))
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "outbox.email_viewed")) == 0
    page = admin.get(f"/admin/outbox/{reset_id}").get_data(as_text=True)
    assert "The text of this email was removed" in page


def test_a_raw_dump_after_the_demo_holds_no_usable_link(app, clock):
    from simdebrief.jobs import dispatch_followups
    from simdebrief.scenarios import default_library_dir
    from simdebrief.services import demo

    with app.app_context():
        demo.load_demo(db.session, now=clock.now(), timezone="Europe/Copenhagen",
                       library_dir=default_library_dir())
        db.session.commit()
    assert dispatch_followups(app, now=clock.now()).sent >= 1
    assert relay_outbox(app, now=clock.now()).delivered >= 1
    with app.app_context():
        dump = "\n".join(
            " ".join(str(value) for value in row)
            for table in db.metadata.sorted_tables
            for row in db.session.execute(table.select()).all())
    assert notifications.LINK_PLACEHOLDER in dump
    assert not SECRET_PATHS.search(dump)
