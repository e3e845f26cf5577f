"""Readable views of scenario versions for the library pages.

Codes become labels in the current language, London Protocol factors are split into level
and factor and counted per level, and debrief prompts follow the order of their framework.
Everything works on the stored JSON document and tolerates keys that an older version of the
schema did not have, so every version stays readable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from simdebrief import taxonomy
from simdebrief.languages import gettext as _
from simdebrief.models import ScenarioVersion

#: Risk flags after which instructors should plan extra time for defusing.
DEFUSING_FLAGS = frozenset({"death", "first_death", "paediatric", "personal_connection"})

#: The scenario files' word for "the centre provides this" (``simdebrief.scenarios.CENTRE``,
#: not imported so that showing a page never loads the file schema).
PROVIDED_BY_CENTRE = "centre"

PREBRIEF_FIELDS = (
    ("expectations", lambda: _("Expectations")),
    ("fiction_contract", lambda: _("Fiction contract")),
    ("basic_assumption", lambda: _("Basic assumption")),
    ("confidentiality", lambda: _("Confidentiality")),
    ("time_out", lambda: _("Time-out")),
    ("support_contacts", lambda: _("Support contacts")),
)


def labels(choices: taxonomy.Choices, values: Iterable[str] | None) -> list[str]:
    """Labels for ``values`` in their stored order; unknown codes are shown as they are."""
    return [str(taxonomy.label(choices, value)) for value in values or ()]


def paragraphs(text: str | None) -> list[str]:
    """Split text at blank lines; single line breaks stay inside their paragraph."""
    if not text:
        return []
    blocks, current = [], []
    for line in str(text).splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


# --------------------------------------------------------------------------------------------
# The list


@dataclass(frozen=True)
class ScenarioCard:
    slug: str
    title: str
    summary: str
    setting: str
    duration_minutes: int
    places: int
    triggers: list[str]
    risk_flags: list[str]


def card(slug: str, version: ScenarioVersion) -> ScenarioCard:
    text = version.localized_content()
    return ScenarioCard(
        slug=slug,
        title=str(text.get("title") or version.title),
        summary=str(text.get("summary") or version.summary),
        setting=str(taxonomy.label(taxonomy.CLINICAL_SETTINGS, version.clinical_setting)),
        duration_minutes=version.duration_minutes,
        places=version.role_places,
        triggers=labels(taxonomy.TRIGGER_TYPES, version.trigger_types),
        risk_flags=labels(taxonomy.RISK_FLAGS, version.risk_flags),
    )


# --------------------------------------------------------------------------------------------
# One scenario in full


@dataclass(frozen=True)
class FactorRow:
    level: str
    level_label: str
    #: None when the code names a whole level, e.g. ``LP.ORG``.
    factor_label: str | None
    note: str


@dataclass(frozen=True)
class ProblemView:
    description: str
    factors: list[FactorRow]


@dataclass(frozen=True)
class LevelCount:
    level: str
    label: str
    count: int


@dataclass(frozen=True)
class PrebriefItem:
    key: str
    label: str
    #: The scenario's own text; None when the centre's text is meant.
    text: str | None
    uses_centre: bool


@dataclass(frozen=True)
class Phase:
    label: str
    prompts: list[str]


@dataclass(frozen=True)
class Resource:
    title: str
    description: str
    kind: str
    url: str | None


@dataclass(frozen=True)
class ScenarioPage:
    """Everything the full scenario page shows, with codes already turned into labels."""

    title: str
    summary: str
    setting: str
    adverse_event: str
    triggers: list[str]
    risk_flags: list[str]
    needs_defusing_time: bool
    learning_objectives: list[str]
    roles: list[dict[str, Any]]
    places: int
    duration_minutes: int | None
    debrief_minutes: int | None
    patient: dict[str, Any] | None
    equipment: list[str]
    prebrief: list[PrebriefItem]
    confederates: list[dict[str, Any]]
    problems: list[ProblemView]
    level_counts: list[LevelCount]
    teaching_points: list[tuple[str, str]]
    framework: str
    phases: list[Phase]
    story: dict[str, Any] | None
    story_paragraphs: list[str]
    resources: list[Resource]
    instructor_notes: list[str]

    @property
    def levels_involved(self) -> int:
        return sum(1 for level in self.level_counts if level.count)

    @property
    def factor_total(self) -> int:
        return sum(level.count for level in self.level_counts)


def factor_row(factor: dict[str, Any]) -> FactorRow:
    code = str(factor.get("code", ""))
    note = str(factor.get("note", ""))
    try:
        level = taxonomy.factor_level(code)
    except ValueError:
        return FactorRow(level="", level_label=code, factor_label=None, note=note)
    sub = code[len(level) + 1:] or None
    return FactorRow(
        level=level,
        level_label=str(taxonomy.label(taxonomy.LP_LEVELS, level)),
        factor_label=str(taxonomy.label(taxonomy.LP_SUBCODES[level], sub)) if sub else None,
        note=note,
    )


def level_counts(problems: Iterable[ProblemView]) -> list[LevelCount]:
    """How many expected factors fall on each London Protocol level, every level listed."""
    counts = Counter(row.level for problem in problems for row in problem.factors)
    return [LevelCount(level, str(text), counts.get(level, 0))
            for level, text in taxonomy.LP_LEVELS]


def _phases(prompts: dict[str, Any]) -> tuple[str, list[Phase]]:
    framework = prompts.get("framework") or taxonomy.DEFAULT_DEBRIEF_FRAMEWORK
    given = prompts.get("phases") or {}
    known = taxonomy.DEBRIEF_FRAMEWORKS.get(framework, ())
    phases = [Phase(str(text), list(given[code])) for code, text in known if code in given]
    # A phase the framework no longer knows is still shown, under its code.
    phases += [Phase(code, list(items)) for code, items in given.items()
               if code not in taxonomy.codes(known)]
    return str(taxonomy.label(taxonomy.DEBRIEF_FRAMEWORK_CHOICES, framework)), phases


def scenario_page(content: dict[str, Any]) -> ScenarioPage:
    prebrief = content.get("prebrief") or {}
    problems = [
        ProblemView(description=str(problem.get("description", "")),
                    factors=[factor_row(f) for f in problem.get("expected_factors") or ()])
        for problem in content.get("care_delivery_problems") or ()
    ]
    framework, phases = _phases(content.get("debrief_prompts") or {})
    risk_codes = list(content.get("risk_flags") or ())
    roles = list(content.get("roles") or ())
    story = content.get("role_model_story")
    return ScenarioPage(
        title=str(content.get("title", "")),
        summary=str(content.get("summary", "")),
        setting=str(taxonomy.label(taxonomy.CLINICAL_SETTINGS,
                                   content.get("clinical_setting", ""))),
        adverse_event=str(taxonomy.label(taxonomy.ADVERSE_EVENT_TYPES,
                                         content.get("adverse_event_type", ""))),
        triggers=labels(taxonomy.TRIGGER_TYPES, content.get("trigger_types")),
        risk_flags=labels(taxonomy.RISK_FLAGS, risk_codes),
        needs_defusing_time=bool(DEFUSING_FLAGS.intersection(risk_codes)),
        learning_objectives=list(content.get("learning_objectives") or ()),
        roles=roles,
        places=sum(int(role.get("count", 0)) for role in roles),
        duration_minutes=content.get("duration_minutes"),
        debrief_minutes=content.get("debrief_minutes"),
        patient=content.get("patient"),
        equipment=list(content.get("equipment") or ()),
        prebrief=[
            PrebriefItem(key, str(label()), None if prebrief.get(key) == PROVIDED_BY_CENTRE
                         else prebrief.get(key), prebrief.get(key) == PROVIDED_BY_CENTRE)
            for key, label in PREBRIEF_FIELDS if prebrief.get(key)
        ],
        confederates=list(content.get("confederate_script") or ()),
        problems=problems,
        level_counts=level_counts(problems),
        teaching_points=[
            (str(taxonomy.label(taxonomy.ERROR_CULTURE_POINTS, point.get("point", ""))),
             str(point.get("text", "")))
            for point in content.get("teaching_points") or ()
        ],
        framework=framework,
        phases=phases,
        story=story,
        story_paragraphs=paragraphs((story or {}).get("text")),
        resources=[
            Resource(title=str(r.get("title", "")), description=str(r.get("description", "")),
                     kind=str(taxonomy.label(taxonomy.SUPPORT_RESOURCE_KINDS,
                                             r.get("kind", ""))),
                     url=r.get("url"))
            for r in content.get("support_resources") or ()
        ],
        instructor_notes=paragraphs(content.get("instructor_notes")),
    )
