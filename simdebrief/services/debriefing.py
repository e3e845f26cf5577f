"""Recording a debrief: notes, analysis, contributing factors, feedback, finalising, amending."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from simdebrief import taxonomy
from simdebrief.errors import InvalidInput, InvalidState, SimDebriefError
from simdebrief.models import (
    AnalysisItem,
    Attendance,
    CareProblem,
    ContributingFactor,
    DashRating,
    Debrief,
    DebriefAmendment,
    DebriefInstructor,
    DebriefRole,
    DebriefStatus,
    LearnerFeedback,
    ObjectiveOutcome,
    PhaseTime,
    SessionStatus,
    SimSession,
    User,
)
from simdebrief.services import audit, scheduling, signals
from simdebrief.services.followups import enrolment


class EditConflict(SimDebriefError):
    """Someone saved the debrief after this form was opened; nothing was overwritten."""

    def __init__(self, debrief: Debrief):
        self.updated_by = debrief.updated_by.name if debrief.updated_by else None
        self.updated_at = debrief.updated_at
        self.current_version = debrief.version
        super().__init__("the debrief changed since the form was opened")


@dataclass(frozen=True)
class DebriefNotes:
    """The whole main form; every save stores all of it."""

    prebrief: dict[str, bool]
    phase_notes: dict[str, str]
    framing: dict[str, bool]
    role_model_story_shared: bool
    triggers: list[str]
    take_home_messages: str


def debrief_for(session: Session, sim_session: SimSession) -> Debrief | None:
    return session.scalar(
        select(Debrief).where(Debrief.session_id == sim_session.id).options(
            selectinload(Debrief.analysis_items),
            selectinload(Debrief.problems).selectinload(CareProblem.factors),
            selectinload(Debrief.feedback),
            selectinload(Debrief.amendments),
            selectinload(Debrief.debriefers),
            selectinload(Debrief.objective_outcomes),
            selectinload(Debrief.phase_times),
        ))


def start_debrief(session: Session, *, sim_session: SimSession, actor: User,
                  now: datetime) -> Debrief:
    """The session's debrief, created on first use with the centre's framework."""
    existing = debrief_for(session, sim_session)
    if existing is not None:
        return existing
    if sim_session.status not in (SessionStatus.IN_PROGRESS, SessionStatus.DEBRIEFED):
        raise InvalidState(_("Start the session (take attendance) before the debrief."))
    debrief = Debrief(session=sim_session, framework=sim_session.centre.debrief_framework,
                      created_at=now, updated_at=now, updated_by_id=actor.id)
    for instructor in sim_session.instructors:
        debrief.debriefers.append(DebriefInstructor(
            user_id=instructor.id,
            role=DebriefRole.LEAD if instructor.id == actor.id else DebriefRole.CO_DEBRIEFER))
    session.add(debrief)
    session.flush()
    audit.record(session, action="debrief.started", actor=actor, now=now,
                 object_type="debrief", object_id=debrief.id)
    return debrief


def framework_phases(debrief: Debrief) -> taxonomy.Choices:
    return taxonomy.DEBRIEF_FRAMEWORKS.get(debrief.framework,
                                           taxonomy.DEBRIEF_FRAMEWORKS["PEARLS"])


def framing_items(centre) -> list[tuple[str, str]]:
    """The framing checklist: error-culture points, with the Just Culture behaviours."""
    items: list[tuple[str, str]] = []
    for code, label in taxonomy.ERROR_CULTURE_POINTS:
        items.append((code, str(label)))
        if code == "just_culture_distinction":
            for behaviour, behaviour_label in taxonomy.JUST_CULTURE_BEHAVIOURS:
                if behaviour == "reckless" and not centre.reckless_enabled:
                    continue
                items.append((f"just_culture.{behaviour}", str(behaviour_label)))
    return items


def _require_draft(debrief: Debrief) -> None:
    if debrief.is_final:
        raise InvalidState(_("The debrief is finalised; record an amendment instead."))


def _touch(debrief: Debrief, actor: User, now: datetime) -> None:
    debrief.updated_at = now
    debrief.updated_by_id = actor.id


def save_notes(session: Session, *, debrief: Debrief, actor: User, notes: DebriefNotes,
               based_on_version: int, now: datetime) -> None:
    """Store the whole main form, unless someone else saved since it was opened."""
    _require_draft(debrief)
    claimed = session.execute(
        update(Debrief)
        .where(Debrief.id == debrief.id, Debrief.version == based_on_version)
        .values(version=Debrief.version + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.refresh(debrief)
        raise EditConflict(debrief)
    debrief.version = based_on_version + 1
    phases = {code for code, _label in framework_phases(debrief)}
    framing = {code for code, _label in framing_items(debrief.session.centre)}
    unknown = set(notes.triggers) - set(taxonomy.codes(taxonomy.TRIGGER_TYPES))
    if unknown:
        raise InvalidInput({"triggers": [_("Unknown trigger type.")]})
    debrief.prebrief = {code: bool(notes.prebrief.get(code))
                        for code in taxonomy.codes(taxonomy.PREBRIEF_ITEMS)}
    debrief.phase_notes = {code: notes.phase_notes.get(code, "").strip() for code in phases}
    debrief.framing = {code: bool(notes.framing.get(code)) for code in framing}
    debrief.role_model_story_shared = notes.role_model_story_shared
    debrief.triggers = sorted(set(notes.triggers))
    debrief.take_home_messages = notes.take_home_messages.strip()
    _touch(debrief, actor, now)
    session.flush()


# --- debriefers ---------------------------------------------------------------------------


def debriefers(debrief: Debrief) -> list[tuple[User, DebriefRole]]:
    """Every instructor of the session with their role in the debrief, the lead first."""
    order = {DebriefRole.LEAD: 0, DebriefRole.CO_DEBRIEFER: 1, DebriefRole.OBSERVER: 2}
    return sorted(((user, debrief.role_of(user.id)) for user in debrief.session.instructors),
                  key=lambda pair: (order[pair[1]], pair[0].name))


def set_roles(session: Session, *, debrief: Debrief, actor: User, roles: dict[int, str],
              now: datetime) -> None:
    """Give each of the session's instructors a role; exactly one of them leads."""
    instructors = {user.id for user in debrief.session.instructors}
    known = set(taxonomy.codes(taxonomy.DEBRIEF_ROLES))
    errors: dict[str, list[str]] = {}
    for user_id, role in roles.items():
        if user_id not in instructors:
            raise InvalidInput(_("Roles are given to the session's instructors only."))
        if role not in known:
            errors[f"role_{user_id}"] = [_("Choose lead, co-debriefer or observer.")]
    if errors:
        raise InvalidInput(errors)
    final = {user_id: roles.get(user_id, debrief.role_of(user_id).value)
             for user_id in instructors}
    if list(final.values()).count(DebriefRole.LEAD.value) != 1:
        raise InvalidInput(_("Choose exactly one lead debriefer."))
    rows = {row.user_id: row for row in debrief.debriefers}
    for user_id, role in final.items():
        if user_id in rows:
            rows[user_id].role = DebriefRole(role)
        else:
            debrief.debriefers.append(DebriefInstructor(user_id=user_id, role=DebriefRole(role)))
    _touch(debrief, actor, now)
    audit.record(session, action="debrief.roles_set", actor=actor, now=now,
                 object_type="debrief", object_id=debrief.id)
    session.flush()


