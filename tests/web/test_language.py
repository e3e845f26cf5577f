"""Languages: each user's choice, the centre's default, the browser's for anonymous pages,
and the recipient's language for emails and documents, dates included.

The Danish strings asserted here are seeded in the Danish catalogue; the rest of it is
filled in by translators (tests/unit/test_catalogue.py tells when it is complete).
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from pypdf import PdfReader
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import job_context
from simdebrief.models import Centre, OutboxEmail, SimSession, User
from simdebrief.services import notifications, privacy, report_files, scheduling
from tests.conftest import client_for, login
from tests.web.test_debriefs import SCENARIO, running_session
from tests.web.test_reports import finalise_with_factors, learner_url, pdf_text

ZONE = "Europe/Copenhagen"


def set_language(app, people, key: str, locale: str | None) -> None:
    with app.app_context():
        db.session.get(User, people.ids[key]).locale = locale
        db.session.commit()


def set_centre_default(app, people, locale: str) -> None:
    with app.app_context():
        db.session.get(Centre, people.centre_id).default_locale = locale
        db.session.commit()


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def danish(moment, pattern: str = "EEE d. MMM y HH.mm") -> str:
    return format_datetime(moment, pattern, tzinfo=ZoneInfo(ZONE), locale="da")


# --- choosing a language ------------------------------------------------------------------


def test_choosing_danish_on_the_account_page_turns_the_pages_danish(app, people):
    student = client_for(app, people, "student")
    page = student.get("/account").get_data(as_text=True)
    assert html_lang(page) == "en" and "Your account" in page
    assert '<option selected value="en">English</option>' in page
    assert '<option value="da">Dansk</option>' in page  # each language in its own name

    response = student.post("/account", data={"locale": "da"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert html_lang(page) == "da"
    assert "Din konto" in page and "Your account" not in page
    assert "Dit sprog er gemt." in page  # the confirmation is already in the new language
    assert '<option selected value="da">Dansk</option>' in page
    assert html_lang(student.get("/dashboard").get_data(as_text=True)) == "da"
    with app.app_context():
        assert db.session.get(User, people.ids["student"]).locale == "da"


def test_a_language_the_installation_does_not_offer_is_refused(app, people):
    student = client_for(app, people, "student")
    response = student.post("/account", data={"locale": "xx"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, people.ids["student"]).locale == "en"


def test_anonymous_pages_follow_the_browsers_language(app, client):
    page = client.get("/login", headers={"Accept-Language": "da, en;q=0.5"})
    text = page.get_data(as_text=True)
    assert html_lang(text) == "da" and "Log ind i SimDebrief" in text
    text = client.get("/login", headers={"Accept-Language": "fr, en-GB;q=0.8"}).get_data(
        as_text=True)
    assert html_lang(text) == "en" and "Log in to SimDebrief" in text
    assert html_lang(client.get("/login").get_data(as_text=True)) == "en"


def test_a_users_choice_beats_the_browser_and_the_centre(app, people, client):
    set_centre_default(app, people, "da")
    login(client, people.emails["student"])  # created before the change: English chosen
    page = client.get("/account", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert html_lang(page) == "en" and "Your account" in page


def test_users_without_a_choice_read_their_centres_default(app, people):
    set_language(app, people, "student", None)
    set_centre_default(app, people, "da")
    page = client_for(app, people, "student").get("/account").get_data(as_text=True)
    assert html_lang(page) == "da" and "Din konto" in page


def test_the_admin_sets_the_centres_default_and_new_invitees_start_with_it(app, people):
    admin = client_for(app, people, "admin")
    page = admin.get("/admin/centre").get_data(as_text=True)
    assert 'name="default_locale"' in page and '<option value="da">Dansk</option>' in page
    data = {"name": "Herlev Sim Centre", "timezone": ZONE, "default_locale": "da",
            "reminder_hours": "24", "debrief_framework": "PEARLS", "distress_threshold": "4",
            "min_group_size": "5", "urgent_distress_threshold": "8",
            "peer_response_hours": "48", "professional_response_hours": "24",
            "urgent_response_minutes": "60", "country": "DK"}
    assert admin.post("/admin/centre", data=data).status_code == 302
    assert admin.post("/admin/centre", data={**data, "default_locale": "xx"}).status_code == 400
    response = admin.post("/admin/users/invite", data={
        "name": "Nina Ny", "email": "nina@example.org", "role": "student"})
    assert response.status_code in (302, 303)
    with app.app_context():
        nina = db.session.scalar(select(User).where(User.email == "nina@example.org"))
        assert nina.locale == "da"
        invitation = db.session.scalar(select(OutboxEmail).where(
            OutboxEmail.to_address == "nina@example.org"))
        assert invitation.subject == "Du er inviteret til SimDebrief hos Herlev Sim Centre"
        assert invitation.body_text.startswith("Hej Nina Ny,")


# --- emails and documents in the reader's language ----------------------------------------


def test_the_feedback_email_is_in_each_learners_own_language(app, people, planning, clock):
    set_language(app, people, "student", "da")
    session_id = running_session(app, people, planning, clock)
    finalise_with_factors(app, people, session_id)  # by the instructor, who reads English
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        emails = {e.to_address: e for e in db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.idempotency_key.like("feedback_ready:%")))}
        start = sim_session.starts_at
    danish_email = emails[people.emails["student"]]
    assert danish_email.subject == "Din feedback fra simulationssessionen er klar"
    assert danish_email.body_text.startswith("Hej Sara Student,")
    assert "Debriefingen af din simulationssession" in danish_email.body_text
    assert danish(start) in danish_email.body_text  # e.g. "tir. 20. okt. 2026 10.00"
    english_email = emails[people.emails["student2"]]
    assert english_email.subject == "Your feedback from the simulation session is ready"
    assert format_datetime(start, "EEE d MMM y, HH:mm", tzinfo=ZoneInfo(ZONE),
                           locale="en") in english_email.body_text


def test_a_reminder_queued_by_the_scheduler_is_in_the_recipients_language(
        app, people, planning, clock):
    from simdebrief.jobs import send_session_reminders

    set_language(app, people, "student", "da")
    with app.app_context():
        plan = scheduling.SessionPlan(
            scenario_version_id=planning.versions[SCENARIO],
            starts_at=clock.now() + timedelta(hours=10), ends_at=clock.now() + timedelta(hours=12),
            room_id=planning.room_id, instructor_ids=(people.ids["instructor"],),
            student_ids=(people.ids["student"], people.ids["student2"]))
        scheduling.schedule_session(
            db.session, centre=db.session.get(Centre, people.centre_id), plan=plan,
            actor=db.session.get(User, people.ids["instructor"]), now=clock.now(),
            confirmed=True)
        db.session.commit()
    assert send_session_reminders(app, now=clock.now()) == 2  # outside any user's request
    with app.app_context():
        reminders = {e.to_address: e for e in db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.idempotency_key.like("session:%:reminder:%")))}
    start = clock.now() + timedelta(hours=10)
    assert reminders[people.emails["student"]].subject == (
        "Påmindelse: din simulationssession " + danish(start, "EEEE 'den' d. MMMM"))
    assert reminders[people.emails["student2"]].subject == (
        "Reminder: your simulation session on "
        + format_datetime(start, "EEEE d MMMM", tzinfo=ZoneInfo(ZONE), locale="en"))


def test_the_learner_pdf_is_in_the_language_of_whoever_reads_it(app, people, planning, clock):
    set_language(app, people, "student", "da")
    session_id = running_session(app, people, planning, clock)
    finalise_with_factors(app, people, session_id)
    student_id = people.ids["student"]
    own = pdf_text(client_for(app, people, "student").get(learner_url(session_id, student_id)))
    assert "Feedback fra debriefingen" in own
    assert "Debrief feedback" not in own
    with app.app_context():
        start = db.session.get(SimSession, session_id).starts_at
    assert danish(start, "EEEE 'den' d. MMMM y") in own
    instructor = pdf_text(client_for(app, people, "instructor").get(
        learner_url(session_id, student_id)))
    assert "Debrief feedback" in instructor  # the instructor downloads it in English
    with job_context(app):  # the emailed copy: rendered by the relay, for the recipient
        reference = report_files.attachment_reference(session_id, student_id)
        _name, pdf = report_files.resolve_attachment(db.session, reference, now=clock.now())
    attached = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "Feedback fra debriefingen" in " ".join(attached.split())


def test_the_outbox_page_writes_dates_the_readers_way(app, people, clock):
    with app.app_context():
        notifications.enqueue_email(
            db.session, key="test:language", to="x@example.org", subject="Hello", body="Hi",
            now=clock.now(), mail_from="a@example.org", centre_id=people.centre_id)
        db.session.commit()
    admin = client_for(app, people, "admin")
    english = admin.get("/admin/outbox").get_data(as_text=True)
    assert format_datetime(clock.now(), "EEE d MMM y, HH:mm", tzinfo=ZoneInfo(ZONE),
                           locale="en") in english  # "Tue 20 Oct 2026, 09:00"
    assert "10/20/26" not in english
    set_language(app, people, "admin", "da")
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert danish(clock.now()) in page  # "tir. 20. okt. 2026 09.00"
    assert "Tue" not in page and "Oct" not in page


def test_erased_learners_are_named_in_the_readers_language(app, people, clock):
    with app.app_context():
        admin = db.session.get(User, people.ids["admin"])
        learner = db.session.get(User, people.ids["student"])
        privacy.request_erasure(db.session, user=learner, now=clock.now())
        privacy.erase_account(db.session, actor=admin, user=learner, now=clock.now())
        db.session.commit()
        assert learner.stored_name == ""  # no English words stored in the row
        assert learner.name == "Former participant"
    set_language(app, people, "admin", "da")
    page = client_for(app, people, "admin").get("/admin/users").get_data(as_text=True)
    assert "Tidligere deltager" in page and "Former participant" not in page


def test_cli_messages_follow_the_configured_language(app, people):
    app.config["SIMDEBRIEF_LANGUAGE"] = "da"
    result = app.test_cli_runner().invoke(args=["retention", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Prøvekørsel: intet blev ændret." in result.output
    app.config["SIMDEBRIEF_LANGUAGE"] = None
    result = app.test_cli_runner().invoke(args=["retention", "purge", "--dry-run"])
    assert "Dry run: nothing was changed." in result.output  # one centre, English by default


def test_default_plans_are_stored_in_english_and_read_in_each_readers_language(
        app, people, clock):
    from flask_babel import force_locale

    from simdebrief.services.followups import plan_versions

    with app.test_request_context(), force_locale("da"):  # created during a Danish request
        centre = db.session.get(Centre, people.centre_id)
        plan = plan_versions.current_plan(db.session, centre, "session", clock.now())
        db.session.commit()
        assert plan.stored_name == "Standard follow-up after a session"
        assert plan.name == "Standardopfølgning efter en session"
        assert plan.stage("FU1_early").title == "Dagen efter"
        with force_locale("en"):
            assert plan.name == "Standard follow-up after a session"
            assert plan.stage("FU1_early").title == "The day after"


def test_templates_follow_a_language_switched_inside_one_request(app):
    """Templates keep the request's translations at hand; a switch to the reader's language
    (an email written during someone else's request) and back is still honoured."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = "{{ _('Sessions') }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        before = render_template_string(page)
        with force_locale("da"):
            inside = render_template_string(page)
        after = render_template_string(page)
    assert (before, inside, after) == ("Sessions", "Sessioner", "Sessions")
