"""The documents' data, read from the database: learner feedback, session summary, progress.

Turns rows into the plain dataclasses of ``simdebrief.reports.data`` (texts translated, times
in the centre's zone) and hands them to the builders. Every function reads with a bounded
number of queries: what a document needs is eager-loaded up front.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from functools import lru_cache

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from simdebrief import checkin_options, taxonomy
from simdebrief.models import (
    Attendance,
    CareProblem,
    CheckIn,
    CheckInContext,
    Debrief,
    DebriefAmendment,
    SessionParticipant,
    SimSession,
    User,
)
from simdebrief.reports import data
from simdebrief.services import (
    audit,
    checkins,
    crisis,
    debriefing,
    group_figures,
    learner_sessions,
)
from simdebrief.services.followups import answers, stage_catalogue
from simdebrief.timefmt import local_text

try:  # Follow-ups arrive in their own module; until then documents say they will come.
    from simdebrief.models.followups import FollowUp
except ImportError:  # pragma: no cover - depends on the follow-up feature being present
    FollowUp = None

log = logging.getLogger(__name__)

DATE = "EEEE d MMMM y"
DATE_TIME = "EEEE d MMMM y, HH:mm"


# --- fixed texts ------------------------------------------------------------------------------


def wording() -> data.Wording:
    """Every fixed text of the documents, in the current language (made once per language)."""
    return _wording(str(get_locale()))


@lru_cache(maxsize=16)
def _wording(_locale: str) -> data.Wording:
    return data.Wording(
        product="SimDebrief",
        page_of=_("Page %(page)s of %(pages)s"),
        learner_document=_("Debrief feedback"),
        summary_document=_("Debrief summary"),
        progress_document=_("Your check-ins over time"),
        s_objective_outcomes=_("Learning objectives"),
        objective=_("Objective"),
        outcome=_("Met?"),
        s_phase_times=_("Phase times"),
        phase=_("Phase"),
        started=_("Start"),
        ended=_("End"),
        s_debriefers=_("Debriefers"),
        role=_("Role"),
        s_just_culture=_("Just Culture classification of the problems"),
        classification=_("Classification"),
        s_undiscussed=_("Suggested factors not discussed"),
        undiscussed_intro=_("These factors came from the scenario's suggestions and were not "
                            "marked as discussed with the group:"),
        generated=_("Made %(when)s."),
        twin_link=_("This document is also a web page, easier to read with a screen reader "
                    "or on a phone (log in to open it):"),
        centre=_("Centre"),
        scenario=_("Scenario"),
        date=_("Date"),
        room=_("Room"),
        instructors=_("Instructors"),
        learner=_("Learner"),
        s_second_victim=_("Feeling shaken afterwards is normal"),
        second_victim=[
            _("“Second victim” is a name for a healthcare worker, students included, who "
              "is hurt by an event at work: a patient is harmed, something unexpected "
              "happens, or a mistake is made. The patient is the first victim; the second "
              "is the person who was there and carries it afterwards."),
            _("It does not take a serious error. A harsh remark from a colleague, a "
              "supervisor or a fellow student, or blaming yourself, can leave the same "
              "mark, and it counts just as much."),
            _("Reactions to events like this are normal: going over it again and again, "
              "guilt, doubting your skills, sleeping badly or wanting to keep it to "
              "yourself. They show that you care, not that you are unfit for the work. For "
              "most people they ease over days or weeks. If they do not, or if they weigh "
              "heavily, talk to someone: the contacts are further down."),
            _("The event in the simulation was not real; what you felt may well have been."),
        ],
        s_take_home=_("The group’s take-home messages"),
        s_plus_delta=_("What went well and what to change"),
        plus=_("Went well"),
        delta=_("To change"),
        s_analysis=_("Why it happened: many causes, not one person"),
        analysis_intro=_("Errors nearly always have several causes. The group looked for "
                         "them at every level of the London Protocol, from the patient and "
                         "the task to the team, the workplace and the organisation."),
        s_chart=_("Factors per level"),
        chart_title=_("Contributing factors per London Protocol level"),
        chart_description=_("A bar per level; the same numbers are in the table next to "
                            "the chart."),
        level=_("Level"),
        factors=_("Factors"),
        factor=_("Contributing factor"),
        problems=_("Care-delivery problems: where care went beyond safe limits"),
        problem=_("Problem"),
        note=_("Note"),
        attribution=_("System or individual"),
        s_framing=_("What we talked about"),
        framing_intro=_("Messages about errors and how we handle them that came up in the "
                        "debrief:"),
        s_objectives=_("What the session was for"),
        objectives_intro=_("The learning objectives of the scenario:"),
        objective_result=_("The group: %(result)s"),
        s_feedback=_("Feedback to you"),
        strengths=_("Strengths"),
        to_improve=_("What to improve"),
        learning_goals=_("Learning goals"),
        s_story=_("Someone who has been there"),
        story_intro=_("A composite teaching story: written for teaching from what many "
                      "clinicians have described, not one real person's account. Students "
                      "have said that hearing from people a few steps ahead of them helps "
                      "them see their own reactions as normal."),
        s_coping=_("What helped other students"),
        coping_intro=_("Medical students interviewed about events like this described what "
                       "helped them. Different things help different people; take what "
                       "fits you."),
        coping=[
            data.Titled(_("Fellow students and colleagues, for the clinical side"),
                        _("Go through what happened, what you noticed and what you would do "
                          "next time with people who know the work.")),
            data.Titled(_("Friends and family, for the feelings"),
                        _("People outside medicine ask how you felt rather than what the "
                          "blood pressure was, and that can be what you need.")),
            data.Titled(_("Formal offers of support"),
                        _("Peer supporters, supervisors, counsellors and psychologists are "
                          "there for this. Students tended to skip offers they had to ask "
                          "for once the first shock had passed, and were glad of follow-ups "
                          "that came to them anyway; that is why yours are planned for "
                          "you.")),
            data.Titled(_("Keeping work and private life apart"),
                        _("Leave the day at the door on your way home and do something that "
                          "helps you switch off. Putting it aside for the evening is not the "
                          "same as ignoring it.")),
        ],
        coping_source=_("Source: interviews with medical students in Copenhagen (Krogh et "
                        "al., BMC Medical Education 2023;23:786)."),
        s_support=_("Who you can talk to"),
        support_always=_("You can also use “Ask for a conversation” in SimDebrief at any "
                         "time. Nobody is told unless you say so."),
        urgent_intro=_("If it cannot wait, or you are thinking of harming yourself, call one "
                       "of these now. If you are in danger, call the emergency number."),
        urgent_none=_("If it cannot wait, or you are in danger, call your local emergency "
                      "number."),
        s_followups=_("Your follow-ups"),
        followups_intro=_("Short check-ins planned for you after the session, in local "
                          "time:"),
        followups_pending=_("Short check-ins are planned for you after the debrief: the next "
                            "day, after a week, after a month and after three months. Each "
                            "comes by email with a link."),
        followups_pause=_("You can pause or stop your follow-ups at any time with one click, "
                          "from the link in a follow-up email or from your session page in "
                          "SimDebrief. No reason is asked, and you can start them again."),
        followup=_("Follow-up"),
        due=_("Due"),
        status=_("Status"),
        brings=_("What it brings"),
        s_checkin=_("Your check-in"),
        checkin_intro=_("You chose to include your check-in of %(when)s. Only you can see it "
                        "in SimDebrief."),
        answered=_("Answered"),
        distress=_("Distress (0–10)"),
        reactions=_("What you noticed"),
        helps=_("What helps"),
        support_wanted=_("Support you would like"),
        own_notes=_("Your notes"),
        amended=_("This debrief was amended after it was finalised (last change %(when)s)."),
        s_attendance=_("Attendance"),
        attendance=_("Attendance"),
        s_triggers=_("What may have affected the learners"),
        s_analysis_items=_("Analysis"),
        kind=_("Kind"),
        domain=_("Domain"),
        item=_("Item"),
        s_framing_checklist=_("Framing checklist"),
        given=_("Given"),
        yes=_("Yes"),
        no=_("No"),
        s_all_feedback=_("Feedback to each learner"),
        s_group_checkin=_("How the group is doing"),
        group_checkin_hidden=_("Fewer than %(count)d learners answered the check-in, so no "
                               "figures are shown."),
        group_checkin_open=_("Group figures appear once the debrief is finalised and the "
                             "check-in has closed."),
        group_checkin_answered=_("From the debrief check-ins of %(count)d learners, computed "
                                 "once the check-in closed. Individual answers are never "
                                 "shown."),
        distress_median=_("Middle distress score (0–10)"),
        too_few_scores=_("Too few scores to show"),
        learners=_("Learners"),
        s_followup_status=_("Follow-ups"),
        s_amendments=_("Amendments"),
        when=_("When"),
        who=_("Who"),
        what=_("What"),
        reason=_("Reason"),
        s_progress=_("Your check-ins"),
        progress_intro=_("Your own answers over time. Only you can see them; this document "
                         "exists because you asked for it."),
        progress_empty=_("You have not answered a check-in yet."),
        progress_chart_title=_("Distress over time"),
        progress_chart_description=_("Your distress score (0–10) at each check-in; the same "
                                     "numbers are in the table below."),
        occasion=_("Occasion"),
        session=_("Session"),
        other_checkins=_("Other check-ins"),
        not_given=_("not given"),
    )


FOLLOWUP_STAGES = {
    "FU0_end_of_debrief": lambda: _("End of the debrief"),
    "FU1_early": lambda: _("The next day"),
    "FU2_one_week": lambda: _("After a week"),
    "FU3_one_month": lambda: _("After a month"),
    "FU4_three_months": lambda: _("After three months"),
    "FU_event": lambda: _("After an event"),
}
FOLLOWUP_STATUSES = {
    "scheduled": lambda: _("Planned"),
    "claimed": lambda: _("Being sent"),
    "sent": lambda: _("Sent"),
    "completed": lambda: _("Answered"),
    "answered": lambda: _("Answered"),
    "declined": lambda: _("Declined"),
    "escalated": lambda: _("Support offered"),
    "skipped": lambda: _("Skipped"),
    "expired": lambda: _("Expired"),
    "paused": lambda: _("Paused"),
    "stopped": lambda: _("Stopped"),
    "cancelled": lambda: _("Cancelled"),
}
CONTEXTS = {
    CheckInContext.DEBRIEF: lambda: _("End of the debrief"),
    CheckInContext.SELF: lambda: _("On my own"),
    CheckInContext.FOLLOWUP: lambda: _("Follow-up"),
}


def _occasion(context) -> str:
    return CONTEXTS[context]() if context in CONTEXTS else _code_text(context)


def _code_text(value) -> str:
    return str(getattr(value, "value", value) or "").replace("_", " ").strip()


def _stage_title(row) -> str:
    """The stage's title from its plan, else a name for its key (``FU1_early``)."""
    title = getattr(getattr(row, "stage", None), "title", None)
    if isinstance(title, str) and title.strip():
        return title
    code = str(getattr(row, "stage_key", "") or "")
    return FOLLOWUP_STAGES[code]() if code in FOLLOWUP_STAGES else _code_text(code)


