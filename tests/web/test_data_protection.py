"""Retention, the learner's rights over their data, and the admins' read-only audit log."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from sqlalchemy import func, select

from simdebrief.extensions import db
from simdebrief.jobs import apply_retention
from simdebrief.models import (
    AuditEvent,
    CheckIn,
    OutboxEmail,
    SupportRequest,
    User,
)
from simdebrief.services import audit, checkins, notifications, support
from tests.conftest import PASSWORD, both_databases, client_for, login

ANSWERS = checkins.Answers(distress=7, symptoms=["guilt"], coping=[],
                           support_wanted=["talk_to_peer"], free_text="I keep replaying it")


def add_checkin(app, user_id: int, now, text: str = "I keep replaying it") -> int:
    with app.app_context():
        user = db.session.get(User, user_id)
        answers = checkins.Answers(distress=7, symptoms=["guilt"], coping=[],
                                   support_wanted=["talk_to_peer"], free_text=text)
        checkin = checkins.submit_checkin(db.session, user=user, sim_session=None,
                                          answers=answers, now=now)
        db.session.commit()
        return checkin.id


def add_request(app, user_id: int, now, message: str = "Can we talk?") -> int:
    with app.app_context():
        user = db.session.get(User, user_id)
        request = support.create_request(db.session, learner=user, tier="peer", now=now,
                                         message=message)
        db.session.commit()
        return request.id


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- retention --------------------------------------------------------------------------------


@both_databases
def test_each_kind_goes_after_its_period_and_a_dry_run_changes_nothing(app, people, clock):
    student = people.ids["student"]
    add_checkin(app, student, clock.now())
    request_id = add_request(app, student, clock.now())
    with app.app_context():
        request = db.session.get(SupportRequest, request_id)
        support.withdraw(db.session, request=request, learner=request.learner, now=clock.now())
        email = notifications.enqueue_email(
            db.session, key="t:1", to="student@example.org", subject="Hi", body="secret link",
            now=clock.now(), mail_from="a@example.org")
        notifications.mark_delivered(email, now=clock.now(), logged_only=False)
        audit.record(db.session, action="test.old", now=clock.now())
        db.session.commit()

    def purge(dry_run=False):
        from simdebrief.services import retention

        with app.app_context():
            counts = retention.purge(db.session, clock.now(), dry_run=dry_run)
            db.session.commit()
            return counts

    clock.advance(days=29)
    assert set(purge().values()) == {0}

    clock.advance(days=2)  # 31 days: only the sent email's body
    assert purge(dry_run=True)["outbox_bodies"] == 1
    with app.app_context():
        assert db.session.scalar(select(OutboxEmail.body_text).where(
            OutboxEmail.idempotency_key == "t:1")) == "secret link"
    assert purge()["outbox_bodies"] == 1
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.idempotency_key == "t:1"))
        assert email.body_text == notifications.RETENTION_NOTE and email.subject == "Hi"

    clock.advance(days=60)  # 91 days: nothing (failed logins are the throttling job's, after 24 h)
    assert set(purge().values()) == {0}
    assert count(app, CheckIn) == 1

    clock.advance(days=100)  # ~6.3 months: the check-in
    assert purge()["check_ins"] == 1
    assert count(app, CheckIn) == 0 and count(app, SupportRequest) == 1

    clock.advance(days=190)  # > 12 months after closing: the request
    assert purge()["support_requests"] == 1
    assert count(app, SupportRequest) == 0

    clock.advance(days=365 * 4 + 30)  # > 5 years: the audit events of then
    counts = purge()
    assert counts["audit_events"] >= 1
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "test.old")) \
            is None
        # the purges themselves are recorded, without content
        details = db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "retention.purged")).all()
        assert details and all("replaying" not in d for d in details)


@both_databases
def test_a_follow_up_stage_still_ahead_keeps_the_emotional_data(app, people, clock):
    from simdebrief.models import FollowUp
    from simdebrief.services import retention

    student = people.ids["student"]
    add_checkin(app, student, clock.now())
    with app.app_context():
        user = db.session.get(User, student)
        assert retention.emotional_purge_at(db.session, user) == \
            retention.add_months(clock.now(), 6)
        # a stage closing in three months moves the date
        stage = _first_stage(user)
        db.session.execute(FollowUp.__table__.insert().values(
            centre_id=people.centre_id, user_id=student, plan_id=stage.plan_id,
            stage_id=stage.id,
            stage_key="FU3", anchor_at=clock.now(), due_at=clock.now(),
            expires_at=clock.now() + timedelta(days=90), status="scheduled",
            created_at=clock.now()))
        db.session.commit()
        assert retention.emotional_purge_at(db.session, user) == \
            retention.add_months(clock.now() + timedelta(days=90), 6)
    clock.advance(days=200)
    with app.app_context():
        assert retention.purge(db.session, clock.now())["check_ins"] == 0


def _first_stage(user):
    from simdebrief.services.followups import plan_versions

    return plan_versions.ensure_plans(db.session, user.centre, user.created_at)[0].stages[0]


def test_the_learner_is_told_14_days_before_once_and_sees_it_on_their_page(app, people, clock):
    student = people.ids["student"]
    add_checkin(app, student, clock.now())
    client = client_for(app, people, "student")
    clock.advance(days=150)
    assert apply_retention(app)["notices"] == 0
    assert "will be deleted on" not in client.get("/me/data").get_data(as_text=True)

    clock.advance(days=20)  # 14 days or fewer before six months
    result = apply_retention(app)
    assert result["notices"] == 1 and result["check_ins"] == 0
    assert apply_retention(app)["notices"] == 0  # told once
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(
            OutboxEmail.idempotency_key.startswith("retention:")))
        assert email.to_address == people.emails["student"]
        assert "/me/data" in email.body_text
        assert "replaying" not in email.body_text
    learner = client_for(app, people, "student")
    assert "will be deleted on" in learner.get("/me/data").get_data(as_text=True)
    assert "will be deleted on" in learner.get("/dashboard").get_data(as_text=True)

    clock.advance(days=15)
    assert apply_retention(app)["check_ins"] == 1


def test_the_retention_command_prints_what_goes_and_dry_run_keeps_it(app, people, clock):
    add_checkin(app, people.ids["student"], clock.now())
    later = (clock.now() + timedelta(days=200)).isoformat()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["retention", "purge", "--dry-run", "--now", later])
    assert result.exit_code == 0, result.output
    assert "1  check-ins" in result.output and "Dry run" in result.output
    assert count(app, CheckIn) == 1
    result = runner.invoke(args=["retention", "purge", "--now", later])
    assert "1  check-ins (emotional data past its period) deleted" in result.output
    assert count(app, CheckIn) == 0


def test_the_daily_job_is_scheduled(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from simdebrief.jobs import add_jobs

    scheduler = add_jobs(BackgroundScheduler(), app)
    job = scheduler.get_job("apply_retention")
    assert job is not None and job.trigger.interval == timedelta(days=1)


# --- the learner's rights ---------------------------------------------------------------------


def test_my_data_downloads_everything_as_json_and_pdf(app, people, clock, student_client):
    add_checkin(app, people.ids["student"], clock.now(), text="Søvnløs efter scenariet")
    add_request(app, people.ids["student"], clock.now(), message="Kan vi tale sammen?")
    add_checkin(app, people.ids["student2"], clock.now(), text="someone else's")
    page = student_client.get("/me/data")
    assert page.status_code == 200 and "Download as PDF" in page.get_data(as_text=True)

    response = student_client.get("/me/data/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == people.emails["student"]
    assert data["check_ins"][0]["answers"]["free_text"] == "Søvnløs efter scenariet"
    assert data["requests_for_a_conversation"][0]["message"] == "Kan vi tale sammen?"
    assert "someone else's" not in response.get_data(as_text=True)

    pdf = student_client.get("/me/data/export.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = pdf_text(pdf.data)
    assert "Søvnløs efter scenariet" in text and "Kan vi tale sammen?" in text
    with app.app_context():
        exports = db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "learner.data_exported")).all()
    assert sorted(exports) == ["format=json", "format=pdf"]


def test_a_learner_deletes_their_emotional_data_at_once(app, people, clock, student_client):
    add_checkin(app, people.ids["student"], clock.now())
    request_id = add_request(app, people.ids["student"], clock.now())
    other = add_checkin(app, people.ids["student2"], clock.now())

    refused = student_client.post("/me/data/delete", data={})
    assert refused.status_code == 400
    assert "Tick the box to confirm the deletion" in refused.get_data(as_text=True)
    assert count(app, CheckIn) == 2

    response = student_client.post("/me/data/delete", data={"delete-confirm": "y"},
                                   follow_redirects=True)
    assert "Deleted: 1 check-in(s)" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(CheckIn.id)).all() == [other]
        request = db.session.get(SupportRequest, request_id)
        assert request is not None and request.message is None  # the structure stays
    listing = student_client.get("/me/check-ins").get_data(as_text=True)
    assert "You have no check-ins yet" in listing


@both_databases
def test_erasure_is_asked_for_by_the_learner_and_confirmed_by_an_admin(app, people, clock):
    student = people.ids["student"]
    add_checkin(app, student, clock.now())
    add_request(app, student, clock.now())
    learner = client_for(app, people, "student")
    admin = client_for(app, people, "admin")

    assert admin.post(f"/admin/users/{student}/erase").status_code == 302
    assert count(app, CheckIn) == 1  # not asked for: nothing happens

    response = learner.post("/me/data/erasure", data={"erasure-confirm": "y"},
                            follow_redirects=True)
    assert "Your request is sent" in response.get_data(as_text=True)
    listing = admin.get("/admin/erasure-requests").get_data(as_text=True)
    assert "Sara Student" in listing

    other_admin = client_for(app, people, "other_admin")
    assert other_admin.post(f"/admin/users/{student}/erase").status_code == 404

    response = admin.post(f"/admin/users/{student}/erase", follow_redirects=True)
    assert "The account is erased" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, student)
        assert user.name == "Former participant" and user.erased_at is not None
        assert people.emails["student"] not in user.email
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 0
        assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.erased"))
        assert event.actor_id == people.ids["admin"] and event.object_id == str(student)
    # logged out everywhere, and no way back in
    assert learner.get("/me/data").status_code == 302
    fresh = app.test_client()
    assert login(fresh, people.emails["student"], PASSWORD).status_code != 302
    assert "Sara Student" not in admin.get("/admin/erasure-requests").get_data(as_text=True)
    # nor can an admin bring the account back
    reactivate = admin.post(f"/admin/users/{student}/active", data={"active": "1"},
                            follow_redirects=True)
    assert "cannot be used again" in reactivate.get_data(as_text=True)
    invite = admin.post(f"/admin/users/{student}/resend-invitation", follow_redirects=True)
    assert "cannot be used again" in invite.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(User, student).is_active_account
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
            OutboxEmail.idempotency_key.startswith("invite:"))) == 0


# --- audit log --------------------------------------------------------------------------------


def test_the_audit_log_filters_pages_in_sql_and_cannot_be_changed(app, people, clock,
                                                                   admin_client):
    with app.app_context():
        admin = db.session.get(User, people.ids["admin"])
        elsewhere = db.session.get(User, people.ids["other_admin"])
        for number in range(60):
            audit.record(db.session, action="cohort.updated", actor=admin,
                         now=clock.now() + timedelta(minutes=number), object_type="cohort",
                         object_id=number)
        audit.record(db.session, action="cohort.updated", actor=elsewhere, now=clock.now(),
                     object_type="cohort", object_id=999, detail="other centre")
        audit.record(db.session, action="user.invited", actor=admin,
                     now=clock.now() + timedelta(days=3), object_type="user", object_id=7)
        db.session.commit()

    page = admin_client.get("/admin/audit?action=cohort.").get_data(as_text=True)
    assert "60 entries" in page and "Next" in page and "other centre" not in page
    second = admin_client.get("/admin/audit?action=cohort.&page=2").get_data(as_text=True)
    assert "cohort 9<" in second.replace("</td>", "<")

    page = admin_client.get("/admin/audit?object_type=cohort&object_id=12").get_data(
        as_text=True)
    assert "1 entries" in page
    page = admin_client.get(f"/admin/audit?actor={people.ids['admin']}&since=2026-10-23"
                            "&until=2026-10-23").get_data(as_text=True)
    assert "1 entries" in page and "user.invited" in page

    bad = admin_client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 400
    assert "Enter a date as YYYY-MM-DD" in bad.get_data(as_text=True)
    assert 'value="yesterday"' in bad.get_data(as_text=True)  # what was typed stays

    for method in ("post", "put", "delete"):
        assert getattr(admin_client, method)("/admin/audit").status_code == 405
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= 62


def test_erased_learners_show_as_former_participants_in_session_records(
        app, people, clock, planning, admin_client, instructor_client):
    from simdebrief.services import privacy, scheduling

    with app.app_context():
        centre = db.session.get(User, people.ids["admin"]).centre
        instructor = db.session.get(User, people.ids["instructor"])
        plan = scheduling.SessionPlan(
            scenario_version_id=planning.versions["ward-handover-omission"],
            starts_at=clock.now() + timedelta(hours=2), ends_at=clock.now() + timedelta(hours=4),
            room_id=planning.room_id, instructor_ids=(instructor.id,),
            student_ids=(people.ids["student"], people.ids["student2"]))
        session_id = scheduling.schedule_session(db.session, centre=centre, actor=instructor,
                                                 plan=plan, now=clock.now(),
                                                 confirmed=True).session.id
        learner = db.session.get(User, people.ids["student"])
        privacy.request_erasure(db.session, user=learner, now=clock.now())
        db.session.commit()
    assert admin_client.post(f"/admin/users/{people.ids['student']}/erase").status_code == 302
    page = instructor_client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Former participant" in page and "Sara Student" not in page
    assert "Søren Andersen" in page
    with app.app_context():
        assert db.session.get(User, people.ids["student"]).cohorts == []


def test_centre_retention_periods_are_settings_with_defaults(app, people, admin_client):
    data = {"name": "Herlev Sim Centre", "timezone": "Europe/Copenhagen",
            "reminder_hours": "24", "debrief_framework": "PEARLS", "distress_threshold": "4",
            "min_group_size": "5", "retention_emotional_months": "3",
            "retention_support_months": "", "retention_outbox_days": "7",
            "retention_audit_years": "2",
            "urgent_distress_threshold": "8", "peer_response_hours": "48",
            "professional_response_hours": "24", "urgent_response_minutes": "60",
            "country": "DK"}
    assert admin_client.post("/admin/centre", data=data).status_code == 302
    from simdebrief.models import Centre

    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        assert (centre.retention_emotional_months, centre.retention_support_months,
                centre.retention_outbox_days, centre.retention_audit_years) == (3, 12, 7, 2)
    bad = admin_client.post("/admin/centre", data={**data, "retention_outbox_days": "0"})
    assert bad.status_code == 400
    assert "Enter a number from 1 to 365." in bad.get_data(as_text=True)
