"""The scenario schema and loader: shipped files validate, broken files give precise problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdebrief import taxonomy
from simdebrief.scenarios import (
    Problem,
    ScenarioDoc,
    content_hash,
    default_library_dir,
    load_file,
    load_library,
)

REQUIRED_TRIGGERS = {
    "patient_harm_or_death",
    "unexpected_event_or_outcome",
    "harmful_interaction_staff",
    "harmful_interaction_patient_family",
    "self_blame",
    "patient_complaint_or_litigation",
    "own_error",
    "witnessed_error",
}

REQUIRED_SCENARIOS = {
    "penicillin-allergy-anaphylaxis",
    "ward-unexpected-cardiac-arrest",
    "cannulation-supervision-refused",
    "delirium-concern-dismissed",
    "patient-violence-self-blame",
    "patient-complaint-waiting",
    "ward-handover-omission",
    "peer-support-after-error",
}

STORY = " ".join(["word"] * 160)

# A minimal valid scenario. The line numbers asserted below refer to this text: line 1 is the
# comment, line 2 the slug, line 7 trigger_types, line 15 the second role, line 39 the LP code.
VALID = f"""\
# A minimal scenario for the tests.
slug: test-scenario
title: Test scenario
summary: A short summary.
clinical_setting: ward_medical
adverse_event_type: medication_error
trigger_types: [own_error, self_blame]
risk_flags: []
learning_objectives:
  - Learn something.
roles:
  - name: Doctor
    count: 1
    description: Learner.
  - name: Nurse
    count: 2
    description: Confederate.
duration_minutes: 15
debrief_minutes: 30
prebrief:
  expectations: E.
  fiction_contract: F.
  basic_assumption: centre
  confidentiality: C.
  time_out: T.
  support_contacts: centre
confederate_script:
  - role: Nurse
    brief: B.
    lines:
      - Hello.
care_delivery_problems:
  - description: First.
    expected_factors:
      - code: LP.TEAM.verbal_comm
        note: N.
  - description: Second.
    expected_factors:
      - code: LP.ORG
        note: N.
teaching_points:
  - point: system_should_catch
    text: T.
debrief_prompts:
  phases:
    reactions:
      - How do you feel?
    analysis:
      - What happened?
role_model_story:
  narrator: Junior doctor
  title: A story
  text: {STORY}
support_resources:
  - title: Peer supporters
    description: D.
    kind: contact