def _status_text(row) -> str:
    code = str(getattr(row.status, "value", row.status) or "")
    return FOLLOWUP_STATUSES[code]() if code in FOLLOWUP_STATUSES else _code_text(code)


# --- loading ----------------------------------------------------------------------------------


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


def _followups(session: Session, *, session_id: int | None = None,
               learner_id: int | None = None, due_from: datetime | None = None) -> list:
    """Follow-up rows of a session and/or a learner, earliest first, stages loaded."""
    if FollowUp is None:
        return []
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
    end = local_text(sim_session.ends_at, zone, "HH:mm")
    room = sim_session.room
    return data.Cover(
        centre=sim_session.centre.name, scenario=sim_session.title, date=f"{start}–{end}",
        room=room.name + (f", {room.location}" if room.location else ""),
        instructors=[instructor.name for instructor in sim_session.instructors])


def _lines(text: str) -> list[str]:
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
    content = sim_session.scenario_version.content or {}
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


def _phase_time_lines(debrief: Debrief, zone: str) -> list[data.PhaseTimeLine]:
    lines = []
    for code, label in debriefing.framework_phases(debrief):
        row = debrief.phase_time(code)
        if row is None or (row.started_at is None and row.ended_at is None):
            continue
        lines.append(data.PhaseTimeLine(
            phase=str(label),
            start=local_text(row.started_at, zone, "HH:mm") if row.started_at else "",
            end=local_text(row.ended_at, zone, "HH:mm") if row.ended_at else ""))
    return lines


