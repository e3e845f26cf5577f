"""The instructors' session summary: the whole debrief, with check-ins only as group figures."""

from __future__ import annotations

from simdebrief.reports import parts
from simdebrief.reports.data import SessionSummary
from simdebrief.reports.styles import SMALL, ReportDocument, heading, table_heading


def render_summary_pdf(summary: SessionSummary) -> bytes:
    """Render the session summary as a PDF; sections without content are left out."""
    w = summary.wording
    story: list = []
    story += parts.cover(w.summary_document, summary.cover.scenario,
                         parts.cover_facts(summary.cover, w))
    story += parts.para(w.generated % {"when": summary.generated}, SMALL)

    if summary.debriefers:
        story += table_heading(w.s_debriefers, "debriefers")
        story.append(parts.table(
            [w.instructors, w.role],
            [[line.name, line.role] for line in summary.debriefers], [0.6, 0.4]))

    if summary.attendance:
        story += table_heading(w.s_attendance, "attendance")
        story.append(parts.table(
            [w.learner, w.attendance],
            [[line.name, line.status] for line in summary.attendance],
            [0.6, 0.4]))

    if summary.take_home:
        story.append(heading(w.s_take_home, "take-home"))
        story += parts.bullets(summary.take_home)

    if summary.objectives:
        story += table_heading(w.s_objective_outcomes, "objectives")
        story.append(parts.table(
            [w.objective, w.outcome, w.note],
            [[line.objective, line.outcome, line.note] for line in summary.objectives],
            [0.45, 0.15, 0.4]))

    if summary.phase_times:
        story += table_heading(w.s_phase_times, "phase-times")
        story.append(parts.table(
            [w.phase, w.started, w.ended],
            [[line.phase, line.start, line.end] for line in summary.phase_times],
            [0.5, 0.25, 0.25]))

    if summary.triggers:
        story.append(heading(w.s_triggers, "triggers"))
        story += parts.bullets(summary.triggers)

    if summary.analysis:
        story += table_heading(w.s_analysis_items, "analysis-items")
        story.append(parts.table(
            [w.kind, w.domain, w.item],
            [[line.kind, line.domain, line.text]
             for line in summary.analysis], [0.2, 0.22, 0.58]))

    if summary.has_factors:
        story.append(heading(w.s_analysis, "factors"))
        story += parts.factor_chart(summary.levels, w)
        story += parts.problems(summary.problems, w)
        story.append(parts.factor_table(summary.levels, w))

    if summary.just_culture:
        story += table_heading(w.s_just_culture, "just-culture")
        story.append(parts.table(
            [w.problem, w.classification],
            [[problem, classification] for problem, classification in summary.just_culture],
            [0.7, 0.3]))

    if summary.undiscussed:
        story.append(heading(w.s_undiscussed, "undiscussed"))
        story += parts.para(w.undiscussed_intro)
        story += parts.bullets(summary.undiscussed)

    if summary.framing:
        story += table_heading(w.s_framing_checklist, "framing")
        story.append(parts.table(
            [w.item, w.given],
            [[line.label, w.yes if line.given else w.no]
             for line in summary.framing], [0.85, 0.15]))

    written = [entry for entry in summary.feedback if not entry.feedback.is_empty]
    if written:
        story += table_heading(w.s_all_feedback, "feedback")
        story.append(parts.feedback_table(written, w))

    story.append(heading(w.s_group_checkin, "group-checkin"))
    group = summary.group_checkin
    if group is None:
        story += parts.para(summary.group_checkin_note)
    else:
        story += parts.para(w.group_checkin_answered % {"count": group.answered})
        story += parts.facts([(w.distress_median, group.distress_median)])
        if group.reactions:
            story.append(parts.table(
                [w.reactions, w.learners],
                [[label, count] for label, count in
                 group.reactions], [0.8, 0.2]))

    if summary.followup_status:
        story += table_heading(w.s_followup_status, "followups")
        story.append(parts.table(
            [w.followup, w.status],
            [[stage.stage,
              ", ".join(f"{status}: {count}" for status, count in stage.counts)]
             for stage in summary.followup_status], [0.45, 0.55]))

    if summary.amendments:
        story += table_heading(w.s_amendments, "amendments")
        story.append(parts.table(
            [w.when, w.who, w.what, w.reason],
            [[a.when, a.who, a.what, a.reason]
             for a in summary.amendments], [0.2, 0.2, 0.3, 0.3]))

    def build(buffer) -> None:
        ReportDocument(buffer, title=summary.title, author=summary.author,
                       subject=summary.subject, lang=summary.language,
                       header_left=f"{w.product} · {summary.cover.centre}",
                       header_right=w.summary_document,
                       footer_left=f"{summary.cover.scenario} · {summary.cover.date}",
                       page_of=w.page_of).render(story)

    return parts.to_bytes(build)

