"""Domain code lists shared by scenario files, forms, debriefs and reports.

Every list is a tuple of ``(code, label)`` pairs. Codes are stable identifiers stored in the
database and in scenario files; labels are lazy translatable strings, rendered only when shown.
Code that validates or compares must use the codes, never the labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from flask_babel.speaklater import LazyString

from simdebrief.languages import lazy_gettext as _l

Label: TypeAlias = str | LazyString
Choices: TypeAlias = tuple[tuple[str, Label], ...]

# Second-victim triggers (domain.md §5.4): the situations after which a learner may feel wounded.
# The first four groups are the ones medical students described (patient harm or unexpected
# events, harmful interactions, self-blame); the rest are known high-risk circumstances.
TRIGGER_TYPES: Choices = (
    ("patient_harm_or_death", _l("Patient harm or death")),
    ("unexpected_event_or_outcome", _l("Unexpected event or outcome")),
    ("near_miss", _l("Near miss")),
    ("own_error", _l("Own error")),
    ("witnessed_error", _l("Witnessed someone else's error")),
    ("harmful_interaction_staff", _l("Harmful interaction with staff")),
    ("harmful_interaction_peer", _l("Harmful interaction with a peer")),
    ("harmful_interaction_patient_family", _l("Harmful interaction with a patient or relative")),
    ("self_blame", _l("Self-blame")),
    ("patient_complaint_or_litigation", _l("Patient complaint or litigation")),
    ("first_patient_death", _l("First patient death")),
    ("paediatric_event", _l("Event involving a child")),
    ("personal_connection", _l("Patient resembles someone close")),
    ("simulation_reactivated_real_event", _l("Simulation brought back a real event")),
    ("other", _l("Other")),
)

# Scenario features that raise the chance of a strong reaction. Those the centre maps to the
# high-risk plan bring an extra check-in with a conversation offered and the instructor's
# tier-1 check; they never label a learner.
RISK_FLAGS: Choices = (
    ("paediatric", _l("Paediatric patient")),
    ("death", _l("Patient death")),
    ("first_death", _l("Possibly a learner's first patient death")),
    ("personal_connection", _l("Patient may resemble someone close to the learner")),
)

# London Protocol contributory-factor levels (domain.md §5.3).
LP_LEVELS: Choices = (
    ("LP.PAT", _l("Patient")),
    ("LP.TASK", _l("Task and technology")),
    ("LP.IND", _l("Individual (staff)")),
    ("LP.TEAM", _l("Team")),
    ("LP.ENV", _l("Work environment")),
    ("LP.ORG", _l("Organisation and management")),
    ("LP.INST", _l("Institutional context")),
)

LP_SUBCODES: dict[str, Choices] = {
    "LP.PAT": (
        ("condition", _l("Condition (complexity and seriousness)")),
        ("language_comm", _l("Language and communication")),
        ("personality_social", _l("Personality and social factors")),
    ),
    "LP.TASK": (
        ("design", _l("Task design and clarity")),
        ("protocols", _l("Availability and use of protocols")),
        ("test_results", _l("Availability and accuracy of test results")),
        ("decision_aids", _l("Decision-making aids")),
        ("equipment_tech", _l("Equipment and technology")),
    ),
    "LP.IND": (
        ("knowledge_skills", _l("Knowledge and skills")),
        ("competence", _l("Competence")),
        ("physical_mental_health", _l("Physical and mental health")),
        ("motivation", _l("Motivation")),
        ("fatigue_stress", _l("Fatigue and stress")),
    ),
    "LP.TEAM": (
        ("verbal_comm", _l("Verbal communication")),
        ("written_comm", _l("Written communication")),
        ("supervision_help_seeking", _l("Supervision and seeking help")),
        ("structure_leadership", _l("Team structure and leadership")),
    ),
    "LP.ENV": (
        ("staffing_skill_mix", _l("Staffing levels and skill mix")),
        ("workload_shifts", _l("Workload and shift patterns")),
        ("equipment", _l("Equipment design, availability and maintenance")),
        ("admin_support", _l("Administrative and managerial support")),
        ("physical", _l("Physical environment")),
    ),
    "LP.ORG": (
        ("resources", _l("Financial resources and constraints")),
        ("structure", _l("Organisational structure")),
        ("policy_standards", _l("Policy, standards and goals")),
        ("safety_culture", _l("Safety culture and priorities")),
    ),
    "LP.INST": (
        ("regulatory_economic", _l("Economic and regulatory context")),
        ("external_links", _l("Links with external organisations")),
    ),
}

# Debrief structures and their phases (domain.md §5.2). PEARLS is the default.
DEFAULT_DEBRIEF_FRAMEWORK = "PEARLS"

DEBRIEF_FRAMEWORK_CHOICES: Choices = (
    ("PEARLS", _l("PEARLS")),
    ("GAS", _l("Gather, Analyse, Summarise (GAS)")),
    ("3D", _l("Defusing, Discovering, Deepening (3D)")),
)

DEBRIEF_FRAMEWORKS: dict[str, Choices] = {
    "PEARLS": (
        ("setting_the_scene", _l("Setting the scene")),
        ("reactions", _l("Reactions")),
        ("description", _l("Description")),
        ("analysis", _l("Analysis")),
        ("application_summary", _l("Application and summary")),
    ),
    "GAS": (
        ("gather", _l("Gather")),
        ("analyze", _l("Analyse")),
        ("summarize", _l("Summarise")),
    ),
    "3D": (
        ("defusing", _l("Defusing")),
        ("discovering", _l("Discovering")),
        ("deepening", _l("Deepening")),
    ),
}

CLINICAL_SETTINGS: Choices = (
    ("emergency_department", _l("Emergency department")),
    ("acute_admissions", _l("Acute admissions unit")),
    ("ward_medical", _l("Medical ward")),
    ("ward_surgical", _l("Surgical ward")),
    ("ward_geriatric", _l("Geriatric ward")),
    ("paediatrics", _l("Paediatrics")),
    ("neonatal", _l("Neonatal unit")),
    ("obstetrics", _l("Obstetrics and maternity")),
    ("intensive_care", _l("Intensive care")),
    ("operating_theatre", _l("Operating theatre")),
    ("recovery", _l("Post-anaesthesia recovery")),
    ("psychiatry", _l("Psychiatry")),
    ("general_practice", _l("General practice")),
    ("outpatient", _l("Outpatient clinic")),
    ("prehospital", _l("Prehospital and ambulance")),
    ("nursing_home", _l("Nursing home and home care")),
    ("non_clinical", _l("Non-clinical setting (meeting, office)")),
)

ADVERSE_EVENT_TYPES: Choices = (
    ("medication_error", _l("Medication error")),
    ("allergic_reaction", _l("Allergic reaction")),
    ("unexpected_deterioration", _l("Unexpected deterioration")),
    ("cardiac_arrest", _l("Cardiac arrest")),
    ("delayed_recognition", _l("Delayed recognition of deterioration")),
    ("fall", _l("Patient fall")),
    ("procedure_complication", _l("Procedure complication")),
    ("communication_failure", _l("Communication failure")),
    ("handover_omission", _l("Handover omission")),
    ("diagnostic_error", _l("Diagnostic error")),
    ("violence", _l("Violence or aggression")),
    ("complaint", _l("Patient complaint")),
    ("equipment_failure", _l("Equipment failure")),
    ("none_peer_support", _l("No adverse event: peer support practice")),
)

# Error-culture teaching points a debrief may bring up (Krogh et al. 2023; domain.md §2, §4).
ERROR_CULTURE_POINTS: Choices = (
    ("errors_inevitable_multifactorial", _l("Errors are inevitable and have many causes")),
    ("system_should_catch", _l("The system should catch errors, not the individual alone")),
    ("just_culture_distinction", _l("Just culture: human error, at-risk and reckless behaviour")),
    ("second_victim_definition", _l("What a second victim is")),
    ("incident_report_process", _l("What happens after an incident report")),
    ("complaint_process_and_duration", _l("How a patient complaint is handled and how long")),
    ("asking_for_help_not_burden", _l("Asking for help is not being a burden")),
)

# Kinds of support resource listed with a scenario.
SUPPORT_RESOURCE_KINDS: Choices = (
    ("contact", _l("Person to contact")),
    ("reading", _l("Reading")),
    ("service", _l("Support service")),
    ("course", _l("Course or training")),
)


def codes(choices: Iterable[tuple[str, Label]]) -> tuple[str, ...]:
    """Return the codes of a choices list, in order."""
    return tuple(code for code, _ in choices)


def label(choices: Iterable[tuple[str, Label]], code: str) -> Label:
    """Return the label for ``code``, or the code itself when the list does not know it.

    Falling back to the code keeps old rows readable after a code is retired.
    """
    for known, text in choices:
        if known == code:
            return text
    return code


def _split_factor(code: str) -> tuple[str, str | None] | None:
    """Split ``LP.TEAM.verbal_comm`` into ``("LP.TEAM", "verbal_comm")``; None when malformed."""
    if not isinstance(code, str):
        return None
    parts = code.split(".")
    if len(parts) == 2:
        level, sub = code, None
    elif len(parts) == 3:
        level, sub = f"{parts[0]}.{parts[1]}", parts[2]
    else:
        return None
    if level not in LP_SUBCODES:
        return None
    if sub is not None and sub not in codes(LP_SUBCODES[level]):
        return None
    return level, sub


def is_valid_factor_code(code: str) -> bool:
    """Tell whether ``code`` is a London Protocol level (``LP.TEAM``) or factor (``LP.TEAM.x``)."""
    return _split_factor(code) is not None


def factor_level(code: str) -> str:
    """Return the level part of a London Protocol code; raise ValueError for an unknown code."""
    split = _split_factor(code)
    if split is None:
        raise ValueError(f"unknown London Protocol code {code!r}")
    return split[0]


def factor_label(code: str) -> str:
    """Return a readable label such as "Team: Verbal communication" in the current language.

    An unknown code is returned as it is, so that old rows stay readable.
    """
    split = _split_factor(code)
    if split is None:
        return str(code)
    level, sub = split
    level_text = label(LP_LEVELS, level)
    if sub is None:
        return str(level_text)
    return str(
        _l(
            "%(level)s: %(factor)s",
            level=level_text,
            factor=label(LP_SUBCODES[level], sub),
        )
    )


def lp_factor_choices() -> Choices:
    """Return every London Protocol code, each level followed by its factors, with labels."""
    result: list[tuple[str, Label]] = []
    for level, level_text in LP_LEVELS:
        result.append((level, level_text))
        for sub, sub_text in LP_SUBCODES[level]:
            result.append(
                (f"{level}.{sub}", _l("%(level)s: %(factor)s", level=level_text, factor=sub_text))
            )
    return tuple(result)


def lp_factor_groups() -> list[tuple[Label, Choices]]:
    """The London Protocol codes grouped by level, for a picker with one group per level."""
    return [(level_text,
             ((level, _l("%(level)s (the level as a whole)", level=level_text)),)
             + tuple((f"{level}.{sub}", sub_text) for sub, sub_text in LP_SUBCODES[level]))
            for level, level_text in LP_LEVELS]


# The safe-container pre-brief as run (domain.md §1.5, §5.1 Prebrief).
PREBRIEF_ITEMS: Choices = (
    ("objectives_clarified", _l("Expectations and learning objectives clarified")),
    ("fiction_contract", _l("Fiction contract agreed")),
    ("logistics", _l("Logistics explained (manikin, room, equipment, time)")),
    ("basic_assumption_stated", _l("The centre's basic-assumption statement read out")),
    ("confidentiality_explained", _l("Confidentiality explained")),
    ("time_out_option_explained", _l("Time-out option explained")),
    ("support_contacts_shared", _l("Support contacts shared")),
)

# Analysis phase items (domain.md §5.1 AnalysisItem).
ANALYSIS_KINDS: Choices = (
    ("plus", _l("Plus: went well")),
    ("delta", _l("Delta: to change")),
    ("gap", _l("Performance gap")),
    ("strength", _l("Strength")),
)
ANALYSIS_DOMAINS: Choices = (
    ("cognitive", _l("Cognitive")),
    ("technical", _l("Technical")),
    ("teamwork", _l("Teamwork and behaviour")),
    ("communication", _l("Communication")),
)
ANALYSIS_STRATEGIES: Choices = (
    ("self_assessment", _l("Learner self-assessment")),
    ("focused_facilitation", _l("Focused facilitation (advocacy-inquiry)")),
    ("directive_feedback", _l("Directive feedback")),
)

ATTRIBUTIONS: Choices = (
    ("system", _l("System")),
    ("individual", _l("Individual")),
    ("both", _l("Both")),
)

# The Just Culture distinction (domain.md §2.5). In simulation the default is learning;
# "reckless" is shown only where a centre's administrator enables it.
JUST_CULTURE_BEHAVIOURS: Choices = (
    ("human_error", _l("Human error: console, and fix the system")),
    ("at_risk", _l("At-risk behaviour: coach, and fix the incentives")),
    ("reckless", _l("Reckless behaviour: a conscious disregard of risk")),
)

# Whether the group met a learning objective of the scenario.
OBJECTIVE_OUTCOMES: Choices = (
    ("met", _l("Met")),
    ("partly", _l("Partly met")),
    ("not_met", _l("Not met")),
)

# What an instructor does in a debrief.
DEBRIEF_ROLES: Choices = (
    ("lead", _l("Lead")),
    ("co_debriefer", _l("Co-debriefer")),
    ("observer", _l("Observer")),
)

# Just Culture classification of a care-delivery problem, in short words.
JUST_CULTURE_CLASSES: Choices = (
    ("human_error", _l("Human error")),
    ("at_risk", _l("At-risk behaviour")),
    ("reckless", _l("Reckless behaviour")),
)

# DASH elements (domain.md §1.6), in our own words; rated 1–7, any may be skipped.
DASH_ELEMENTS: Choices = (
    ("e1_sets_the_stage", _l("The instructor set the stage for an engaging learning "
                             "environment")),
    ("e2_keeps_it_engaging", _l("The instructor kept the learning environment engaging")),
    ("e3_organised", _l("The debrief was structured in an organised way")),
    ("e4_discussion", _l("The discussion was engaging and made me think")),
    ("e5_gaps", _l("We identified and explored what could have gone better")),
    ("e6_future", _l("The debrief helped me perform better in the future")),
)
DASH_SCALE: Choices = (
    ("1", _l("1 – extremely ineffective")),
    ("2", _l("2 – consistently ineffective")),
    ("3", _l("3 – mostly ineffective")),
    ("4", _l("4 – somewhat effective")),
    ("5", _l("5 – mostly effective")),
    ("6", _l("6 – consistently effective")),
    ("7", _l("7 – extremely effective")),
)