def _objectives(sim_session: SimSession, debrief: Debrief) -> list[data.Objective]:
    """The scenario's learning objectives, each with the group's outcome where recorded."""
    return [data.Objective(line.objective, (f"{line.outcome}: {line.note}" if line.note
                                            else line.outcome) if line.code else "")
            for line in objective_lines(debrief) if line.objective.strip()]


def _talked_about(sim_session: SimSession, debrief: Debrief) -> list[data.Titled]:
    """Each point the debrief covered, with the scenario's own teaching text for it."""
    content = sim_session.scenario_version.content or {}
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
        take_home=_lines(debrief.take_home_messages),
        plus=[item.text for item in items if item.kind in ("plus", "strength")],
        delta=[item.text for item in items if item.kind in ("delta", "gap")],
        problems=[problem.description for problem in debrief.problems],
        levels=_levels(debrief),
        objectives=_objectives(sim_session, debrief),
        framing=_talked_about(sim_session, debrief),
        story=_story(sim_session),
        support_contacts=_lines(sim_session.centre.support_contacts),
        urgent_contacts=_urgent_lines(sim_session),
        amended=_("This debrief was amended after it was finalised (last change %(when)s).",
                  when=local_text(debrief.amendments[-1].at, zone))
        if debrief.amendments else "",
    )


