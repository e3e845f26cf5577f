"""Loading what documents need, and the parts several of them share, as plain data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from simdebrief import checkin_options, taxonomy
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Attendance,
    CareProblem,
    CheckIn,
    Debrief,
    DebriefAmendment,
    SessionParticipant,
    SimSession,
    User,
)
from simdebrief.models.followups import FollowUp
from simdebrief.reports import data
from simdebrief.services import (
    crisis,
    debriefing,
)
from simdebrief.services.followups import stage_catalogue
from simdebrief.services.report_wording import DATE_TIME, stage_status_text, stage_title
from simdebrief.timefmt import local_text


def load_session(session: Session, session_id: int) -> SimSession | None:
    """The session with what every document needs, in a fixed number of queries."""
    return session.scalar(
        select(SimSession).where(SimSession.id == session_id).options(
            selectinload(SimSession.instructors),
            selectinload(SimSession.participants).joinedload(SessionParticipant.user),
            selectinload(SimSession.centre),
        ))


def load_debrief(session: Session, sim_session: SimSession) -> Debrief | None:
    return session.scalar(
        select(Debrief).where(Debrief.session_id == sim_session.id).options(
            selectinload(Debrief.analysis_items),
            selectinload(Debrief.problems).selectinload(CareProblem.factors),
            selectinload(Debrief.feedback),
            selectinload(Debrief.amendments).joinedload(DebriefAmendment.author),
            selectinload(Debrief.objective_outcomes),
            selectinload(Debrief.phase_times),
            selectinload(Debrief.debriefers),
        ))


def attended(sim_session: SimSession, learner_id: int) -> bool:
    participant = next((p for p in sim_session.participants if p.user_id == learner_id), None)
    return participant is not None and participant.attendance is Attendance.PRESENT


def load_followups(session: Session, *, session_id: int | None = None,
                   learner_id: int | None = None, due_from: datetime | None = None) -> list:
    """Follow-up rows of a session and/or a learner, earliest first, stages loaded."""
    query = select(FollowUp).options(selectinload(FollowUp.stage)).order_by(FollowUp.due_at)
    if session_id is not None:
        query = query.where(FollowUp.session_id == session_id)
    if learner_id is not None:
        query = query.where(FollowUp.user_id == learner_id)
    if due_from is not None:
        query = query.where(FollowUp.due_at >= due_from)
    return list(session.scalars(query))


# --- shared parts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionParts:
    """What every learner's document of one session has in common: computed once."""

    cover: data.Cover
    take_home: list[str]
    plus: list[str]
    delta: list[str]
    problems: list[str]
    levels: list[data.FactorLevel]
    objectives: list[data.Objective]
    framing: list[data.Titled]
    story: data.Story | None
    support_contacts: list[str]
    urgent_contacts: list[str]
    amended: str


def _cover(sim_session: SimSession) -> data.Cover:
    zone = sim_session.centre.timezone
    start = local_text(sim_session.starts_at, zone, DATE_TIME)
    end = local_text(sim_session.ends_at, zone, "time")
    room = sim_session.room
    return data.Cover(
        centre=sim_session.centre.name, scenario=sim_session.title, date=f"{start}–{end}",
        room=room.name + (f", {room.location}" if room.location else ""),
        instructors=[instructor.name for instructor in sim_session.instructors])


def text_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _levels(debrief: Debrief) -> list[data.FactorLevel]:
    grouped: dict[str, list[data.FactorLine]] = defaultdict(list)
    for number, problem in enumerate(debrief.problems, start=1):
        for factor in problem.factors:
            try:
                level = taxonomy.factor_level(factor.code)
            except ValueError:
                continue
            grouped[level].append(data.FactorLine(
                factor=taxonomy.factor_label(factor.code), problem=number,
                description=factor.description,
                attribution=str(taxonomy.label(taxonomy.ATTRIBUTIONS, factor.attribution)),
                suggested=factor.suggested))
    return [data.FactorLevel(code=code, label=str(label), factors=grouped.get(code, []))
            for code, label in taxonomy.LP_LEVELS]


def _story(sim_session: SimSession) -> data.Story | None:
    content = sim_session.scenario_version.localized_content()
    story = content.get("role_model_story")
    if not isinstance(story, dict) or not str(story.get("text") or "").strip():
        return None
    return data.Story(narrator=str(story.get("narrator") or ""),
                      title=str(story.get("title") or ""), text=str(story["text"]))


def objective_lines(debrief: Debrief) -> list[data.ObjectiveLine]:
    """Every learning objective of the scenario with the group's outcome, in its order."""
    lines = []
    for position, objective in enumerate(debriefing.scenario_objectives(debrief)):
        row = debrief.outcome_for(position)
        lines.append(data.ObjectiveLine(
            objective=objective,
            outcome=str(taxonomy.label(taxonomy.OBJECTIVE_OUTCOMES, row.outcome)) if row
            else _("Not recorded"),
            note=row.note if row else "", code=row.outcome if row else ""))
    return lines