"""


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the template"
    return text.replace(old, new)


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def only_problem(path: Path) -> Problem:
    doc, problems = load_file(path)
    assert doc is None
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --------------------------------------------------------------------------------------------
# The shipped library


def test_every_shipped_scenario_validates():
    result = load_library([default_library_dir()])
    assert [str(p) for p in result.problems] == []
    assert len(result.scenarios) >= 8


def test_shipped_library_has_the_required_scenarios():
    slugs = {doc.slug for _, doc in load_library([default_library_dir()]).scenarios}
    assert slugs >= REQUIRED_SCENARIOS


def test_shipped_scenarios_cover_every_required_trigger_type():
    covered = {
        trigger
        for _, doc in load_library([default_library_dir()]).scenarios
        for trigger in doc.trigger_types
    }
    assert REQUIRED_TRIGGERS - covered == set()


def test_shipped_scenarios_have_prompts_for_every_pearls_phase():
    for path, doc in load_library([default_library_dir()]).scenarios:
        assert doc.debrief_prompts.framework == "PEARLS", path.name
        assert doc.debrief_prompts.missing_phases == (), path.name


def test_shipped_scenarios_span_several_london_protocol_levels():
    for path, doc in load_library([default_library_dir()]).scenarios:
        levels = {taxonomy.factor_level(code) for code in doc.factor_codes}
        assert len(levels) >= 4, (path.name, levels)


def test_shipped_scenarios_never_store_the_basic_assumption_wording():
    for path, doc in load_library([default_library_dir()]).scenarios:
        assert doc.prebrief.basic_assumption == "centre", path.name


# --------------------------------------------------------------------------------------------
# A valid file


def test_minimal_template_is_valid(tmp_path):
    doc, problems = load_file(write(tmp_path, "test-scenario.yaml", VALID))
    assert problems == []
    assert isinstance(doc, ScenarioDoc)
    assert doc.trigger_types == ("own_error", "self_blame")
    assert doc.roles[1].count == 2
    assert doc.debrief_prompts.framework == "PEARLS"
    assert doc.factor_codes == ("LP.TEAM.verbal_comm", "LP.ORG")


def test_yml_suffix_is_loaded_and_other_files_are_ignored(tmp_path):
    write(tmp_path, "test-scenario.yml", VALID)
    write(tmp_path, "README.md", "# not a scenario")
    result = load_library([tmp_path])
    assert result.problems == []
    assert [path.name for path, _ in result.scenarios] == ["test-scenario.yml"]


# --------------------------------------------------------------------------------------------
# Broken files: each gives the right file, line, path and message


def test_unknown_field_names_the_allowed_fields(tmp_path):
    text = edit(
        VALID, "    description: Confederate.\n", "    description: Confederate.\n    colour: red\n"
    )
    path = write(tmp_path, "test-scenario.yaml", text)
    problem = only_problem(path)
    assert problem.file == str(path)
    assert problem.line == 18
    assert problem.path == "roles[1].colour"
    assert problem.message == "unknown field; allowed here: name, count, description"


def test_missing_nested_field_points_at_its_mapping(tmp_path):
    path = write(tmp_path, "test-scenario.yaml", edit(VALID, "    count: 2\n", ""))
    problem = only_problem(path)
    assert (problem.line, problem.path, problem.message) == (
        15,
        "roles[1].count",
        "required field is missing",
    )


def test_missing_top_level_field_points_at_the_first_key(tmp_path):
    path = write(tmp_path, "test-scenario.yaml", edit(VALID, "summary: A short summary.\n", ""))
    problem = only_problem(path)
    assert (problem.line, problem.path, problem.message) == (
        2,
        "summary",
        "required field is missing",
    )


def test_wrong_type_says_what_was_expected(tmp_path):
    text = edit(
        VALID,
        "learning_objectives:\n  - Learn something.\n",
        "learning_objectives: Learn something.\n",
    )
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert (problem.line, problem.path, problem.message) == (
        9,
        "learning_objectives",
        "expected a list, got a string",
    )


def test_count_must_be_a_whole_number(tmp_path):
    text = edit(VALID, "    count: 1\n", '    count: "1"\n')
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert (problem.line, problem.path, problem.message) == (
        13,
        "roles[0].count",
        "expected a whole number, got a string",
    )


def test_unknown_trigger_code_lists_the_known_codes(tmp_path):
    text = edit(VALID, "[own_error, self_blame]", "[own_error, xyz]")
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert problem.line == 7
    assert problem.path == "trigger_types[1]"
    assert problem.message.startswith("unknown trigger type 'xyz'; known: patient_harm_or_death, ")
    assert "simulation_reactivated_real_event" in problem.message


def test_unknown_london_protocol_code(tmp_path):
    text = edit(VALID, "      - code: LP.ORG\n", "      - code: LP.FOO\n")
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert problem.line == 39
    assert problem.path == "care_delivery_problems[1].expected_factors[0].code"
    assert problem.message.startswith("unknown London Protocol code 'LP.FOO'")


def test_unknown_london_protocol_factor_lists_the_factors_of_its_level(tmp_path):
    text = edit(VALID, "LP.TEAM.verbal_comm", "LP.TEAM.gossip")
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert problem.line == 35
    assert problem.path == "care_delivery_problems[0].expected_factors[0].code"
    assert "factors of LP.TEAM: verbal_comm, written_comm" in problem.message


def test_unknown_debrief_phase_points_at_its_key(tmp_path):
    text = edit(VALID, "    analysis:\n", "    wrapup:\n")
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert problem.line == 48
    assert problem.path == "debrief_prompts.phases.wrapup"
    assert problem.message.startswith("unknown phase 'wrapup' for PEARLS")


def test_phases_are_checked_against_the_chosen_framework(tmp_path):
    text = edit(VALID, "debrief_prompts:\n", "debrief_prompts:\n  framework: GAS\n")
    doc, problems = load_file(write(tmp_path, "test-scenario.yaml", text))
    assert doc is None
    assert [(p.line, p.path) for p in problems] == [(47, "debrief_prompts.phases.reactions")]


def test_basic_assumption_must_refer_to_the_centre_statement(tmp_path):
    text = edit(VALID, "basic_assumption: centre", "basic_assumption: We believe in you.")
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert (problem.line, problem.path) == (23, "prebrief.basic_assumption")
    assert problem.message.startswith("must be the word 'centre'")


def test_story_length_is_checked(tmp_path):
    text = edit(VALID, STORY, "Too short.")
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert (problem.line, problem.path) == (53, "role_model_story.text")
    assert problem.message == "the story has 2 words; write between 150 and 400"


def test_all_problems_of_a_file_are_reported_in_line_order(tmp_path):
    text = edit(VALID, "[own_error, self_blame]", "[own_error, xyz]")
    text = edit(text, "    count: 2\n", "")
    text = edit(text, "      - code: LP.ORG\n", "      - code: LP.FOO\n")
    doc, problems = load_file(write(tmp_path, "test-scenario.yaml", text))
    assert doc is None
    assert [(p.line, p.path) for p in problems] == [
        (7, "trigger_types[1]"),
        (15, "roles[1].count"),
        (38, "care_delivery_problems[1].expected_factors[0].code"),
    ]


def test_invalid_yaml_reports_the_parser_line_without_a_traceback(tmp_path):
    text = edit(VALID, "[own_error, self_blame]", "[own_error, self_blame")
    path = write(tmp_path, "test-scenario.yaml", text)
    problem = only_problem(path)
    # The parser notices the unclosed bracket at the ':' of the next key, on line 8.
    assert problem.line == 8
    assert problem.path == "(file)"
    assert problem.message.startswith("not valid YAML: expected ',' or ']'")
    assert "starts on line 7" in problem.message
    assert "Traceback" not in str(problem)


def test_duplicate_yaml_key_is_a_problem(tmp_path):
    text = edit(VALID, "title: Test scenario\n", "title: Test scenario\ntitle: Again\n")
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert (problem.line, problem.path) == (4, "title")
    assert problem.message == "duplicate key; it also appears on line 3"


def test_duplicate_slug_across_files_is_reported_on_the_later_file(tmp_path):
    first = write(tmp_path / "a", "test-scenario.yaml", VALID)
    later = write(tmp_path / "b", "test-scenario.yaml", VALID)
    result = load_library([tmp_path / "a", tmp_path / "b"])
    assert [path for path, _ in result.scenarios] == [first]
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert (problem.file, problem.line, problem.path) == (str(later), 2, "slug")
    assert problem.message == f"duplicate slug 'test-scenario'; already used by {first}"


def test_the_same_file_given_twice_is_loaded_once(tmp_path):
    path = write(tmp_path, "test-scenario.yaml", VALID)
    result = load_library([tmp_path, path])
    assert result.problems == []
    assert len(result.scenarios) == 1


def test_slug_must_match_the_file_name(tmp_path):
    path = write(tmp_path, "other-name.yaml", VALID)
    problem = only_problem(path)
    assert (problem.file, problem.line, problem.path) == (str(path), 2, "slug")
    assert "does not match the file name 'other-name'" in problem.message


def test_slug_format_is_checked(tmp_path):
    text = edit(VALID, "slug: test-scenario", "slug: Test_Scenario")
    problem = only_problem(write(tmp_path, "Test_Scenario.yaml", text))
    assert (problem.line, problem.path) == (2, "slug")
    assert "lowercase letters, digits and single hyphens" in problem.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    problem = only_problem(write(tmp_path, "test-scenario.yaml", text))
    assert (problem.line, problem.path) == (1, "(file)")
    assert problem.message.startswith("the file is empty")


def test_top_level_list_is_rejected(tmp_path):
    problem = only_problem(write(tmp_path, "test-scenario.yaml", "# header\n- slug: a\n- b\n"))
    assert (problem.line, problem.path) == (2, "(file)")
    assert problem.message == "the top level must be a mapping of fields (key: value), got a list"


def test_missing_file_is_a_problem_not_an_exception(tmp_path):
    path = tmp_path / "nowhere.yaml"
    result = load_library([path])
    assert result.scenarios == []
    assert [(p.file, p.line, p.path) for p in result.problems] == [(str(path), 1, "(file)")]
    assert result.problems[0].message.startswith("cannot read the file")


def test_file_that_is_not_utf8(tmp_path):
    problem = only_problem(write(tmp_path, "test-scenario.yaml", b"slug: a\ntitle: \xff\xfe\n"))
    assert (problem.line, problem.path, problem.message) == (
        2,
        "(file)",
        "the file is not UTF-8 text",
    )


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000,
        "a: *undefined\n",
        "[a]: 1\n",
        "a: !!python/object/apply:os.system [echo]\n",
        "a: &x [*x]\n",
        "a: 1\n---\nb: 2\n",
        "a:\n\t- tab\n",
        "? \n: empty key\n",
        "slug: \x07\n",
        "just a sentence",
    ],
)
def test_loader_never_raises(tmp_path, text):
    doc, problems = load_file(write(tmp_path, "test-scenario.yaml", text))
    assert doc is None
    assert problems
    assert all(p.line >= 1 and p.message for p in problems)


def test_problem_string_format():
    problem = Problem("scenarios/x.yaml", 12, "roles[2].count", "required field is missing")
    assert str(problem) == "scenarios/x.yaml:12: roles[2].count: required field is missing"


# --------------------------------------------------------------------------------------------
# Content hash


def test_content_hash_is_stable_and_ignores_key_order(tmp_path):
    doc, _ = load_file(write(tmp_path / "a", "test-scenario.yaml", VALID))
    again, _ = load_file(write(tmp_path / "b", "test-scenario.yaml", VALID))
    reordered_text = edit(VALID, "title: Test scenario\n", "")
    reordered_text = edit(
        reordered_text, "risk_flags: []\n", "risk_flags: []\ntitle: Test scenario\n"
    )
    reordered, _ = load_file(write(tmp_path / "c", "test-scenario.yaml", reordered_text))
    assert doc is not None and again is not None and reordered is not None
    digest = content_hash(doc)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert content_hash(again) == digest
    assert content_hash(reordered) == digest


def test_content_hash_changes_when_content_changes(tmp_path):
    doc, _ = load_file(write(tmp_path / "a", "test-scenario.yaml", VALID))
    changed, _ = load_file(
        write(tmp_path / "b", "test-scenario.yaml", edit(VALID, "count: 2", "count: 3"))
    )
    assert doc is not None and changed is not None
    assert content_hash(changed) != content_hash(doc)


# --------------------------------------------------------------------------------------------
# Taxonomy used by the schema


def test_trigger_types_are_exactly_the_domain_list():
    assert taxonomy.codes(taxonomy.TRIGGER_TYPES) == (
        "patient_harm_or_death",
        "unexpected_event_or_outcome",
        "near_miss",
        "own_error",
        "witnessed_error",
        "harmful_interaction_staff",
        "harmful_interaction_peer",
        "harmful_interaction_patient_family",
        "self_blame",
        "patient_complaint_or_litigation",
        "first_patient_death",
        "paediatric_event",
        "personal_connection",
        "simulation_reactivated_real_event",
        "other",
    )


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("LP.TEAM.verbal_comm", True),
        ("LP.TEAM", True),
        ("LP.INST.external_links", True),
        ("LP.TEAM.gossip", False),
        ("LP.FOO", False),
        ("LP", False),
        ("LP.TEAM.verbal_comm.extra", False),
        ("lp.team", False),
        ("", False),
    ],
)
def test_factor_code_validity(code, valid):
    assert taxonomy.is_valid_factor_code(code) is valid


def test_factor_level_and_label():
    assert taxonomy.factor_level("LP.ENV.workload_shifts") == "LP.ENV"
    assert taxonomy.factor_level("LP.ORG") == "LP.ORG"
    assert taxonomy.factor_label("LP.TEAM.verbal_comm") == "Team: Verbal communication"
    assert taxonomy.factor_label("LP.TEAM") == "Team"
    assert taxonomy.factor_label("LP.FOO") == "LP.FOO"
    with pytest.raises(ValueError):
        taxonomy.factor_level("LP.FOO")


def test_label_falls_back_to_the_code():
    assert str(taxonomy.label(taxonomy.RISK_FLAGS, "death")) == "Patient death"
    assert taxonomy.label(taxonomy.RISK_FLAGS, "retired_code") == "retired_code"


def test_the_pages_spell_centre_provided_as_the_files_do():
    from simdebrief import scenarios
    from simdebrief.web.scenarios import display

    assert display.PROVIDED_BY_CENTRE == scenarios.CENTRE
