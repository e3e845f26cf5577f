"""Per-language scenario text: the ``translations:`` block is checked against the English
structure, a missing text is a warning that falls back to English, and stored documents
show the language asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdebrief.scenario_translations import localized, localized_title
from simdebrief.scenarios import content_hash, document, load_file, load_library
from tests.unit.test_scenario_schema import STORY, VALID, write

DANISH_STORY = " ".join(["ord"] * 160)

#: A complete Danish block for VALID: every text field, no code, no "centre".
COMPLETE_DA = f"""\
translations:
  da:
    title: Testscenarie
    summary: Et kort resumé.
    learning_objectives:
      - Lær noget.
    roles:
      - name: Læge
        description: Kursist.
      - name: Sygeplejerske
        description: Medspiller.
    prebrief:
      expectations: F.
      fiction_contract: Fiktionskontrakt.
      confidentiality: Tavshedspligt.
      time_out: Timeout.
    confederate_script:
      - role: Sygeplejerske
        brief: >
          Oplæg.
        lines:
          - Hej.
    care_delivery_problems:
      - description: Første.
        expected_factors:
          - note: Note.
      - description: Anden.
        expected_factors:
          - note: Note to.
    teaching_points:
      - text: Tekst.
    debrief_prompts:
      phases:
        reactions:
          - Hvordan har du det?
        analysis:
          - Hvad skete der?
    role_model_story:
      narrator: Yngre læge
      title: En fortælling
      text: {DANISH_STORY}
    support_resources:
      - title: Kollegastøtter
        description: B.
"""

#: Line of "translations:" in VALID + COMPLETE_DA (1-based).
TRANSLATIONS_LINE = VALID.count("\n") + 1


def line_of(text: str, needle: str, after: int = TRANSLATIONS_LINE) -> int:
    """The 1-based line of the first ``needle`` at or after line ``after``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= after and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def scenario(tmp_path: Path, translations: str) -> Path:
    return write(tmp_path, "test-scenario.yaml", VALID + translations)


def errors_of(path: Path) -> list[str]:
    result = load_library([path])
    assert result.scenarios == [], "a file with a structural error must not load"
    return [str(p) for p in result.problems]


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# --------------------------------------------------------------------------------------------
# Loading


def test_a_complete_translation_loads_without_problems_or_warnings(tmp_path):
    result = load_library([scenario(tmp_path, COMPLETE_DA)])
    assert result.problems == [] and result.warnings == []
    (_path, doc), = result.scenarios
    da = doc.translations["da"]
    assert da["title"] == "Testscenarie"
    assert da["confederate_script"][0]["brief"] == "Oplæg.", "stripped, like the English"
    assert document(doc)["translations"]["da"]["roles"][1]["name"] == "Sygeplejerske"


def test_a_file_without_translations_keeps_its_stored_content_and_hash(tmp_path):
    doc, problems = load_file(scenario(tmp_path, ""))
    assert problems == []
    assert "translations" not in document(doc)
    with_da, _ = load_file(scenario(tmp_path / "b", COMPLETE_DA))
    assert content_hash(with_da) != content_hash(doc), "a new translation is a new version"


@pytest.mark.parametrize(("old", "new", "path", "needle", "says"), [
    ("    title: Testscenarie\n", "    title: Testscenarie\n    titel: Stavefejl\n",
     "translations.da.titel", "titel:", "not a field of the English text"),
    ("    title: Testscenarie\n", "    title: Testscenarie\n    slug: testscenarie\n",
     "translations.da.slug", "slug: testscenarie", "'slug' is a code"),
    ("      - text: Tekst.\n", "      - text: Tekst.\n        point: own_error\n",
     "translations.da.teaching_points[0].point", "point: own_error", "'point' is a code"),
    ("      time_out: Timeout.\n", "      time_out: Timeout.\n      basic_assumption: Vi tror\n",
     "translations.da.prebrief.basic_assumption", "basic_assumption", "'centre'"),
    ("      - name: Sygeplejerske\n        description: Medspiller.\n", "",
     "translations.da.roles", "roles:", "list of 2 items in the same order"),
    ("      - name: Sygeplejerske\n", "      - name: 42\n",
     "translations.da.roles[1].name", "name: 42", "expected text, got a number"),
    ("    summary: Et kort resumé.\n", "    summary: ['Et', 'kort']\n",
     "translations.da.summary", "summary: [", "expected text, got a list"),
    ("    summary: Et kort resumé.\n", "    summary: '  '\n",
     "translations.da.summary", "summary: '  '", "must not be empty"),
    ("    prebrief:\n", "    prebrief: Forberedelse\n    prebriefing:\n",
     "translations.da.prebrief", "prebrief: Forberedelse", "expected a mapping"),
])
def test_each_structural_error_names_file_line_and_field(tmp_path, old, new, path, needle,
                                                         says):
    text = VALID + edit(COMPLETE_DA, old, new)
    file = write(tmp_path, "test-scenario.yaml", text)
    problems = [p for p in errors_of(file) if f": {path}: " in p]
    assert len(problems) == 1, errors_of(file)
    assert problems[0].startswith(f"{file}:{line_of(text, needle)}: {path}: ")
    assert says in problems[0]