def phase_time_lines(debrief: Debrief, zone: str) -> list[data.PhaseTimeLine]:
    lines = []
    for code, label in debriefing.framework_phases(debrief):
        row = debrief.phase_time(code)
        if row is None or (row.started_at is None and row.ended_at is None):
            continue
        lines.append(data.PhaseTimeLine(
            phase=str(label),
            start=local_text(row.started_at, zone, "time") if row.started_at else "",
            end=local_text(row.ended_at, zone, "time") if row.ended_at else ""))
    return lines


def _objectives(sim_session: SimSession, debrief: Debrief) -> list[data.Objective]:
    """The scenario's learning objectives, each with the group's outcome where recorded."""
    return [data.Objective(line.objective, (f"{line.outcome}: {line.note}" if line.note
                                            else line.outcome) if line.code else "")
            for line in objective_lines(debrief) if line.objective.strip()]


def _talked_about(sim_session: SimSession, debrief: Debrief) -> list[data.Titled]:
    """Each point the debrief covered, with the scenario's own teaching text for it."""
    content = sim_session.scenario_version.localized_content()
    texts = {str(point.get("point")): str(point.get("text") or "")
             for point in content.get("teaching_points") or () if isinstance(point, dict)}
    return [data.Titled(label, texts.get(code, "").strip())
            for code, label in debriefing.framing_items(sim_session.centre)
            if debrief.framing.get(code)]


def _urgent_lines(sim_session: SimSession) -> list[str]:
    """The centre's urgent contacts as printable lines, the emergency number first."""
    session = object_session(sim_session)
    if session is None:
        return []
    return [f"{contact.name}: {contact.phone}"
            + (f" ({contact.opening_hours})" if contact.opening_hours else "")
            for contact in crisis.urgent_contacts(session, sim_session.centre)]


def session_parts(sim_session: SimSession, debrief: Debrief) -> SessionParts:
    """The group's part of the debrief, as every learner's document shows it."""
    items = debrief.analysis_items
    zone = sim_session.centre.timezone
    return SessionParts(
        cover=_cover(sim_session),
        take_home=text_lines(debrief.take_home_messages),
        plus=[item.text for item in items if item.kind in ("plus", "strength")],
        delta=[item.text for item in items if item.kind in ("delta", "gap")],
        problems=[problem.description for problem in debrief.problems],
        levels=_levels(debrief),
        objectives=_objectives(sim_session, debrief),
        framing=_talked_about(sim_session, debrief),
        story=_story(sim_session),
        support_contacts=text_lines(sim_session.centre.support_contacts),
        urgent_contacts=_urgent_lines(sim_session),
        amended=_("This debrief was amended after it was finalised (last change %(when)s).",
                  when=local_text(debrief.amendments[-1].at, zone))
        if debrief.amendments else "",
    )




def checkin_summary(checkin: CheckIn, zone: str, w: data.Wording) -> data.CheckInSummary:
    answers = [data.Answer(w.distress, str(checkin.distress)
                           if checkin.distress is not None else w.not_given)]
    for label, options, codes in (
        (w.reactions, checkin_options.SYMPTOMS, checkin.symptoms),
        (w.helps, checkin_options.COPING, checkin.coping),
        (w.support_wanted, checkin_options.SUPPORT_WANTED, checkin.support_wanted),
    ):
        if codes:
            answers.append(data.Answer(label, "; ".join(
                str(text) for text in checkin_options.labels(options, codes))))
    if checkin.free_text:
        answers.append(data.Answer(w.own_notes, checkin.free_text))
    return data.CheckInSummary(when=local_text(checkin.created_at, zone), answers=answers)


def _brings(row) -> str:
    """What a stage brings, in plain words: a check-in, lessons, a conversation offer."""
    stage = getattr(row, "stage", None)
    if stage is None:
        return ""
    things = []
    if stage.parts or stage.questions:
        things.append(_("A short check-in"))
    things += [str(stage_catalogue.label_of(stage_catalogue.CONTENT, code))
               for code in stage.content or ()]
    if stage.offers_conversation:
        things.append(_("The offer of a conversation"))
    return "; ".join(things)


def followup_lines(rows, zone: str) -> list[data.FollowUpLine]:
    return [data.FollowUpLine(stage=stage_title(row), due=local_text(row.due_at, zone, DATE_TIME),
                              status=stage_status_text(row), brings=_brings(row)) for row in rows]


def session_followup_lines(session: Session, *, sim_session: SimSession,
                           learner: User) -> list[data.FollowUpLine]:
    """The learner's follow-ups of one session for their session page, in local time."""
    return followup_lines(load_followups(session, session_id=sim_session.id,
                                      learner_id=learner.id), sim_session.centre.timezone)