# --- learning objectives and phase times ------------------------------------------------------


def scenario_objectives(debrief: Debrief) -> list[str]:
    return list(debrief.session.scenario_version.content.get("learning_objectives") or ())


@dataclass(frozen=True)
class OutcomeInput:
    #: A taxonomy.OBJECTIVE_OUTCOMES code, or "" for "not recorded".
    outcome: str
    note: str = ""


def save_objectives(session: Session, *, debrief: Debrief, actor: User,
                    outcomes: dict[int, OutcomeInput], now: datetime) -> None:
    """Record per objective (by its position in the scenario) whether the group met it."""
    _require_draft(debrief)
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
    _touch(debrief, actor, now)
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
    _require_draft(debrief)
    if edge not in PHASE_EDGES:
        raise InvalidInput(_("A phase can only start or end."))
    row = _phase_row(debrief, phase)
    if edge == "start":
        row.started_at = now
    else:
        if row.started_at is not None and now < row.started_at:
            raise InvalidInput(_("A phase cannot end before it started."))
        row.ended_at = now
    _touch(debrief, actor, now)
    session.flush()
    return row


def set_phase_times(session: Session, *, debrief: Debrief, actor: User,
                    times: dict[str, tuple[datetime | None, datetime | None]],
                    now: datetime) -> None:
    """Correct the phases' times: {phase: (start, end)}, None clears a time."""
    _require_draft(debrief)
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
    _touch(debrief, actor, now)
    session.flush()


