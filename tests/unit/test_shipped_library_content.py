"""What the shipped scenario library and the demo say: complete, clinically consistent, matching.

These tests read the files an educator would read (scenarios/*.yaml) and the debrief the demo
centre shows, and fail on the clinical errors and mismatches that were once reported.
"""

from __future__ import annotations

import re

import pytest
import yaml
from sqlalchemy import select

from simdebrief import scenarios, taxonomy
from simdebrief.extensions import db
from simdebrief.models import Attendance, Debrief, LearnerFeedback, SimSession
from simdebrief.services import demo

LIBRARY = scenarios.default_library_dir()
FILES = sorted(LIBRARY.glob("*.yaml"))
MIN_SCENARIOS = 13
SHIPPED_COUNT = 14

#: Top-level sections every shipped scenario fills in (risk_flags may rightly be empty).
REQUIRED_SECTIONS = (
    "slug", "title", "summary", "clinical_setting", "adverse_event_type", "trigger_types",
    "learning_objectives", "roles", "duration_minutes", "debrief_minutes", "prebrief",
    "confederate_script", "care_delivery_problems", "teaching_points", "debrief_prompts",
    "role_model_story", "support_resources",
)
PREBRIEF_PARTS = ("expectations", "fiction_contract", "basic_assumption", "confidentiality",
                  "time_out", "support_contacts")


def raw(slug: str) -> dict:
    return yaml.safe_load((LIBRARY / f"{slug}.yaml").read_text(encoding="utf-8"))


def shipped() -> dict[str, scenarios.ScenarioDoc]:
    result = scenarios.load_library([LIBRARY])
    assert result.problems == []
    return {doc.slug: doc for _, doc in result.scenarios}


