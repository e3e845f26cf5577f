"""The scenario library pages: list and filters, the full scenario, versions, print, access."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import event

from simdebrief import scenarios, taxonomy
from simdebrief.extensions import db
from simdebrief.models import Centre
from simdebrief.services import library
from tests.conftest import client_for

DETAIL_LINK = re.compile(r'href="/scenarios/([a-z0-9-]+)"')
BASIC_ASSUMPTION = "We believe everyone here is intelligent and wants to improve. (test text)"
PAEDIATRIC = "paediatric-sepsis-delayed-escalation"
CHANGED = "ward-handover-omission"


def shipped_docs() -> list[scenarios.ScenarioDoc]:
    result = scenarios.load_library([scenarios.default_library_dir()])
    assert result.problems == []
    return [doc for _, doc in result.scenarios]


def sync(app, clock, directory: Path) -> library.SyncReport:
    with app.app_context():
        report = library.sync_library(db.session, directory=directory, now=clock.now())
        db.session.commit()
    return report


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def listed_slugs(response) -> set[str]:
    return set(DETAIL_LINK.findall(response.get_data(as_text=True)))


@pytest.fixture
def shipped(app, clock, people):
    sync(app, clock, scenarios.default_library_dir())
    return shipped_docs()


@pytest.fixture
def library_copy(tmp_path) -> Path:
    directory = tmp_path / "library"
    shutil.copytree(scenarios.default_library_dir(), directory)
    return directory


def set_basic_assumption(app, people, text: str) -> None:
    with app.app_context():
        db.session.get(Centre, people.centre_id).basic_assumption = text
        db.session.commit()


# --------------------------------------------------------------------------------------------
# The list and its filters


def test_list_shows_every_shipped_scenario(instructor_client, shipped):
    response = instructor_client.get("/scenarios/")
    assert response.status_code == 200
    assert listed_slugs(response) == {doc.slug for doc in shipped}
    page = text_of(response)
    assert f"{len(shipped)} scenarios match" in page
    for doc in shipped:
        assert doc.title in page
        assert str(taxonomy.label(taxonomy.CLINICAL_SETTINGS, doc.clinical_setting)) in page
    assert "Event involving a child" in page  # trigger codes are shown as labels
    assert "paediatric_event" not in page.split("<table", 1)[1]


@pytest.mark.parametrize("query, keep", [
    ({"trigger": "paediatric_event"}, lambda d: "paediatric_event" in d.trigger_types),
    ({"trigger": "self_blame"}, lambda d: "self_blame" in d.trigger_types),
    ({"setting": "emergency_department"}, lambda d: d.clinical_setting == "emergency_department"),
    ({"risk": "paediatric"}, lambda d: "paediatric" in d.risk_flags),
    ({"risk": ["death", "first_death"]},
     lambda d: {"death", "first_death"} <= set(d.risk_flags)),
    ({"trigger": "self_blame", "setting": "ward_medical"},
     lambda d: "self_blame" in d.trigger_types and d.clinical_setting == "ward_medical"),
])
def test_filters_return_exactly_the_matching_scenarios(admin_client, shipped, query, keep):
    expected = {doc.slug for doc in shipped if keep(doc)}
    assert expected, "the filter should match at least one shipped scenario"
    assert expected != {doc.slug for doc in shipped}, "the filter should leave some out"
    response = admin_client.get("/scenarios/", query_string=query)
    assert response.status_code == 200
    assert listed_slugs(response) == expected
    noun = "scenario matches" if len(expected) == 1 else "scenarios match"
    assert f"{len(expected)} {noun}" in text_of(response)


def test_several_risk_flags_must_all_be_present(admin_client, shipped):
    response = admin_client.get("/scenarios/", query_string={"risk": ["paediatric", "death"]})
    expected = {d.slug for d in shipped if {"paediatric", "death"} <= set(d.risk_flags)}
    assert listed_slugs(response) == expected


def test_no_match_offers_to_clear_the_filters(admin_client, shipped):
    used = {doc.clinical_setting for doc in shipped}
    unused = next(code for code in taxonomy.codes(taxonomy.CLINICAL_SETTINGS) if code not in used)
    response = admin_client.get("/scenarios/", query_string={"setting": unused})
    assert response.status_code == 200
    assert listed_slugs(response) == set()
    page = text_of(response)
    assert "0 scenarios match" in page
    assert "No scenario matches" in page
    assert 'href="/scenarios/">Clear filters' in response.get_data(as_text=True)


def test_unknown_filter_codes_are_ignored_with_a_message(admin_client, shipped):
    response = admin_client.get("/scenarios/", query_string={
        "trigger": "not_a_trigger", "setting": "<script>", "risk": ["paediatric", "bogus"]})
    assert response.status_code == 200
    page = text_of(response)
    assert "was not recognised and has been ignored" in page
    assert "trigger type" in page and "clinical setting" in page and "risk flag" in page
    assert "<script>" not in response.get_data(as_text=True)
    # The known risk flag still applies; the unknown values do not.
    assert listed_slugs(response) == {d.slug for d in shipped if "paediatric" in d.risk_flags}


def test_the_list_is_one_query_however_many_scenarios(app, admin_client, shipped):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "scenario" in statement.lower():
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = admin_client.get("/scenarios/", query_string={"risk": "paediatric"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert len(statements) == 1, statements


def test_empty_library_says_so(admin_client):
    response = admin_client.get("/scenarios/")
    assert response.status_code == 200
    assert "The library is empty" in text_of(response)


# --------------------------------------------------------------------------------------------
# One scenario


def test_detail_shows_the_whole_scenario(app, people, instructor_client, shipped):
    set_basic_assumption(app, people, BASIC_ASSUMPTION)
    doc = next(d for d in shipped if d.slug == PAEDIATRIC)
    response = instructor_client.get(f"/scenarios/{PAEDIATRIC}")
    assert response.status_code == 200
    page = text_of(response)
    assert doc.title in page
    assert doc.confederate_script[0].lines[0] in page
    assert doc.confederate_script[1].cues[0] in page
    assert doc.role_model_story.title in page
    assert doc.role_model_story.text.split("\n\n")[0].split()[-1] in page
    assert BASIC_ASSUMPTION in page
    assert "Peer supporters: ask at the front desk." in page  # support_contacts: centre
    for level in ("Work environment", "Organisation and management", "Team",
                  "Institutional context"):
        assert level in page
    assert "Links with external organisations" in page  # factor label, not the code
    assert doc.care_delivery_problems[0].expected_factors[0].note in page
    assert "plan extra time for defusing" in page
    assert "Reactions" in page and "Application and summary" in page
    assert "Version" in page and "This is the first version" in page
    assert doc.instructor_notes.split()[0] in page


def test_every_shipped_scenario_opens_with_its_story_and_prompts(instructor_client, shipped):
    for doc in shipped:
        response = instructor_client.get(f"/scenarios/{doc.slug}")
        assert response.status_code == 200, doc.slug
        page = text_of(response)
        assert doc.role_model_story.narrator in page, doc.slug
        assert doc.debrief_prompts.phases["analysis"][0] in page, doc.slug
        assert doc.care_delivery_problems[-1].expected_factors[-1].note in page, doc.slug


def test_level_summary_counts_the_expected_factors(instructor_client, shipped):
    doc = next(d for d in shipped if d.slug == PAEDIATRIC)
    body = instructor_client.get(f"/scenarios/{PAEDIATRIC}").get_data(as_text=True)
    for level, label in taxonomy.LP_LEVELS:
        count = sum(1 for p in doc.care_delivery_problems for f in p.expected_factors
                    if taxonomy.factor_level(f.code) == level)
        assert re.search(rf"<th scope=\"row\">{re.escape(html.escape(str(label)))}</th>"
                         rf"<td>{count}</td>", body), (level, count)


def test_missing_centre_text_is_explained_with_a_link_for_admins(admin_client,
                                                                 instructor_client, shipped):
    admin_page = admin_client.get(f"/scenarios/{PAEDIATRIC}").get_data(as_text=True)
    assert "has not written the basic-assumption statement yet" in html.unescape(admin_page)
    assert 'href="/admin/centre"' in admin_page
    instructor_page = instructor_client.get(f"/scenarios/{PAEDIATRIC}").get_data(as_text=True)
    assert "has not written the basic-assumption statement yet" in html.unescape(
        instructor_page)
    assert 'href="/admin/centre"' not in instructor_page


def test_no_defusing_note_without_risk_flags(instructor_client, shipped):
    doc = next(d for d in shipped if not d.risk_flags)
    page = text_of(instructor_client.get(f"/scenarios/{doc.slug}"))
    assert "plan extra time for defusing" not in page
    assert "None flagged." in page


def test_print_view_has_the_content_and_no_navigation(app, people, instructor_client, shipped):
    set_basic_assumption(app, people, BASIC_ASSUMPTION)
    doc = next(d for d in shipped if d.slug == PAEDIATRIC)
    response = instructor_client.get(f"/scenarios/{PAEDIATRIC}/print")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    page = html.unescape(body)
    assert doc.confederate_script[0].lines[0] in page
    assert doc.role_model_story.title in page
    assert BASIC_ASSUMPTION in page
    assert "css/print.css" in body
    assert 'aria-label="Main"' not in body and "Log out" not in page
    assert "<script" not in body and "style=" not in body


@pytest.mark.parametrize("path", ["/scenarios/no-such-scenario",
                                  "/scenarios/no-such-scenario/print",
                                  f"/scenarios/{PAEDIATRIC}/versions/2",
                                  f"/scenarios/{PAEDIATRIC}/versions/0",
                                  "/scenarios/no-such-scenario/versions/1"])
def test_unknown_scenario_or_version_is_not_found(admin_client, shipped, path):
    assert admin_client.get(path).status_code == 404


@pytest.mark.parametrize("key", ["student", "peer", "professional"])
def test_learners_and_supporters_may_not_open_the_library(app, people, shipped, key):
    client = client_for(app, people, key)
    for path in ("/scenarios/", f"/scenarios/{PAEDIATRIC}", f"/scenarios/{PAEDIATRIC}/print",
                 f"/scenarios/{PAEDIATRIC}/versions/1"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Confederate script" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client, shipped):
    response = client.get(f"/scenarios/{PAEDIATRIC}")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


# --------------------------------------------------------------------------------------------
# Versions and retirement


def test_changed_file_makes_version_two_and_keeps_version_one(app, clock, people, library_copy):
    path = library_copy / f"{CHANGED}.yaml"
    original = path.read_text(encoding="utf-8")
    old_title = re.search(r"^title: (.+)$", original, re.M).group(1).strip()
    new_title = "The plan that fell out of the handover, revised"
    sync(app, clock, library_copy)

    clock.advance(days=3)
    path.write_text(re.sub(r"^title: .+$", f"title: {new_title}", original, count=1,
                           flags=re.M), encoding="utf-8")
    report = sync(app, clock, library_copy)
    assert report.new_versions == [CHANGED]

    instructor_client = client_for(app, people, "instructor")
    current = instructor_client.get(f"/scenarios/{CHANGED}")
    page = text_of(current)
    assert new_title in page
    assert re.search(r"<dt>Version</dt>\s*<dd>2 \(current\)</dd>",
                     current.get_data(as_text=True))
    assert f'href="/scenarios/{CHANGED}/versions/1"' in current.get_data(as_text=True)

    older = instructor_client.get(f"/scenarios/{CHANGED}/versions/1")
    assert older.status_code == 200
    old_page = text_of(older)
    assert old_title in old_page and new_title not in old_page.split("Versions of this")[0]
    assert "This is version 1, not the current version" in old_page
    assert f'href="/scenarios/{CHANGED}"' in older.get_data(as_text=True)

    same = instructor_client.get(f"/scenarios/{CHANGED}/versions/2")
    assert same.status_code == 200
    assert "not the current version" not in text_of(same)


def test_removed_file_retires_the_scenario_but_its_page_stays(app, clock, people, library_copy):
    sync(app, clock, library_copy)
    (library_copy / f"{CHANGED}.yaml").unlink()
    clock.advance(days=1)
    report = sync(app, clock, library_copy)
    assert report.retired == [CHANGED]

    admin_client = client_for(app, people, "admin")
    listing = admin_client.get("/scenarios/")
    assert CHANGED not in listed_slugs(listing)
    assert len(listed_slugs(listing)) == len(shipped_docs()) - 1

    detail = admin_client.get(f"/scenarios/{CHANGED}")
    assert detail.status_code == 200
    assert "retired from the library" in text_of(detail)
    assert admin_client.get(f"/scenarios/{CHANGED}/print").status_code == 200