def test_an_unknown_language_and_english_are_refused(tmp_path):
    text = VALID + "translations:\n  sv:\n    title: Testscenario\n  en:\n    title: Test\n"
    file = write(tmp_path, "test-scenario.yaml", text)
    problems = errors_of(file)
    assert f"{file}:{TRANSLATIONS_LINE + 1}: translations.sv: unknown language 'sv'; " \
           "languages: da" in problems
    assert any(p.startswith(f"{file}:{TRANSLATIONS_LINE + 3}: translations.en: unknown language")
               for p in problems)


def test_languages_follow_the_apps_setting(tmp_path):
    file = write(tmp_path, "test-scenario.yaml",
                 VALID + "translations:\n  sv:\n    title: Testscenario\n")
    result = load_library([file], languages=("en", "da", "sv"))
    assert result.problems == [] and len(result.scenarios) == 1


def test_a_missing_text_is_a_warning_with_file_line_and_field_and_the_file_loads(tmp_path):
    text = VALID + edit(COMPLETE_DA, "    summary: Et kort resumé.\n", "")
    text = edit(text, "      time_out: Timeout.\n", "")
    file = write(tmp_path, "test-scenario.yaml", text)
    result = load_library([file])
    assert result.problems == []
    assert len(result.scenarios) == 1
    assert [str(w) for w in result.warnings] == [
        f"{file}:{TRANSLATIONS_LINE + 1}: warning: translations.da.summary: "
        "no translation yet; the English text is shown",
        f"{file}:{line_of(text, 'prebrief:')}: warning: translations.da.prebrief.time_out: "
        "no translation yet; the English text is shown",
    ]
    doc, problems = load_file(file)
    assert doc is not None and problems == [], "load_file loads it too"


# --------------------------------------------------------------------------------------------
# Showing


def stored(tmp_path: Path, translations: str) -> dict:
    doc, problems = load_file(scenario(tmp_path, translations))
    assert problems == []
    return document(doc)


def test_localized_overlays_the_language_and_keeps_codes(tmp_path):
    content = stored(tmp_path, COMPLETE_DA)
    da = localized(content, "da")
    assert "translations" not in da
    assert da["title"] == "Testscenarie"
    assert da["debrief_prompts"]["phases"]["reactions"] == ["Hvordan har du det?"]
    assert da["care_delivery_problems"][1]["expected_factors"][0] == {
        "code": "LP.ORG", "note": "Note to."}
    assert da["teaching_points"][0]["point"] == "system_should_catch"
    assert da["prebrief"]["basic_assumption"] == "centre"
    assert da["roles"][1]["count"] == 2
    assert localized(content, "da_DK")["title"] == "Testscenarie"


def test_english_is_unchanged(tmp_path):
    content = stored(tmp_path, COMPLETE_DA)
    english = {key: value for key, value in content.items() if key != "translations"}
    assert localized(content, "en") == english
    assert localized(content, None) == english
    assert localized_title(content, "en", "Test scenario") == "Test scenario"


def test_a_missing_text_falls_back_to_english_field_by_field(tmp_path):
    partial = edit(COMPLETE_DA, "    summary: Et kort resumé.\n", "")
    partial = edit(partial, "      - name: Læge\n        description: Kursist.\n",
                   "      - name: Læge\n")
    content = stored(tmp_path, partial)
    da = localized(content, "da")
    assert da["title"] == "Testscenarie"
    assert da["summary"] == "A short summary."
    assert da["roles"][0] == {"name": "Læge", "count": 1, "description": "Learner."}
    assert da["role_model_story"]["text"] == DANISH_STORY
    assert localized(content, "sv")["role_model_story"]["text"] == STORY


def test_a_document_without_the_language_is_english(tmp_path):
    content = stored(tmp_path, "")
    assert localized(content, "da")["title"] == "Test scenario"
    assert localized_title(content, "da", "Test scenario") == "Test scenario"


# --------------------------------------------------------------------------------------------
# The commands


def test_validate_prints_warnings_and_exits_zero_when_only_texts_are_missing(app, tmp_path):
    file = scenario(tmp_path, edit(COMPLETE_DA, "    summary: Et kort resumé.\n", ""))
    result = app.test_cli_runner().invoke(args=["scenarios", "validate", str(file)])
    assert result.exit_code == 0, result.output
    assert f"{file}:{TRANSLATIONS_LINE + 1}: warning: translations.da.summary: " \
           "no translation yet" in result.output
    assert "1 scenario file(s) valid." in result.output


def test_validate_exits_one_on_a_structural_error(app, tmp_path):
    file = scenario(tmp_path, edit(COMPLETE_DA, "    title: Testscenarie\n",
                                   "    title: Testscenarie\n    slug: x\n"))
    result = app.test_cli_runner().invoke(args=["scenarios", "validate", str(file)])
    assert result.exit_code == 1
    assert f"{file}:{TRANSLATIONS_LINE + 3}: translations.da.slug: 'slug' is a code" \
           in result.output


def test_sync_loads_a_file_with_warnings_and_stores_its_translations(app, tmp_path):
    from simdebrief.extensions import db
    from simdebrief.models import Scenario

    scenario(tmp_path, edit(COMPLETE_DA, "    summary: Et kort resumé.\n", ""))
    result = app.test_cli_runner().invoke(
        args=["scenarios", "sync", "--directory", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
    assert "warning: translations.da.summary" in result.output
    with app.app_context():
        version = db.session.query(Scenario).one().current_version
        assert version.content["translations"]["da"]["title"] == "Testscenarie"
        assert version.title_in("da") == "Testscenarie"
        assert version.title_in("en") == "Test scenario"
        assert version.localized_content("da")["summary"] == "A short summary."
