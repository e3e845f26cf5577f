"""Recording a debrief: notes, analysis, contributing factors, feedback, finalising, amending."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from simdebrief import taxonomy
from simdebrief.errors import InvalidInput, InvalidState, SimDebriefError
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Attendance,
    CareProblem,
    DashRating,
    Debrief,
    DebriefAmendment,
    DebriefInstructor,
    DebriefRole,
    DebriefStatus,
    LearnerFeedback,
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


def scenario_objectives(debrief: Debrief) -> list[str]:
    """The learning objectives of the scenario version the session ran, in the current
    language (outcomes refer to them by position, so every language lists the same ones)."""
    content = debrief.session.scenario_version.localized_content()
    return list(content.get("learning_objectives") or ())


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


def require_draft(debrief: Debrief) -> None:
    if debrief.is_final:
        raise InvalidState(_("The debrief is finalised; record an amendment instead."))


def touch(debrief: Debrief, actor: User, now: datetime) -> None:
    """Record who changed the debrief last, and when."""
    debrief.updated_at = now
    debrief.updated_by_id = actor.id


def save_notes(session: Session, *, debrief: Debrief, actor: User, notes: DebriefNotes,
               based_on_version: int, now: datetime) -> None:
    """Store the whole main form, unless someone else saved since it was opened."""
    require_draft(debrief)
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
    touch(debrief, actor, now)
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
    touch(debrief, actor, now)
    audit.record(session, action="debrief.roles_set", actor=actor, now=now,
                 object_type="debrief", object_id=debrief.id)
    session.flush()


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
    require_draft(debrief)
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
    touch(debrief, actor, now)
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
    require_draft(debrief)
    if not debrief.take_home_messages.strip():
        raise InvalidInput({"take_home_messages": [
            _("Write the group's take-home messages before finalising.")]})
    debrief.status = DebriefStatus.FINAL
    debrief.finalised_at = now
    debrief.finalised_by_id = actor.id
    touch(debrief, actor, now)
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
    touch(debrief, actor, now)
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