# --- analysis items ---------------------------------------------------------------------


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
    _require_draft(debrief)
    _check_analysis(data)
    item = AnalysisItem(debrief=debrief, **{k: v.strip() for k, v in data.__dict__.items()})
    session.add(item)
    _touch(debrief, actor, now)
    session.flush()
    return item


def update_analysis_item(session: Session, *, item: AnalysisItem, actor: User,
                         data: AnalysisInput, now: datetime) -> None:
    _require_draft(item.debrief)
    _check_analysis(data)
    for key, value in data.__dict__.items():
        setattr(item, key, value.strip())
    _touch(item.debrief, actor, now)
    session.flush()


def delete_analysis_item(session: Session, *, item: AnalysisItem, actor: User,
                         now: datetime) -> None:
    _require_draft(item.debrief)
    _touch(item.debrief, actor, now)
    session.delete(item)
    session.flush()


# --- care-delivery problems and contributing factors --------------------------------------


def add_problem(session: Session, *, debrief: Debrief, actor: User, description: str,
                now: datetime) -> CareProblem:
    _require_draft(debrief)
    if not description.strip():
        raise InvalidInput({"description": [_("Describe the care-delivery problem.")]})
    problem = CareProblem(debrief=debrief, description=description.strip())
    session.add(problem)
    _touch(debrief, actor, now)
    session.flush()
    return problem


def just_culture_choices(centre) -> taxonomy.Choices:
    """The Just Culture classes a centre uses: "reckless" only where it is enabled."""
    return tuple((code, label) for code, label in taxonomy.JUST_CULTURE_CLASSES
                 if code != "reckless" or centre.reckless_enabled)


def classify_problem(session: Session, *, problem: CareProblem, actor: User,
                     just_culture: str, now: datetime) -> None:
    """Set (or with "" clear) the problem's Just Culture classification."""
    _require_draft(problem.debrief)
    allowed = taxonomy.codes(just_culture_choices(problem.debrief.session.centre))
    if just_culture and just_culture not in allowed:
        raise InvalidInput({"just_culture": [_("Choose one of the classifications.")]})
    problem.just_culture = just_culture or None
    _touch(problem.debrief, actor, now)
    session.flush()


def delete_problem(session: Session, *, problem: CareProblem, actor: User,
                   now: datetime) -> None:
    _require_draft(problem.debrief)
    _touch(problem.debrief, actor, now)
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
    _require_draft(problem.debrief)
    _check_factor(data)
    factor = ContributingFactor(problem=problem, code=data.code,
                                description=data.description.strip(),
                                attribution=data.attribution, changeable=data.changeable)
    session.add(factor)
    _touch(problem.debrief, actor, now)
    session.flush()
    return factor


def update_factor(session: Session, *, factor: ContributingFactor, actor: User,
                  data: FactorInput, now: datetime) -> None:
    """Change a factor; an edited suggestion counts as discussed."""
    _require_draft(factor.problem.debrief)
    _check_factor(data)
    factor.code = data.code
    factor.description = data.description.strip()
    factor.attribution = data.attribution
    factor.changeable = data.changeable
    factor.suggested = False
    _touch(factor.problem.debrief, actor, now)
    session.flush()


def mark_factor_discussed(session: Session, *, factor: ContributingFactor, actor: User,
                          now: datetime) -> None:
    _require_draft(factor.problem.debrief)
    factor.suggested = False
    _touch(factor.problem.debrief, actor, now)
    session.flush()


def delete_factor(session: Session, *, factor: ContributingFactor, actor: User,
                  now: datetime) -> None:
    _require_draft(factor.problem.debrief)
    _touch(factor.problem.debrief, actor, now)
    session.delete(factor)
    session.flush()


