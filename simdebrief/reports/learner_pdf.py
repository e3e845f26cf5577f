"""The learner's debrief document: what was said to them, what the group found, what helps."""

from __future__ import annotations

from simdebrief.reports import parts
from simdebrief.reports.data import LearnerReport
from simdebrief.reports.styles import (
    BODY,
    LABEL,
    QUOTE,
    SMALL,
    Para,
    ReportDocument,
    heading,
    markup,
)


def render_learner_pdf(report: LearnerReport) -> bytes:
    """Render the learner's feedback as a PDF; sections without content are left out."""
    w = report.wording
    story: list = []
    story += parts.cover(w.learner_document, report.learner,
                         [(w.learner, report.learner), *parts.cover_facts(report.cover, w)])
    story += parts.link(report.twin_url, w.twin_link)
    story += parts.para(w.generated % {"when": report.generated}, SMALL)
    story += parts.para(report.amended, SMALL)

    # The order a learner reads in: what was said to them and the group's messages first,
    # then what the session was for and what was talked about, the analysis, and last what
    # comes next and who to turn to.
    if not report.feedback.is_empty:
        story.append(heading(w.s_feedback, "feedback"))
        story += parts.feedback(report.feedback, w)

    if report.take_home:
        story.append(heading(w.s_take_home, "take-home"))
        story += parts.bullets(report.take_home)

    if report.plus or report.delta:
        story.append(heading(w.s_plus_delta, "plus-delta"))
        # Labels keep with the line after them (LABEL.keepWithNext).
        if report.plus:
            story += [Para(markup(w.plus), LABEL), *parts.bullets(report.plus)]
        if report.delta:
            story += [Para(markup(w.delta), LABEL), *parts.bullets(report.delta)]

    if report.objectives:
        story.append(heading(w.s_objectives, "objectives"))
        story += parts.para(w.objectives_intro)
        for objective in report.objectives:
            story += parts.bullets([objective.text])
            if objective.result:
                story += parts.para(w.objective_result % {"result": objective.result}, SMALL)

    if report.framing:
        story.append(heading(w.s_framing, "framing"))
        story += parts.para(w.framing_intro)
        for point in report.framing:
            story += parts.para(point.title, LABEL) if point.text else parts.bullets(
                [point.title])
            story += parts.para(" ".join(point.text.split()))

    if report.has_factors:
        story += parts.keep([heading(w.s_analysis, "analysis"), *parts.para(w.analysis_intro),
                             *parts.factor_chart(report.levels, w)])
        story += parts.problems(report.problems, w)
        story.append(parts.factor_table(report.levels, w))

    story.append(heading(w.s_second_victim, "second-victim"))
    story += [Para(markup(text), BODY) for text in w.second_victim]

    if report.story is not None and report.story.text.strip():
        story.append(heading(w.s_story, "story"))
        story += parts.para(w.story_intro)
        story += parts.para(report.story.title, LABEL)
        story += parts.para(report.story.narrator, SMALL)
        # The story is prose wrapped in its file: blank lines part paragraphs, nothing else.
        story += [Para(markup(" ".join(block.split())), QUOTE)
                  for block in report.story.text.split("\n\n") if block.strip()]

    story.append(heading(w.s_coping, "coping"))
    story += parts.para(w.coping_intro)
    for item in w.coping:
        story += parts.para(item.title, LABEL) + parts.para(item.text)
    story += parts.para(w.coping_source, SMALL)

    followups = [heading(w.s_followups, "followups")]
    if report.followups:
        followups += [*parts.para(w.followups_intro),
                      parts.followup_table(report.followups, w)]
    else:
        followups += parts.para(w.followups_pending)
    story += parts.keep(followups + parts.para(w.followups_pause))

    story.append(heading(w.s_support, "support"))
    story += parts.bullets(report.support_contacts)
    story += parts.para(w.support_always)
    story += parts.keep([*parts.para(w.urgent_intro, LABEL),
                         *parts.bullets(report.urgent_contacts)]
                        if report.urgent_contacts else parts.para(w.urgent_none))

    if report.checkin is not None:
        story.append(heading(w.s_checkin, "checkin"))
        story += parts.para(w.checkin_intro % {"when": report.checkin.when})
        for answer in report.checkin.answers:
            story += parts.labelled(answer.label, answer.value)

    def build(buffer) -> None:
        ReportDocument(buffer, title=report.title, author=report.author, subject=report.subject,
                       lang=report.language, header_left=f"{w.product} · {report.cover.centre}",
                       header_right=w.learner_document,
                       footer_left=f"{report.learner} · {report.cover.date}",
                       page_of=w.page_of).render(story)

    return parts.to_bytes(build)

