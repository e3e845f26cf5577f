"""The debrief's analysis: plus/delta/gap items, care-delivery problems with their
contributing factors (London Protocol), Just Culture classes, suggested factors, their spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from simdebrief import taxonomy
from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import (
    AnalysisItem,
    CareProblem,
    ContributingFactor,
    Debrief,
    User,
)
from simdebrief.services.debriefing import require_draft, touch


@dataclass(frozen=True)
class AnalysisInput:
    kind: str
    domain: str
    strategy: str
    text: str
    observation: str = ""
    question: str = ""
    learner_frame: str = ""


def _check_analysis(data: AnalysisInput) -> None:
    errors: dict[str, list[str]] = {}
    for name, choices in (("kind", taxonomy.ANALYSIS_KINDS),
                          ("domain", taxonomy.ANALYSIS_DOMAINS),
                          ("strategy", taxonomy.ANALYSIS_STRATEGIES)):
        if getattr(data, name) not in taxonomy.codes(choices):
            errors[name] = [_("Choose one of the options.")]
    if not data.text.strip():
        errors["text"] = [_("Describe the item.")]
    if errors:
        raise InvalidInput(errors)


def add_analysis_item(session: Session, *, debrief: Debrief, actor: User,
                      data: AnalysisInput, now: datetime) -> AnalysisItem:
    require_draft(debrief)
    _check_analysis(data)
    item = AnalysisItem(debrief=debrief, **{k: v.strip() for k, v in data.__dict__.items()})
    session.add(item)
    touch(debrief, actor, now)
    session.flush()
    return item


def update_analysis_item(session: Session, *, item: AnalysisItem, actor: User,
                         data: AnalysisInput, now: datetime) -> None:
    require_draft(item.debrief)
    _check_analysis(data)
    for key, value in data.__dict__.items():
        setattr(item, key, value.strip())
    touch(item.debrief, actor, now)
    session.flush()


def delete_analysis_item(session: Session, *, item: AnalysisItem, actor: User,
                         now: datetime) -> None:
    require_draft(item.debrief)
    touch(item.debrief, actor, now)
    session.delete(item)
    session.flush()


# --- care-delivery problems and contributing factors --------------------------------------


def add_problem(session: Session, *, debrief: Debrief, actor: User, description: str,
                now: datetime) -> CareProblem:
    require_draft(debrief)
    if not description.strip():
        raise InvalidInput({"description": [_("Describe the care-delivery problem.")]})
    problem = CareProblem(debrief=debrief, description=description.strip())
    session.add(problem)
    touch(debrief, actor, now)
    session.flush()
    return problem


def just_culture_choices(centre) -> taxonomy.Choices:
    """The Just Culture classes a centre uses: "reckless" only where it is enabled."""
    return tuple((code, label) for code, label in taxonomy.JUST_CULTURE_CLASSES
                 if code != "reckless" or centre.reckless_enabled)


def classify_problem(session: Session, *, problem: CareProblem, actor: User,
                     just_culture: str, now: datetime) -> None:
    """Set (or with "" clear) the problem's Just Culture classification."""
    require_draft(problem.debrief)
    allowed = taxonomy.codes(just_culture_choices(problem.debrief.session.centre))
    if just_culture and just_culture not in allowed:
        raise InvalidInput({"just_culture": [_("Choose one of the classifications.")]})
    problem.just_culture = just_culture or None
    touch(problem.debrief, actor, now)
    session.flush()


def delete_problem(session: Session, *, problem: CareProblem, actor: User,
                   now: datetime) -> None:
    require_draft(problem.debrief)
    touch(problem.debrief, actor, now)
    session.delete(problem)
    session.flush()


@dataclass(frozen=True)
class FactorInput:
    code: str
    description: str
    attribution: str
    changeable: bool


def _check_factor(data: FactorInput) -> None:
    errors: dict[str, list[str]] = {}
    if not taxonomy.is_valid_factor_code(data.code):
        errors["code"] = [_("Choose a contributing factor from the London Protocol list.")]
    if data.attribution not in taxonomy.codes(taxonomy.ATTRIBUTIONS):
        errors["attribution"] = [_("Choose system, individual or both.")]
    if errors:
        raise InvalidInput(errors)


def add_factor(session: Session, *, problem: CareProblem, actor: User, data: FactorInput,
               now: datetime) -> ContributingFactor:
    require_draft(problem.debrief)
    _check_factor(data)
    factor = ContributingFactor(problem=problem, code=data.code,
                                description=data.description.strip(),
                                attribution=data.attribution, changeable=data.changeable)
    session.add(factor)
    touch(problem.debrief, actor, now)
    session.flush()
    return factor


def update_factor(session: Session, *, factor: ContributingFactor, actor: User,
                  data: FactorInput, now: datetime) -> None:
    """Change a factor; an edited suggestion counts as discussed."""
    require_draft(factor.problem.debrief)
    _check_factor(data)
    factor.code = data.code
    factor.description = data.description.strip()
    factor.attribution = data.attribution
    factor.changeable = data.changeable
    factor.suggested = False
    touch(factor.problem.debrief, actor, now)
    session.flush()


def mark_factor_discussed(session: Session, *, factor: ContributingFactor, actor: User,
                          now: datetime) -> None:
    require_draft(factor.problem.debrief)
    factor.suggested = False
    touch(factor.problem.debrief, actor, now)
    session.flush()


def delete_factor(session: Session, *, factor: ContributingFactor, actor: User,
                  now: datetime) -> None:
    require_draft(factor.problem.debrief)
    touch(factor.problem.debrief, actor, now)
    session.delete(factor)
    session.flush()


def suggest_expected_factors(session: Session, *, debrief: Debrief, actor: User,
                             now: datetime) -> int:
    """Add the scenario's expected problems and factors; returns how many problems were added.

    Problems already in the debrief (same description) are left alone, so the button can be
    pressed twice without doubling anything. The text is the current language's; a problem
    added earlier in English (or another language) counts as present too.
    """
    require_draft(debrief)
    version = debrief.session.scenario_version
    content = version.localized_content()
    present = {p.description for p in debrief.problems}
    added = 0
    for expected, english in zip(content.get("care_delivery_problems", []),
                                 version.content.get("care_delivery_problems", []),
                                 strict=True):
        if expected["description"] in present or english["description"] in present:
            continue
        problem = CareProblem(debrief=debrief, description=expected["description"])
        for factor in expected.get("expected_factors", []):
            problem.factors.append(ContributingFactor(
                code=factor["code"], description=factor.get("note", ""),
                attribution="system", changeable=True, suggested=True))
        session.add(problem)
        added += 1
    touch(debrief, actor, now)
    session.flush()
    return added


def factor_spread(debrief: Debrief) -> list[tuple[str, str, int]]:
    """(level code, level label, number of factors) for every London Protocol level."""
    counts = {code: 0 for code, _label in taxonomy.LP_LEVELS}
    for problem in debrief.problems:
        for factor in problem.factors:
            level = taxonomy.factor_level(factor.code)
            counts[level] = counts.get(level, 0) + 1
    return [(code, str(label), counts[code]) for code, label in taxonomy.LP_LEVELS]
