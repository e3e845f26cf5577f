"""Feedback documents on the web: who may download them, the audit trail, the learner's
check-in choice, the accessible twin page, and the "feedback ready" email."""

from io import BytesIO
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from simdebrief.extensions import db
from simdebrief.jobs import relay_outbox
from simdebrief.models import AuditEvent, Centre, OutboxEmail, SimSession, User
from simdebrief.services import checkins
from tests.conftest import client_for, seed_people, sync_shipped_library
from tests.web.test_debriefs import notes, running_session, started

PRIVATE_NOTE = "Kept thinking about the rash all evening"


def finalise_with_factors(app, people, session_id, *, extra_feedback=()):
    """A finalised debrief with the scenario's expected factors and feedback to two learners."""
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    instructor.post(f"/sessions/{session_id}/debrief/factors/suggest")
    instructor.post(f"/sessions/{session_id}/debrief/analysis", data={
        "kind": "plus", "domain": "technical", "strategy": "self_assessment",
        "text": "Adrenaline was given within two minutes."})
    for key, text in (("student", "Calm closed-loop communication."),
                      ("student2", "You noticed the rash first."), *extra_feedback):
        instructor.post(f"/sessions/{session_id}/debrief/feedback/{people.ids[key]}",
                        data={"strengths": text, "to_improve": "Say the allergy check aloud.",
                              "learning_goals": "Lead an allergy check."})
    response = instructor.post(f"/sessions/{session_id}/debrief/finalise")
    assert response.status_code in (302, 303)
    return instructor


@pytest.fixture
def session_id(app, people, planning, clock):
    return running_session(app, people, planning, clock)


@pytest.fixture
def final(app, people, session_id):
    finalise_with_factors(app, people, session_id)
    return session_id


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(response.data))
    # Words wrapped in table cells come out on separate lines: compare the words.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def downloads(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report.downloaded").order_by(AuditEvent.id)))


def learner_url(session_id, learner_id, suffix=".pdf"):
    return f"/sessions/{session_id}/feedback/{learner_id}{suffix}"


def test_the_learner_and_the_sessions_instructors_may_download(app, people, final):
    student = people.ids["student"]
    text = pdf_text(client_for(app, people, "student").get(learner_url(final, student)))
    assert "Sara Student" in text and "Calm closed-loop communication." in text
    assert "You noticed the rash first." not in text  # another learner's feedback
    text = pdf_text(client_for(app, people, "instructor").get(learner_url(final, student)))
    assert "Sara Student" in text
    summary = pdf_text(client_for(app, people, "instructor").get(
        f"/sessions/{final}/summary.pdf"))
    assert "Calm closed-loop communication." in summary and "Søren Andersen" in summary


@pytest.mark.parametrize("key", ["student2", "admin", "peer", "other_admin", "other_student"])
def test_everyone_else_gets_not_found(app, people, final, key):
    client = client_for(app, people, key)
    student = people.ids["student"]
    assert client.get(learner_url(final, student)).status_code == 404
    assert client.get(learner_url(final, student, "")).status_code == 404
    assert client.get(f"/sessions/{final}/summary.pdf").status_code == 404


def test_learners_get_not_found_for_the_summary(app, people, final):
    assert client_for(app, people, "student").get(
        f"/sessions/{final}/summary.pdf").status_code == 404