def suggest_expected_factors(session: Session, *, debrief: Debrief, actor: User,
                             now: datetime) -> int:
    """Add the scenario's expected problems and factors; returns how many problems were added.

    Problems already in the debrief (same description) are left alone, so the button can be
    pressed twice without doubling anything.
    """
    _require_draft(debrief)
    content = debrief.session.scenario_version.content
    present = {p.description for p in debrief.problems}
    added = 0
    for expected in content.get("care_delivery_problems", []):
        if expected["description"] in present:
            continue
        problem = CareProblem(debrief=debrief, description=expected["description"])
        for factor in expected.get("expected_factors", []):
            problem.factors.append(ContributingFactor(
                code=factor["code"], description=factor.get("note", ""),
                attribution="system", changeable=True, suggested=True))
        session.add(problem)
        added += 1
    _touch(debrief, actor, now)
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


# --- per-learner feedback ---------------------------------------------------------------


def debrief_learners(sim_session: SimSession) -> list[User]:
    """Learners who attended: the ones who get feedback, ratings and (later) follow-ups."""
    return [p.user for p in sim_session.participants if p.attendance is Attendance.PRESENT]


@dataclass(frozen=True)
class FeedbackInput:
    strengths: str
    to_improve: str
    learning_goals: str


def save_feedback(session: Session, *, debrief: Debrief, learner: User, actor: User,
                  data: FeedbackInput, now: datetime) -> LearnerFeedback:
    _require_draft(debrief)
    if learner not in debrief_learners(debrief.session):
        raise InvalidInput(_("Feedback can only be written for learners who attended."))
    feedback = debrief.feedback_for(learner.id)
    if feedback is None:
        feedback = LearnerFeedback(debrief=debrief, learner=learner, updated_at=now)
        session.add(feedback)
    feedback.strengths = data.strengths.strip()
    feedback.to_improve = data.to_improve.strip()
    feedback.learning_goals = data.learning_goals.strip()
    feedback.updated_at = now
    _touch(debrief, actor, now)
    session.flush()
    return feedback


# --- finalising and amending ---------------------------------------------------------------


@dataclass(frozen=True)
class FinaliseCheck:
    """What the debrief still lacks, shown before it is locked. Only the take-home
    messages block finalising; the rest is the instructor's call."""

    learners_without_feedback: list[User]
    empty_phases: list[str]
    no_problems: bool
    no_objectives: bool
    no_take_home: bool
    undiscussed_factors: int

    @property
    def complete(self) -> bool:
        return not (self.learners_without_feedback or self.empty_phases or self.no_problems
                    or self.no_objectives or self.no_take_home or self.undiscussed_factors)


def finalise_check(debrief: Debrief) -> FinaliseCheck:
    def written(feedback: LearnerFeedback | None) -> bool:
        return feedback is not None and any(
            getattr(feedback, name).strip() for name in FEEDBACK_FIELDS)

    return FinaliseCheck(
        learners_without_feedback=[learner for learner in debrief_learners(debrief.session)
                                   if not written(debrief.feedback_for(learner.id))],
        empty_phases=[str(label) for code, label in framework_phases(debrief)
                      if not debrief.phase_notes.get(code, "").strip()],
        no_problems=not debrief.problems,
        no_objectives=bool(scenario_objectives(debrief)) and not debrief.objective_outcomes,
        no_take_home=not debrief.take_home_messages.strip(),
        undiscussed_factors=sum(1 for problem in debrief.problems
                                for factor in problem.factors if factor.suggested),
    )



def finalise(session: Session, *, debrief: Debrief, actor: User, now: datetime) -> None:
    """Finalise the debrief: one domain event with all of its effects.

    Locks the debrief, marks the session as debriefed, schedules every present learner's
    follow-ups, and announces ``signals.debrief_finalised`` (the app queues the "feedback
    ready" emails on it). Every entry point finalises through here, so none can lock a
    debrief without scheduling its follow-ups.
    """
    _require_draft(debrief)
    if not debrief.take_home_messages.strip():
        raise InvalidInput({"take_home_messages": [
            _("Write the group's take-home messages before finalising.")]})
    debrief.status = DebriefStatus.FINAL
    debrief.finalised_at = now
    debrief.finalised_by_id = actor.id
    _touch(debrief, actor, now)
    if debrief.session.status is SessionStatus.IN_PROGRESS:
        scheduling.mark_debriefed(session, sim_session=debrief.session, actor=actor, now=now)
    audit.record(session, action="debrief.finalised", actor=actor, now=now,
                 object_type="debrief", object_id=debrief.id)
    session.flush()
    enrolment.schedule_for_debrief(session, debrief, now)
    signals.debrief_finalised.send(debrief, now=now)


