"""The learner's own check-ins over time: a chart and a table of the same answers."""

from __future__ import annotations

from simdebrief.reports import parts
from simdebrief.reports.charts import checkin_trend_drawing
from simdebrief.reports.data import ProgressReport
from simdebrief.reports.styles import (
    CONTENT_WIDTH,
    FONT,
    LABEL,
    SMALL,
    Para,
    ReportDocument,
    clean,
    heading,
    markup,
)


def progress_series(report: ProgressReport, label=str):
    """(day, distress) points of a progress report's chart, and the axis labels for their
    days (each day named by its first point, written through ``label``): the same for the
    PDF drawing and the web page's SVG (``checkin_trend_svg``)."""
    points = report.chart_points
    names = {point.day: label(point.short) for point in reversed(points)}
    return [(point.day, point.distress) for point in points], lambda day: names.get(day, "")


def progress_drawing(report: ProgressReport, *, width: float, font: str):
    """The distress chart of a progress report, in the PDF's fonts."""
    points, day_label = progress_series(report, label=clean)
    drawing = checkin_trend_drawing(points, day_label=day_label, width=width, font=font)
    drawing.initialFontName = font  # no stray default font in the PDF
    return drawing


def render_progress_pdf(report: ProgressReport) -> bytes:
    """Render the learner's progress report as a PDF."""
    w = report.wording
    story: list = []
    story += parts.cover(w.progress_document, report.learner,
                         [(w.learner, report.learner), (w.centre, report.centre)])
    story += parts.link(report.twin_url, w.twin_link)
    story += parts.para(w.generated % {"when": report.generated}, SMALL)

    story.append(heading(w.s_progress, "checkins"))
    story += parts.para(w.progress_intro)
    if not report.points:
        story += parts.para(w.progress_empty)
    else:
        if report.chart_points:
            story += parts.keep([Para(markup(w.progress_chart_title), LABEL),
                                 progress_drawing(report, width=CONTENT_WIDTH, font=FONT)])
        for title, points in report.point_groups:
            story += parts.para(title, LABEL)
            story.append(parts.table(
                [w.date, w.distress, w.occasion, w.reactions],
                [[point.when,
                  str(point.distress) if point.distress is not None else "–",
                  point.occasion, "; ".join(point.reactions)] for point in points],
                [0.28, 0.14, 0.2, 0.38]))

    if report.followups:
        story.append(heading(w.s_followups, "followups"))
        for title, lines in report.followup_groups:
            story += parts.para(title, LABEL)
            story.append(parts.followup_table(lines, w))
        story += parts.para(w.followups_pause)

    story.append(heading(w.s_support, "support"))
    story += parts.bullets(report.support_contacts)
    story += parts.para(w.support_always)

    def build(buffer) -> None:
        ReportDocument(buffer, title=report.title, author=report.author,
                       subject=report.subject, lang=report.language,
                       header_left=f"{w.product} · {report.centre}",
                       header_right=w.progress_document,
                       footer_left=f"{report.learner} · {report.generated}",
                       page_of=w.page_of).render(story)

    return parts.to_bytes(build)