def test_nothing_before_the_debrief_is_finalised(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    student = people.ids["student"]
    for key in ("student", "instructor"):
        client = client_for(app, people, key)
        assert client.get(learner_url(session_id, student)).status_code == 404
        assert client.get(learner_url(session_id, student, "")).status_code == 404
    assert instructor.get(f"/sessions/{session_id}/summary.pdf").status_code == 404
    assert downloads(app) == []


def test_absent_learners_have_no_document(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock, absent=("student2",))
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    instructor.post(f"/sessions/{session_id}/debrief/finalise")
    absent = people.ids["student2"]
    assert client_for(app, people, "student2").get(
        learner_url(session_id, absent)).status_code == 404
    assert instructor.get(learner_url(session_id, absent)).status_code == 404


def test_each_download_is_audited_with_ids_only(app, people, final):
    student = people.ids["student"]
    client_for(app, people, "student").get(learner_url(final, student))
    client_for(app, people, "instructor").get(learner_url(final, student))
    client_for(app, people, "instructor").get(f"/sessions/{final}/summary.pdf")
    client_for(app, people, "student2").get(learner_url(final, student))  # refused: no event
    events = downloads(app)
    assert [(e.actor_id, e.object_type, e.object_id) for e in events] == [
        (people.ids["student"], "sim_session", str(final)),
        (people.ids["instructor"], "sim_session", str(final)),
        (people.ids["instructor"], "sim_session", str(final))]
    assert events[0].detail == f"document=learner_pdf learner_id={student} include_checkin=0"
    assert events[2].detail == "document=summary_pdf"
    assert all("Sara" not in e.detail for e in events)


def check_in(app, people, session_id, key="student"):
    with app.app_context():
        checkins.submit_checkin(
            db.session, user=db.session.get(User, people.ids[key]),
            sim_session=db.session.get(SimSession, session_id),
            now=db.session.get(SimSession, session_id).starts_at,
            answers=checkins.Answers(distress=7, symptoms=("guilt",),
                                     free_text=PRIVATE_NOTE))
        db.session.commit()


def test_the_check_in_is_included_only_when_the_learner_asks(app, people, session_id):
    check_in(app, people, session_id)
    finalise_with_factors(app, people, session_id)
    student = people.ids["student"]
    learner = client_for(app, people, "student")
    assert PRIVATE_NOTE not in pdf_text(learner.get(learner_url(session_id, student)))
    included = pdf_text(learner.get(learner_url(session_id, student) + "?include_checkin=y"))
    assert PRIVATE_NOTE in included and "Guilt" in included
    instructor = client_for(app, people, "instructor")
    asked = pdf_text(instructor.get(learner_url(session_id, student) + "?include_checkin=y"))
    assert PRIVATE_NOTE not in asked and "Guilt" not in asked
    details = [e.detail for e in downloads(app)]
    assert details[1].endswith("include_checkin=1") and details[2].endswith("include_checkin=0")
    page = learner.get(learner_url(session_id, student, "")).get_data(as_text=True)
    assert "Include my check-in" in page and PRIVATE_NOTE not in page
    assert "Include my check-in" not in instructor.get(
        learner_url(session_id, student, "")).get_data(as_text=True)


def test_the_twin_page_shows_what_the_pdf_shows(app, people, final):
    student = people.ids["student"]
    learner = client_for(app, people, "student")
    page = learner.get(learner_url(final, student, "")).get_data(as_text=True)
    text = pdf_text(learner.get(learner_url(final, student)))
    for message in ("Check allergies aloud.", "Speak up when unsure."):
        assert f"<li>{message}</li>" in page and message in text
    with app.app_context():
        sim_session = db.session.get(SimSession, final)
        expected = sim_session.scenario_version.content["care_delivery_problems"]
    from simdebrief import taxonomy

    for problem in expected:
        for factor in problem["expected_factors"]:
            label = taxonomy.factor_label(factor["code"])
            assert f"<td>{label}</td>" in page.replace("&#39;", "'")
            assert label.split(": ")[-1].split()[0] in text
    assert '<svg role="img"' in page and "<caption>" in page
    assert "style=" not in page.split('<svg role="img"')[1].split("</svg>")[0]
    assert 'scope="rowgroup"' in page and "Adrenaline was given within two minutes." in page
    assert "Feeling shaken afterwards is normal" in page and "Someone who has been there" in page


def test_links_to_the_documents(app, people, final):
    student = people.ids["student"]
    mine = client_for(app, people, "student").get(
        f"/sessions/{final}/debrief/mine").get_data(as_text=True)
    assert learner_url(final, student, "") in mine and learner_url(final, student) in mine
    overview = client_for(app, people, "instructor").get(
        f"/sessions/{final}/debrief/feedback").get_data(as_text=True)
    assert f"/sessions/{final}/summary.pdf" in overview
    assert learner_url(final, people.ids["student2"]) in overview


def test_finalising_queues_one_email_per_attending_learner(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock, extra_students=1,
                                 absent=("student2",))
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    instructor.post(f"/sessions/{session_id}/debrief/finalise")
    instructor.post(f"/sessions/{session_id}/debrief/finalise")  # refused: already final
    with app.app_context():
        emails = db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.idempotency_key.like("feedback_ready:%"))).all()
        extra = db.session.scalar(select(User).where(User.email == "extra0@example.org"))
        assert sorted(e.to_address for e in emails) == sorted(
            ["student@example.org", "extra0@example.org"])
        by_address = {e.to_address: e for e in emails}
        body = by_address["extra0@example.org"].body_text
        assert f"https://sim.example.org/sessions/{session_id}/feedback/{extra.id}" in body
        assert all(e.attachment is None for e in emails)
        assert "attached" not in body