def _locale_of(user: User | None) -> str:
    return (user.locale if user is not None and user.locale
            else current_app.config["BABEL_DEFAULT_LOCALE"])


def _language() -> str:
    locale = get_locale()
    return str(locale).replace("_", "-") if locale else "en"


def _checkin_summary(checkin: CheckIn, zone: str, w: data.Wording) -> data.CheckInSummary:
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


def _followup_lines(rows, zone: str) -> list[data.FollowUpLine]:
    return [data.FollowUpLine(stage=_stage_title(row), due=local_text(row.due_at, zone,
                                                                      DATE_TIME),
                              status=_status_text(row), brings=_brings(row)) for row in rows]


def session_followup_lines(session: Session, *, sim_session: SimSession,
                           learner: User) -> list[data.FollowUpLine]:
    """The learner's follow-ups of one session for their session page, in local time."""
    return _followup_lines(_followups(session, session_id=sim_session.id,
                                      learner_id=learner.id), sim_session.centre.timezone)


# --- the learner's document ---------------------------------------------------------------


def learner_report(session: Session, *, sim_session: SimSession, debrief: Debrief,
                   learner: User, now: datetime, twin_url: str,
                   include_checkin: bool = False, parts: SessionParts | None = None,
                   followup_rows: list | None = None) -> data.LearnerReport:
    """The learner's document in their language; their check-in only when asked for.

    ``parts`` and ``followup_rows`` let a caller that renders a whole session read the
    shared part and everyone's follow-ups once.
    """
    with force_locale(_locale_of(learner)):
        if followup_rows is None:
            followup_rows = _followups(session, session_id=sim_session.id,
                                       learner_id=learner.id)
        return _learner_report(session, sim_session=sim_session, debrief=debrief,
                               learner=learner, now=now, twin_url=twin_url,
                               include_checkin=include_checkin,
                               parts=parts or session_parts(sim_session, debrief),
                               followup_rows=followup_rows)


def _learner_report(session, *, sim_session, debrief, learner, now, twin_url,
                    include_checkin, parts, followup_rows) -> data.LearnerReport:
    w = wording()
    zone = sim_session.centre.timezone
    feedback = debrief.feedback_for(learner.id)
    checkin = None
    if include_checkin:
        answer = checkins.latest_answer(session, user=learner, sim_session=sim_session)
        if answer is not None:
            checkin = _checkin_summary(answer, zone, w)
    return data.LearnerReport(
        language=_language(), wording=w,
        title=_("Debrief feedback for %(name)s", name=learner.name),
        author=f"{sim_session.centre.name} (SimDebrief)",
        subject=_("%(scenario)s, %(date)s", scenario=sim_session.title,
                  date=local_text(sim_session.starts_at, zone, DATE)),
        learner=learner.name, cover=parts.cover, twin_url=twin_url,
        generated=local_text(now, zone),
        take_home=parts.take_home, plus=parts.plus, delta=parts.delta,
        problems=parts.problems, levels=parts.levels,
        objectives=parts.objectives, framing=parts.framing,
        feedback=data.Feedback(feedback.strengths, feedback.to_improve,
                               feedback.learning_goals) if feedback else data.Feedback(),
        story=parts.story,
        support_contacts=parts.support_contacts, urgent_contacts=parts.urgent_contacts,
        followups=_followup_lines(followup_rows, zone),
        checkin=checkin, amended=parts.amended,
    )


