"""Scenario text follows the reader's language: a Danish request shows the Danish title,
summary and prompts of a scenario file's ``translations: da:`` block, the learner's PDF is
written in the learner's language, and an English request is unchanged."""

from __future__ import annotations

import dataclasses
import html
import shutil

import pytest
import yaml
from sqlalchemy import select

from simdebrief import scenarios
from simdebrief.extensions import db
from simdebrief.models import OutboxEmail, User
from tests.conftest import both_databases, client_for
from tests.web.test_debriefs import SCENARIO, running_session
from tests.web.test_page_queries import counted_queries
from tests.web.test_reports import finalise_with_factors, learner_url, pdf_text

DA_TITLE = "Antibiotika givet trods registreret penicillinallergi (testtekst)"
DA_SUMMARY = "En kvinde med sepsis får et antibiotikum, hun er allergisk over for (testtekst)."
DA_PROMPT = "Hvordan har I det lige nu, efter det? (testtekst)"
DA_TEACHING = "Fejl opstår af mange årsager, sjældent af én person alene (testtekst)."
DA_OBJECTIVE = "Tjek allergistatus højt før hver dosis (testtekst)."


def english() -> dict:
    return yaml.safe_load((scenarios.default_library_dir() / f"{SCENARIO}.yaml")
                          .read_text(encoding="utf-8"))


def danish_block(data: dict) -> dict:
    """A partial Danish translation: the rest is left to fall back to English."""
    prompts = data["debrief_prompts"]["phases"]["reactions"]
    objectives = data["learning_objectives"]
    return {"da": {
        "title": DA_TITLE,
        "summary": DA_SUMMARY,
        "learning_objectives": [DA_OBJECTIVE] + [f"Mål {n} (testtekst)"
                                                 for n in range(2, len(objectives) + 1)],
        "debrief_prompts": {"phases": {"reactions": [DA_PROMPT] + prompts[1:]}},
        "teaching_points": [{"text": DA_TEACHING if point["point"] ==
                             "errors_inevitable_multifactorial" else point["text"]}
                            for point in data["teaching_points"]],
    }}


@pytest.fixture
def danish_library(app, clock, planning, tmp_path):
    """The shipped library with our own Danish text for the anaphylaxis scenario, synced."""
    from simdebrief.services import library

    directory = tmp_path / "library"
    shutil.copytree(scenarios.default_library_dir(), directory)
    path = directory / f"{SCENARIO}.yaml"
    text = path.read_text(encoding="utf-8")
    # Whatever Danish the shipped file has is replaced by the test's own.
    text = text.split("\ntranslations:")[0].rstrip("\n") + "\n"
    text += yaml.safe_dump({"translations": danish_block(english())}, allow_unicode=True,
                           sort_keys=False)
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        report = library.sync_library(db.session, directory=directory, now=clock.now())
        assert report.problems == [], [str(p) for p in report.problems]
        assert any(f"{SCENARIO}.yaml" in w.file for w in report.warnings)
        db.session.commit()
        versions = {s.slug: s.current_version_id for s in library.active_scenarios(db.session)}
    return dataclasses.replace(planning, versions=versions)


def speaks(app, people, key: str, locale: str | None) -> None:
    with app.app_context():
        db.session.get(User, people.ids[key]).locale = locale
        db.session.commit()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def test_a_danish_reader_sees_the_danish_scenario_and_english_text_where_none(
        app, people, danish_library):
    speaks(app, people, "instructor", "da")
    instructor = client_for(app, people, "instructor")
    detail = page(instructor, f"/scenarios/{SCENARIO}")
    assert f"<h1>{DA_TITLE}</h1>" in detail
    assert DA_SUMMARY in detail and DA_PROMPT in detail and DA_TEACHING in detail
    assert f"<h1>{english()['title']}</h1>" not in detail
    # Not translated in the test's block: shown in English.
    assert english()["role_model_story"]["title"] in detail
    listing = page(instructor, "/scenarios/")
    assert DA_TITLE in listing and DA_SUMMARY in listing
    assert DA_TITLE in page(instructor, f"/scenarios/{SCENARIO}/print")