def flat_text(value) -> str:
    """Every string in a YAML value, joined, for searching what an instructor reads."""
    if isinstance(value, dict):
        return "\n".join(flat_text(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(flat_text(v) for v in value)
    return str(value)


# --------------------------------------------------------------------------------------------
# The whole library


def test_validate_passes_on_at_least_thirteen_scenarios(app):
    result = app.test_cli_runner().invoke(args=["scenarios", "validate"])
    assert result.exit_code == 0, result.output
    count = int(re.search(r"(\d+) scenario file\(s\) valid\.", result.output).group(1))
    assert count == len(FILES) == SHIPPED_COUNT >= MIN_SCENARIOS


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_scenario_fills_every_required_section(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    empty = [key for key in REQUIRED_SECTIONS if not data.get(key)]
    assert empty == [], f"{path.name}: empty or missing {empty}"
    assert [p for p in PREBRIEF_PARTS if not str(data["prebrief"].get(p) or "").strip()] == []
    for script in data["confederate_script"]:
        assert script["brief"].strip() and script["lines"], script["role"]
    for problem in data["care_delivery_problems"]:
        assert problem["description"].strip()
        assert all(f["code"] and f["note"].strip() for f in problem["expected_factors"])
    framework = data["debrief_prompts"].get("framework", taxonomy.DEFAULT_DEBRIEF_FRAMEWORK)
    phases = data["debrief_prompts"]["phases"]
    for phase in taxonomy.codes(taxonomy.DEBRIEF_FRAMEWORKS[framework]):
        assert phases.get(phase), f"{path.name}: no prompt for the {phase} phase"
    story = data["role_model_story"]
    assert story["narrator"].strip() and story["title"].strip() and story["text"].strip()
    assert all(r["title"].strip() and r["description"].strip()
               for r in data["support_resources"])


def test_the_library_covers_the_settings_and_triggers_it_was_missing():
    docs = shipped().values()
    settings = {doc.clinical_setting for doc in docs}
    assert {"obstetrics", "intensive_care"} <= settings
    assert settings & {"general_practice", "psychiatry"}
    assert any(doc.trigger_types[0] == "near_miss" for doc in docs)  # the main event
    assert any("harmful_interaction_peer" in doc.trigger_types and
               doc.adverse_event_type != "none_peer_support" for doc in docs)


@pytest.mark.parametrize("slug", [
    "postpartum-haemorrhage-delayed-escalation",
    "icu-unplanned-extubation-during-turn",
    "gp-methotrexate-daily-near-miss",
    "hyperkalaemia-peer-ridicule",
    "psychiatry-suicide-after-discharge",
])
def test_new_role_model_stories_say_they_are_composites(slug):
    story = shipped()[slug].role_model_story
    assert "composite" in story.narrator.lower()
    assert "composite" in story.text.lower()


# --------------------------------------------------------------------------------------------
# The two clinical fixes


def test_arrest_scenario_continues_cpr_at_least_sixty_minutes_after_thrombolysis():
    data = raw("ward-unexpected-cardiac-arrest")
    registrar = next(s for s in data["confederate_script"] if s["role"] == "Medical registrar")
    script = flat_text(registrar)
    notes = data["instructor_notes"]
    for text in (script, notes):
        assert "forty minutes" not in text.lower()
    # The stopping line comes after at least an hour of CPR since the alteplase ...
    stopping = next(line for line in registrar["lines"] if "I'm stopping" in line)
    assert "Seventy minutes" in stopping and "since the alteplase" in stopping
    # ... the notes and cues say so in numbers, and the clock agrees (lytic 02:20, stop 03:31).
    assert "60-90 minutes" in notes and "sixty minutes" in script.lower()
    assert "alteplase 50 mg IV bolus at 02:20" in notes
    assert "Time of death 03:31" in stopping and "03:30" in notes
    assert "03:04" not in flat_text(data)


def test_anaphylaxis_near_miss_branch_has_no_earlier_dose_and_no_reaction():
    data = raw("penicillin-allergy-anaphylaxis")
    everything = flat_text(data)
    assert "14:00" not in everything
    assert "either way" not in everything
    cues = data["confederate_script"][0]["cues"]
    near_miss = next(cue for cue in cues if cue.startswith("Near-miss branch"))
    assert "no reaction" in near_miss
    assert "has not had any penicillin since admission" in near_miss
    assert "admitted an hour ago" in data["summary"]
    assert "Never let a catch lead to harm" in data["instructor_notes"]


# --------------------------------------------------------------------------------------------
# The demo


@pytest.fixture
def demo_debrief(app, clock):
    with app.app_context():
        demo.load_demo(db.session, now=clock.now(), timezone="Europe/Copenhagen",
                       library_dir=LIBRARY)
        db.session.commit()
        sim_session = db.session.scalar(select(SimSession).where(
            SimSession.note == demo.DEMO_SESSIONS[0][0]))
        debrief = db.session.scalar(select(Debrief).where(Debrief.session_id == sim_session.id))
        present = {p.user.email for p in sim_session.participants
                   if p.attendance is Attendance.PRESENT}
        feedback = {f.learner.email: (f.strengths, f.to_improve, f.learning_goals)
                    for f in db.session.scalars(select(LearnerFeedback).where(
                        LearnerFeedback.debrief_id == debrief.id))}
        yield {"slug": sim_session.scenario_version.scenario.slug,
               "notes": dict(debrief.phase_notes), "take_home": debrief.take_home_messages,
               "present": present, "feedback": feedback}


def test_demo_debrief_describes_its_own_scenario(demo_debrief):
    assert demo_debrief["slug"] == "ward-unexpected-cardiac-arrest"
    patient = shipped()["ward-unexpected-cardiac-arrest"].patient
    notes = "\n".join(demo_debrief["notes"].values())
    assert f"{patient.name}, {patient.age}" in notes
    assert "02:10" in notes and "03:31" in notes
    for wrong in ("34-year-old", "afternoon", "vague chest pain", "on the phone"):
        assert wrong not in notes + demo_debrief["take_home"]


def test_every_demo_learner_gets_specific_different_feedback(demo_debrief):
    feedback = demo_debrief["feedback"]
    assert set(feedback) == demo_debrief["present"] and len(feedback) == 5
    assert set(feedback) <= set(demo.DEMO_FEEDBACK)  # nobody falls back to a generic text
    for part in range(3):
        texts = [entry[part] for entry in feedback.values()]
        assert len(set(texts)) == len(texts), "two learners share the same feedback"
    everything = "\n".join("\n".join(entry) for entry in feedback.values())
    assert "relative on the phone" not in everything
    assert "allergy" not in everything  # the arrest scenario has no drug-allergy check


def test_demo_basic_assumption_is_the_centres_own_wording():
    text = demo.BASIC_ASSUMPTION.lower()
    for phrase in ("intelligent", "capable", "doing their best", "wants to improve",
                   "we believe"):
        assert phrase not in text