FEEDBACK_FIELDS = ("strengths", "to_improve", "learning_goals")


def amendable_targets(debrief: Debrief) -> list[tuple[str, str, str]]:
    """(target code, label, current text) of everything that can be amended after finalising."""
    targets = [("take_home_messages", _("Take-home messages"), debrief.take_home_messages)]
    for code, label in framework_phases(debrief):
        targets.append((f"phase:{code}", _("Notes: %(phase)s", phase=label),
                        debrief.phase_notes.get(code, "")))
    field_labels = {"strengths": _("strengths"), "to_improve": _("what to improve"),
                    "learning_goals": _("learning goals")}
    for feedback in debrief.feedback:
        for name in FEEDBACK_FIELDS:
            targets.append((f"feedback:{feedback.learner_id}:{name}",
                            _("Feedback to %(name)s: %(field)s", name=feedback.learner.name,
                              field=field_labels[name]),
                            getattr(feedback, name)))
    return targets


def amend(session: Session, *, debrief: Debrief, actor: User, target: str, text: str,
          reason: str, now: datetime) -> DebriefAmendment:
    if not debrief.is_final:
        raise InvalidState(_("Only a finalised debrief is amended; edit the draft instead."))
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Say why the finalised debrief is changed.")]
    current = {code: value for code, _label, value in amendable_targets(debrief)}
    if target not in current:
        errors["target"] = [_("Choose what to amend.")]
    elif current[target] == text.strip():
        errors["text"] = [_("The new text is the same as the current text.")]
    if errors:
        raise InvalidInput(errors)
    before = current[target]
    if target == "take_home_messages":
        debrief.take_home_messages = text.strip()
    elif target.startswith("phase:"):
        debrief.phase_notes = {**debrief.phase_notes, target.split(":", 1)[1]: text.strip()}
    else:
        _prefix, learner_id, name = target.split(":")
        setattr(debrief.feedback_for(int(learner_id)), name, text.strip())
    amendment = DebriefAmendment(debrief=debrief, at=now, author_id=actor.id, target=target,
                                 before=before, after=text.strip(), reason=reason.strip())
    session.add(amendment)
    _touch(debrief, actor, now)
    audit.record(session, action="debrief.amended", actor=actor, now=now,
                 object_type="debrief", object_id=debrief.id, detail=f"target={target}")
    session.flush()
    return amendment


# --- debrief quality (DASH) --------------------------------------------------------------


def rate_debrief(session: Session, *, debrief: Debrief, learner: User,
                 scores: dict[str, int | None], now: datetime) -> DashRating:
    if not debrief.is_final:
        raise InvalidState(_("The debrief can be rated once it is finalised."))
    if learner not in debrief_learners(debrief.session):
        raise InvalidState(_("Only learners who attended can rate the debrief."))
    clean: dict[str, int | None] = {}
    for code in taxonomy.codes(taxonomy.DASH_ELEMENTS):
        value = scores.get(code)
        if value is not None and not 1 <= value <= 7:
            raise InvalidInput({code: [_("Choose a rating from 1 to 7, or skip.")]})
        clean[code] = value
    rating = session.scalar(select(DashRating).where(DashRating.debrief_id == debrief.id,
                                                     DashRating.learner_id == learner.id))
    if rating is None:
        rating = DashRating(debrief_id=debrief.id, learner_id=learner.id, created_at=now,
                            scores=clean)
        session.add(rating)
    else:
        rating.scores = clean
    session.flush()
    return rating


@dataclass
class DashSummary:
    raters: int
    elements: list[tuple[str, str, int, float | None]] = field(default_factory=list)


def dash_summary(session: Session, debrief: Debrief, *, min_group: int) -> DashSummary | None:
    """Per element: how many rated it and the median; None when fewer than ``min_group`` rated."""
    ratings = session.scalars(select(DashRating).where(DashRating.debrief_id == debrief.id)).all()
    if len(ratings) < min_group:
        return None
    summary = DashSummary(raters=len(ratings))
    for code, label in taxonomy.DASH_ELEMENTS:
        values = [r.scores.get(code) for r in ratings if r.scores.get(code) is not None]
        summary.elements.append((code, str(label), len(values),
                                 statistics.median(values) if values else None))
    return summary