# --- the instructors' summary ---------------------------------------------------------------

ATTENDANCE = {
    Attendance.PRESENT: lambda: _("Present"),
    Attendance.ABSENT: lambda: _("Absent"),
    Attendance.EXPECTED: lambda: _("Not recorded"),
}


def session_summary(session: Session, *, sim_session: SimSession, debrief: Debrief,
                    now: datetime) -> data.SessionSummary:
    """The instructors' record, in the current language; check-ins only as group figures."""
    w = wording()
    zone = sim_session.centre.timezone
    parts = session_parts(sim_session, debrief)
    names = {p.user_id: p.user.name for p in sim_session.participants}
    present = [p for p in sim_session.participants if p.attendance is Attendance.PRESENT]
    aggregate = checkins.aggregate_for_session(session, sim_session)
    k = group_figures.k_for(sim_session.centre.min_group_size)
    group = None
    if aggregate is not None:
        group = data.GroupCheckIn(
            answered=aggregate.answered,
            distress_median=(f"{aggregate.distress_median:g}"
                             if aggregate.distress_median is not None else w.too_few_scores),
            reactions=[(str(label), group_figures.count_text(cell))
                       for label, cell in aggregate.symptom_rows])
    stages: dict[str, Counter] = {}
    for row in _followups(session, session_id=sim_session.id):
        stages.setdefault(_stage_title(row), Counter())[_status_text(row)] += 1
    followup_status = [
        data.StageStatus(stage, [(status, group_figures.count_text(cell)) for status, cell
                                 in sorted(group_figures.suppress_partition(counts, k).items())])
        for stage, counts in stages.items()]
    return data.SessionSummary(
        language=_language(), wording=w,
        title=_("Debrief summary: %(scenario)s", scenario=sim_session.title),
        author=f"{sim_session.centre.name} (SimDebrief)",
        subject=_("%(scenario)s, %(date)s", scenario=sim_session.title,
                  date=local_text(sim_session.starts_at, zone, DATE)),
        cover=parts.cover, generated=local_text(now, zone),
        attendance=[data.AttendanceLine(p.user.name, ATTENDANCE[p.attendance]())
                    for p in sorted(sim_session.participants, key=lambda p: p.user.name)],
        take_home=parts.take_home,
        triggers=[str(taxonomy.label(taxonomy.TRIGGER_TYPES, code))
                  for code in debrief.triggers],
        analysis=[data.AnalysisLine(str(taxonomy.label(taxonomy.ANALYSIS_KINDS, item.kind)),
                                    str(taxonomy.label(taxonomy.ANALYSIS_DOMAINS,
                                                       item.domain)), item.text)
                  for item in debrief.analysis_items],
        problems=parts.problems, levels=parts.levels,
        framing=[data.FramingLine(label, bool(debrief.framing.get(code)))
                 for code, label in debriefing.framing_items(sim_session.centre)],
        feedback=[data.LearnerFeedback(
            p.user.name, data.Feedback(fb.strengths, fb.to_improve, fb.learning_goals)
            if (fb := debrief.feedback_for(p.user_id)) else data.Feedback())
            for p in sorted(present, key=lambda p: p.user.name)],
        group_checkin=group,
        group_checkin_note="" if group else (
            w.group_checkin_hidden % {"count": k} if checkins.checkin_closed(sim_session)
            else w.group_checkin_open),
        followup_status=followup_status,
        amendments=[data.AmendmentLine(
            when=local_text(a.at, zone), who=a.author.name if a.author else "",
            what=_amendment_target(a.target, names), reason=a.reason)
            for a in debrief.amendments],
        debriefers=[data.DebrieferLine(user.name, str(taxonomy.label(taxonomy.DEBRIEF_ROLES,
                                                                     role.value)))
                    for user, role in debriefing.debriefers(debrief)],
        objectives=objective_lines(debrief),
        phase_times=_phase_time_lines(debrief, zone),
        just_culture=[(problem.description,
                       str(taxonomy.label(taxonomy.JUST_CULTURE_CLASSES, problem.just_culture)))
                      for problem in debrief.problems if problem.just_culture],
        undiscussed=[_("%(factor)s (problem %(number)d)",
                       factor=taxonomy.factor_label(factor.code), number=number)
                     for number, problem in enumerate(debrief.problems, start=1)
                     for factor in problem.factors if factor.suggested],
    )