def test_with_the_setting_on_the_relayed_email_carries_the_pdf(smtp_app, smtp_server, clock):
    people = seed_people(smtp_app, clock.now())
    planning = SimpleNamespace(versions=sync_shipped_library(smtp_app, clock.now()))
    with smtp_app.app_context():
        db.session.get(Centre, people.centre_id).attach_feedback_pdf = True
        db.session.commit()
    session_id = running_session(smtp_app, people, planning, clock)
    check_in(smtp_app, people, session_id)
    finalise_with_factors(smtp_app, people, session_id)
    result = relay_outbox(smtp_app, now=clock.now())
    assert result.failed == 0 and result.delivered >= 2
    messages = [m for m in smtp_server.wait_for(2)
                if "feedback" in m["Subject"].lower()]
    assert len(messages) == 2
    sara = next(m for m in messages if m["X-Envelope-To"] == "student@example.org")
    attachments = [part for part in sara.walk()
                   if part.get_content_type() == "application/pdf"]
    assert len(attachments) == 1
    assert attachments[0].get_filename().endswith("sara-student.pdf")
    reader = PdfReader(BytesIO(attachments[0].get_payload(decode=True)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Sara Student" in text and "Calm closed-loop communication." in text
    assert PRIVATE_NOTE not in text
    with smtp_app.app_context():
        assert db.session.scalar(select(func.count(OutboxEmail.id)).where(
            OutboxEmail.attachment == f"learner_pdf:{session_id}:{people.ids['student']}")) == 1


def test_the_admin_can_turn_attachments_on(app, people):
    page = client_for(app, people, "admin").get("/admin/centre").get_data(as_text=True)
    assert 'name="attach_feedback_pdf"' in page
    with app.app_context():
        assert db.session.get(Centre, people.centre_id).attach_feedback_pdf is False


def test_the_learners_progress_report(app, people, final):
    check_in(app, people, final)
    learner = client_for(app, people, "student")
    page = learner.get("/me/progress")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<svg role="img"' in html and "<caption>" in html and "Guilt" in html
    text = pdf_text(learner.get("/me/progress.pdf"))
    assert "Sara Student" in text and "Guilt" in text
    assert downloads(app)[-1].detail == "document=progress_pdf"
    for key in ("instructor", "admin"):
        assert client_for(app, people, key).get("/me/progress.pdf").status_code == 403


def test_the_command_writes_every_learners_pdf_and_the_summary(app, people, final, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["reports", "session", str(final), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert len(names) == 3 and any(name.endswith("-summary.pdf") for name in names)
    assert any(name.endswith("-soeren-andersen.pdf") for name in names)
    assert downloads(app)[-1].detail == "document=session_export files=3"
    missing = app.test_cli_runner().invoke(args=["reports", "session", "999", "--out",
                                                 str(tmp_path / "none")])
    assert missing.exit_code != 0 and "no finalised debrief" in missing.output
