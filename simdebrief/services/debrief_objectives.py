"""Whether the group met each learning objective, and when each phase of the debrief ran."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from simdebrief import taxonomy
from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Debrief,
    ObjectiveOutcome,
    PhaseTime,
    User,
)
from simdebrief.services.debriefing import (
    framework_phases,
    require_draft,
    scenario_objectives,
    touch,
)


@dataclass(frozen=True)
class OutcomeInput:
    #: A taxonomy.OBJECTIVE_OUTCOMES code, or "" for "not recorded".
    outcome: str
    note: str = ""


def save_objectives(session: Session, *, debrief: Debrief, actor: User,
                    outcomes: dict[int, OutcomeInput], now: datetime) -> None:
    """Record per objective (by its position in the scenario) whether the group met it."""
    require_draft(debrief)
    objectives = scenario_objectives(debrief)
    known = set(taxonomy.codes(taxonomy.OBJECTIVE_OUTCOMES))
    errors: dict[str, list[str]] = {}
    for position, data in outcomes.items():
        if not 0 <= position < len(objectives):
            raise InvalidInput(_("The scenario has no such learning objective."))
        if data.outcome and data.outcome not in known:
            errors[f"outcome_{position}"] = [_("Choose met, partly met or not met.")]
        elif not data.outcome and data.note.strip():
            errors[f"outcome_{position}"] = [_("Choose whether the objective was met, or "
                                               "remove the note.")]
    if errors:
        raise InvalidInput(errors)
    for position, data in outcomes.items():
        row = debrief.outcome_for(position)
        if not data.outcome:
            if row is not None:
                debrief.objective_outcomes.remove(row)
            continue
        if row is None:
            row = ObjectiveOutcome(position=position, objective=objectives[position])
            debrief.objective_outcomes.append(row)
        row.outcome = data.outcome
        row.note = data.note.strip()
    touch(debrief, actor, now)
    session.flush()


PHASE_EDGES = ("start", "end")


def _phase_row(debrief: Debrief, phase: str) -> PhaseTime:
    if phase not in {code for code, _label in framework_phases(debrief)}:
        raise InvalidInput(_("The debrief's framework has no such phase."))
    row = debrief.phase_time(phase)
    if row is None:
        row = PhaseTime(phase=phase)
        debrief.phase_times.append(row)
    return row


def mark_phase(session: Session, *, debrief: Debrief, actor: User, phase: str, edge: str,
               now: datetime) -> PhaseTime:
    """One click: the phase starts (or ends) now."""
    require_draft(debrief)
    if edge not in PHASE_EDGES:
        raise InvalidInput(_("A phase can only start or end."))
    row = _phase_row(debrief, phase)
    if edge == "start":
        row.started_at = now
    else:
        if row.started_at is not None and now < row.started_at:
            raise InvalidInput(_("A phase cannot end before it started."))
        row.ended_at = now
    touch(debrief, actor, now)
    session.flush()
    return row


def set_phase_times(session: Session, *, debrief: Debrief, actor: User,
                    times: dict[str, tuple[datetime | None, datetime | None]],
                    now: datetime) -> None:
    """Correct the phases' times: {phase: (start, end)}, None clears a time."""
    require_draft(debrief)
    errors: dict[str, list[str]] = {}
    for phase, (start, end) in times.items():
        if start is not None and end is not None and end < start:
            errors[f"end_{phase}"] = [_("The end is before the start.")]
    if errors:
        raise InvalidInput(errors)
    for phase, (start, end) in times.items():
        row = debrief.phase_time(phase)
        if row is None and start is None and end is None:
            continue
        row = _phase_row(debrief, phase)
        row.started_at, row.ended_at = start, end
    touch(debrief, actor, now)
    session.flush()