def _amendment_target(target: str, names: dict[int, str]) -> str:
    if target == "take_home_messages":
        return _("Take-home messages")
    if target.startswith("phase:"):
        return _("Notes: %(phase)s", phase=target.split(":", 1)[1].replace("_", " "))
    if target.startswith("feedback:"):
        _prefix, learner_id, name = (target.split(":") + ["", ""])[:3]
        who = names.get(int(learner_id)) if learner_id.isdigit() else None
        return _("Feedback to %(name)s: %(field)s", name=who or learner_id,
                 field=name.replace("_", " "))
    return target


# --- the learner's progress -------------------------------------------------------------------


def progress_report(session: Session, *, learner: User, now: datetime,
                    twin_url: str) -> data.ProgressReport:
    """The learner's own check-ins over time, oldest first, in their language."""
    with force_locale(_locale_of(learner)):
        w = wording()
        zone = learner.centre.timezone
        rows = [c for c in reversed(checkins.checkins_of(session, learner))
                if not c.skipped and c.payload]
        upcoming = _followups(session, learner_id=learner.id, due_from=now)
        session_ids = {c.session_id for c in rows if c.session_id is not None}
        session_ids |= {row.session_id for row in upcoming if row.session_id is not None}
        titles = {}
        if session_ids:
            titles = {s.id: learner_sessions.neutral_title(s) for s in session.scalars(
                select(SimSession).where(SimSession.id.in_(session_ids)))}
        first = rows[0].created_at if rows else now
        points = [data.ProgressPoint(
            when=local_text(c.created_at, zone), short=local_text(c.created_at, zone, "d MMM"),
            day=(c.created_at - first).total_seconds() / 86400, distress=c.distress,
            occasion=_occasion(c.context),
            session=titles.get(c.session_id, w.other_checkins),
            reactions=[str(text) for text in checkin_options.labels(checkin_options.SYMPTOMS,
                                                                  c.symptoms)])
            for c in rows]
        followups = [replace(line, session=_followup_group(row, titles, w))
                     for row, line in zip(upcoming, _followup_lines(upcoming, zone),
                                          strict=True)]
        return data.ProgressReport(
            language=_language(), wording=w,
            title=_("Check-ins of %(name)s", name=learner.name),
            author=f"{learner.centre.name} (SimDebrief)", subject=w.progress_document,
            learner=learner.name, centre=learner.centre.name, generated=local_text(now, zone),
            twin_url=twin_url, points=points,
            support_contacts=_lines(learner.centre.support_contacts), followups=followups)


def _followup_group(row, titles: dict[int, str], w: data.Wording) -> str:
    """The session (named neutrally) or the track a follow-up belongs to."""
    if row.track_id is not None and row.track is not None:
        return str(answers.TRACK_NAMES[row.track.kind])
    return titles.get(row.session_id, w.other_checkins)


# --- links, names and audit -----------------------------------------------------------------


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link to a page, also outside a request (jobs and commands)."""
    base = current_app.config["SIMDEBRIEF_BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/", base_url=base):
        return base + url_for(endpoint, **values)


def feedback_url(session_id: int, learner_id: int) -> str:
    return absolute_url("reports.learner_page", session_id=session_id, learner_id=learner_id)


_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe",
                                "Å": "Aa", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d"})


def slug(text: str) -> str:
    """A file-name-safe ASCII form of a name: "Søren Ås" -> "soeren-aas"."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE)).encode(
        "ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "learner"


def learner_filename(sim_session: SimSession, learner: User) -> str:
    day = sim_session.starts_at.date().isoformat()
    return f"debrief-{day}-session-{sim_session.id}-{slug(learner.name)}.pdf"


def summary_filename(sim_session: SimSession) -> str:
    day = sim_session.starts_at.date().isoformat()
    return f"debrief-{day}-session-{sim_session.id}-summary.pdf"


