"""The documents' data, read from the database: learner feedback, session summary, progress.

Turns rows into the plain dataclasses of ``simdebrief.reports.data`` (texts translated, times
in the centre's zone) and hands them to the builders. Every function reads with a bounded
number of queries: what a document needs is eager-loaded up front.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief import checkin_options, taxonomy
from simdebrief.languages import gettext as _
from simdebrief.languages import html_lang, written_in
from simdebrief.models import (
    Attendance,
    Debrief,
    SimSession,
    User,
)
from simdebrief.reports import data
from simdebrief.services import (
    checkins,
    debriefing,
    group_figures,
    learner_sessions,
)
from simdebrief.services.followups import answers
from simdebrief.services.report_data import (
    SessionParts,
    checkin_summary,
    followup_lines,
    load_followups,
    objective_lines,
    phase_time_lines,
    session_parts,
    text_lines,
)
from simdebrief.services.report_wording import (
    DATE,
    occasion_text,
    stage_status_text,
    stage_title,
    wording,
)
from simdebrief.timefmt import local_text, number_text

# --- the learner's document ---------------------------------------------------------------


def learner_report(session: Session, *, sim_session: SimSession, debrief: Debrief,
                   learner: User, now: datetime, twin_url: str,
                   include_checkin: bool = False, parts: SessionParts | None = None,
                   followup_rows: list | None = None,
                   locale: str | None = None) -> data.LearnerReport:
    """The learner's document; their check-in only when asked for.

    Written in ``locale`` when given (an emailed copy: the recipient's language), else in the
    language in force (a download: the downloading user's). ``parts`` and ``followup_rows``
    let a caller that renders a whole session read the shared part and everyone's follow-ups
    once.
    """
    with written_in(locale):
        if followup_rows is None:
            followup_rows = load_followups(session, session_id=sim_session.id,
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
            checkin = checkin_summary(answer, zone, w)
    return data.LearnerReport(
        language=html_lang(), wording=w,
        title=_("Debrief feedback for %(name)s", name=learner.name),
        author=f"{sim_session.centre.name} (SimDebrief)",
        # Named by its date, never by the scenario: a title can give away what happens.
        subject=learner_sessions.neutral_title(sim_session),
        learner=learner.name, cover=replace(parts.cover, scenario=""), twin_url=twin_url,
        generated=local_text(now, zone),
        take_home=parts.take_home, plus=parts.plus, delta=parts.delta,
        problems=parts.problems, levels=parts.levels,
        objectives=parts.objectives, framing=parts.framing,
        feedback=data.Feedback(feedback.strengths, feedback.to_improve,
                               feedback.learning_goals) if feedback else data.Feedback(),
        story=parts.story,
        support_contacts=parts.support_contacts, urgent_contacts=parts.urgent_contacts,
        followups=followup_lines(followup_rows, zone),
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
            distress_median=(number_text(aggregate.distress_median)
                             if aggregate.distress_median is not None else w.too_few_scores),
            reactions=[(str(label), group_figures.count_text(cell))
                       for label, cell in aggregate.symptom_rows])
    stages: dict[str, Counter] = {}
    for row in load_followups(session, session_id=sim_session.id):
        stages.setdefault(stage_title(row), Counter())[stage_status_text(row)] += 1
    followup_status = [
        data.StageStatus(stage, [(status, group_figures.count_text(cell)) for status, cell
                                 in sorted(group_figures.suppress_partition(counts, k).items())])
        for stage, counts in stages.items()]
    return data.SessionSummary(
        language=html_lang(), wording=w,
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
        phase_times=phase_time_lines(debrief, zone),
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
    """The learner's own check-ins over time, oldest first, in the downloader's language."""
    w = wording()
    zone = learner.centre.timezone
    rows = [c for c in reversed(checkins.checkins_of(session, learner))
            if not c.skipped and c.payload]
    upcoming = load_followups(session, learner_id=learner.id, due_from=now)
    session_ids = {c.session_id for c in rows if c.session_id is not None}
    session_ids |= {row.session_id for row in upcoming if row.session_id is not None}
    titles = {}
    if session_ids:
        titles = {s.id: learner_sessions.neutral_title(s) for s in session.scalars(
            select(SimSession).where(SimSession.id.in_(session_ids)))}
    first = rows[0].created_at if rows else now
    points = [data.ProgressPoint(
        when=local_text(c.created_at, zone), short=local_text(c.created_at, zone, "day_month"),
        day=(c.created_at - first).total_seconds() / 86400, distress=c.distress,
        occasion=occasion_text(c.context),
        session=titles.get(c.session_id, w.other_checkins),
        reactions=[str(text) for text in checkin_options.labels(checkin_options.SYMPTOMS,
                                                              c.symptoms)])
        for c in rows]
    followups = [replace(line, session=_followup_group(row, titles, w))
                 for row, line in zip(upcoming, followup_lines(upcoming, zone),
                                      strict=True)]
    return data.ProgressReport(
        language=html_lang(), wording=w,
        title=_("Check-ins of %(name)s", name=learner.name),
        author=f"{learner.centre.name} (SimDebrief)", subject=w.progress_document,
        learner=learner.name, centre=learner.centre.name, generated=local_text(now, zone),
        twin_url=twin_url, points=points,
        support_contacts=text_lines(learner.centre.support_contacts), followups=followups)


def _followup_group(row, titles: dict[int, str], w: data.Wording) -> str:
    """The session (named neutrally) or the track a follow-up belongs to."""
    if row.track_id is not None and row.track is not None:
        return str(answers.TRACK_NAMES[row.track.kind])
    return titles.get(row.session_id, w.other_checkins)