def test_an_english_reader_sees_the_file_as_written(app, people, danish_library):
    instructor = client_for(app, people, "instructor")
    detail = page(instructor, f"/scenarios/{SCENARIO}")
    assert f"<h1>{english()['title']}</h1>" in detail
    assert english()["summary"].split()[0] in detail
    assert not any(text in detail for text in (DA_TITLE, DA_SUMMARY, DA_PROMPT, DA_TEACHING))


@both_databases
def test_session_lists_show_the_title_in_the_readers_language_without_the_document(
        app, people, clock, danish_library):
    session_id = running_session(app, people, danish_library, clock)
    speaks(app, people, "instructor", "da")
    danish = client_for(app, people, "instructor")
    with counted_queries(app) as statements:
        listing = page(danish, "/sessions/?show=upcoming")
    assert DA_TITLE in listing
    # The title is read from the document by SQL; the document itself is not fetched.
    assert not any("scenario_version.content AS" in s or "scenario_version_1.content AS" in s
                   for s in statements), statements
    assert DA_TITLE in page(danish, f"/sessions/{session_id}")
    english_listing = page(client_for(app, people, "admin"), "/sessions/?show=upcoming")
    assert english()["title"] in english_listing and DA_TITLE not in english_listing


def test_the_debrief_page_shows_the_danish_prompts(app, people, clock, danish_library):
    session_id = running_session(app, people, danish_library, clock)
    speaks(app, people, "instructor", "da")
    instructor = client_for(app, people, "instructor")
    instructor.post(f"/sessions/{session_id}/debrief/start")
    notes = page(instructor, f"/sessions/{session_id}/debrief")
    assert DA_PROMPT in notes and DA_TITLE in notes
    assert DA_OBJECTIVE in page(instructor, f"/sessions/{session_id}/debrief/objectives")


def test_the_learners_pdf_and_email_follow_the_learners_language(app, people, clock,
                                                                  danish_library):
    session_id = running_session(app, people, danish_library, clock)
    speaks(app, people, "student", "da")
    finalise_with_factors(app, people, session_id)
    danish = pdf_text(client_for(app, people, "student").get(
        learner_url(session_id, people.ids["student"])))
    assert DA_TEACHING in danish and DA_OBJECTIVE in danish
    # Learners see the session named by its date, never the scenario's title.
    assert english()["title"] not in danish and DA_TITLE not in danish
    english_pdf = pdf_text(client_for(app, people, "student2").get(
        learner_url(session_id, people.ids["student2"])))
    assert DA_TEACHING not in english_pdf and DA_OBJECTIVE not in english_pdf
    with app.app_context():
        bodies = {email.to_address: email.body_text
                  for email in db.session.scalars(select(OutboxEmail))}
    assert "Simulationssession" in bodies[people.emails["student"]] or \
        "simulationssession" in bodies[people.emails["student"]]
    assert "simulation session" in bodies[people.emails["student2"]]
    assert DA_TITLE not in bodies[people.emails["student"]]


def test_documents_rendered_outside_a_request_use_the_locale_forced_around_them(
        app, people, clock, danish_library):
    from flask_babel import force_locale

    from simdebrief.models import SimSession
    from simdebrief.services import report_data, report_files, reports

    session_id = running_session(app, people, danish_library, clock)
    finalise_with_factors(app, people, session_id)
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        assert sim_session.title == english()["title"], "English outside a request"
        with force_locale("da"):
            assert sim_session.title == DA_TITLE
            debrief = report_data.load_debrief(db.session, sim_session)
            summary = reports.session_summary(db.session, sim_session=sim_session,
                                              debrief=debrief, now=clock.now())
            text = pdf_text(Rendered(report_files.render_summary(summary)))
        assert DA_TITLE in text and DA_OBJECTIVE in text


@dataclasses.dataclass
class Rendered:
    """PDF bytes dressed as a response, for ``pdf_text``."""

    data: bytes
    status_code: int = 200
    mimetype: str = "application/pdf"