def record_download(session: Session, *, actor: User | None, now: datetime, document: str,
                    object_type: str, object_id: object, detail: str = "") -> None:
    """Audit a document leaving the system; ids and names of fields only, never content."""
    audit.record(session, action="report.downloaded", actor=actor, now=now,
                 object_type=object_type, object_id=object_id,
                 detail=f"document={document}" + (f" {detail}" if detail else ""))


# --- rendering --------------------------------------------------------------------------------


# The builders import reportlab (about half a second): only a process that renders a document
# pays for it, not every CLI command.


def render_learner(report: data.LearnerReport) -> bytes:
    from simdebrief.reports.learner_pdf import render_learner_pdf

    return render_learner_pdf(report)


def render_summary(summary: data.SessionSummary) -> bytes:
    from simdebrief.reports.summary_pdf import render_summary_pdf

    return render_summary_pdf(summary)


def render_progress(report: data.ProgressReport) -> bytes:
    from simdebrief.reports.progress_pdf import render_progress_pdf

    return render_progress_pdf(report)


@dataclass
class SessionDocuments:
    """Every attending learner's document and the summary, rendered one at a time."""

    count: int
    documents: Iterator[tuple[str, bytes]]

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return self.documents


def render_session_documents(session: Session, *, sim_session: SimSession, debrief: Debrief,
                             now: datetime,
                             twin_url: Callable[[int, int], str] = feedback_url
                             ) -> SessionDocuments:
    """(file name, PDF) for each learner who attended, then the instructors' summary.

    The group's part is read and laid out once for the whole session. No check-in data is
    ever included: these documents leave the learners' hands.
    """
    learners = sorted(debriefing.debrief_learners(sim_session), key=lambda u: u.name)

    def documents() -> Iterator[tuple[str, bytes]]:
        shared: dict[str, SessionParts] = {}
        followups = defaultdict(list)
        for row in _followups(session, session_id=sim_session.id):
            followups[row.user_id].append(row)
        for learner in learners:
            locale = _locale_of(learner)
            with force_locale(locale):
                if locale not in shared:
                    shared[locale] = session_parts(sim_session, debrief)
                report = learner_report(session, sim_session=sim_session, debrief=debrief,
                                        learner=learner, now=now,
                                        twin_url=twin_url(sim_session.id, learner.id),
                                        parts=shared[locale],
                                        followup_rows=followups[learner.id])
            yield learner_filename(sim_session, learner), render_learner(report)
        summary = session_summary(session, sim_session=sim_session, debrief=debrief, now=now)
        yield summary_filename(sim_session), render_summary(summary)

    return SessionDocuments(len(learners) + 1, documents())


# --- email attachments ----------------------------------------------------------------------

ATTACHMENT_KIND = "learner_pdf"


class AttachmentError(Exception):
    """An attachment could not be rendered; the email is retried later."""


def attachment_reference(session_id: int, learner_id: int) -> str:
    return f"{ATTACHMENT_KIND}:{session_id}:{learner_id}"


def resolve_attachment(session: Session, reference: str, *,
                       now: datetime) -> tuple[str, bytes] | None:
    """(file name, PDF) for an outbox reference such as ``learner_pdf:12:34``.

    None when it no longer points at a finalised debrief the learner attended (the email
    then goes without it; its link still works). Attachments never carry check-in data.
    """
    kind, _sep, rest = reference.partition(":")
    session_text, _sep, learner_text = rest.partition(":")
    if kind != ATTACHMENT_KIND or not (session_text.isdigit() and learner_text.isdigit()):
        log.warning("unknown attachment reference %r", reference)
        return None
    sim_session = load_session(session, int(session_text))
    learner = session.get(User, int(learner_text))
    debrief = load_debrief(session, sim_session) if sim_session is not None else None
    if (debrief is None or learner is None or not debrief.is_final
            or not attended(sim_session, learner.id)):
        return None
    try:
        report = learner_report(session, sim_session=sim_session, debrief=debrief,
                                learner=learner, now=now,
                                twin_url=feedback_url(sim_session.id, learner.id))
        return learner_filename(sim_session, learner), render_learner(report)
    except Exception as error:  # any failure to render: retry the email, do not drop it
        raise AttachmentError(repr(error)) from error


def attach(session: Session, message: EmailMessage, reference: str, *, now: datetime) -> None:
    """Add the referenced PDF to an email that is about to be sent."""
    resolved = resolve_attachment(session, reference, now=now)
    if resolved is not None:
        filename, pdf = resolved
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)

