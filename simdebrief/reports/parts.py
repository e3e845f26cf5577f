"""Flowables the documents share: cover facts, lists, tables, the factor table and chart.

Table cells whose text fits on one line are plain strings, drawn in the table's own font;
only longer texts become paragraphs, which wrap and may split over a page. Laying out a
paragraph costs far more than a string, and most cells are short.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from xml.sax.saxutils import escape, quoteattr

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Spacer, Table

from simdebrief.reports import styles
from simdebrief.reports.charts import factor_spread_drawing
from simdebrief.reports.data import (
    Cover,
    FactorLevel,
    Feedback,
    FollowUpLine,
    Wording,
)
from simdebrief.reports.styles import (
    BODY,
    BOLD,
    BULLET,
    CELL,
    CELL_BOLD,
    CELL_RIGHT,
    CONTENT_WIDTH,
    FONT,
    HEADER_CELL,
    LABEL,
    SMALL,
    SUBTITLE,
    TITLE,
    Para,
    markup,
)

#: Left plus right cell padding in every table (styles.TABLE and styles.FACTS).
PADDING = 10


def para(text: object, style=BODY) -> list[Para]:
    """A paragraph of learner or instructor text, or nothing when it is empty."""
    body = markup(text)
    return [Para(body, style)] if body else []


def bullets(items: list[str]) -> list[Para]:
    return [Para(body, BULLET, bulletText="•") for body in map(markup, items) if body]


def labelled(label: str, text: str) -> list:
    """A bold label over its text; nothing at all when the text is empty."""
    body = para(text)
    if not body:
        return []
    return [Para(markup(label), LABEL), *body]


def link(url: str, text: str) -> list[Para]:
    """The web twin's address as a link; only http(s) addresses are linked."""
    clean_url = styles.clean(url).strip()
    if not clean_url.startswith(("https://", "http://")):
        return []
    return [Para(f"{markup(text)} <a href={quoteattr(clean_url)} color='#1f5c99'>"
                      f"<u>{escape(clean_url)}</u></a>", SMALL)]


def fit(text: object, width: float, style=CELL):
    """The cell content for ``text`` in a column ``width`` points wide: the plain string when
    it fits on one line, else a paragraph that wraps."""
    value = styles.clean(text).strip()
    if "\n" not in value and stringWidth(value, style.fontName,
                                         style.fontSize) <= width - PADDING:
        return value
    return Para(markup(value), style)


def facts(rows: list[tuple[str, str]]) -> list:
    """Label and value pairs on a shaded block; pairs without a value are left out."""
    widths = [CONTENT_WIDTH * 0.25, CONTENT_WIDTH * 0.75]
    cells = [[fit(label, widths[0], CELL_BOLD), fit(value, widths[1])]
             for label, value in rows if styles.clean(value).strip()]
    if not cells:
        return []
    return [Table(cells, colWidths=widths, style=styles.FACTS, hAlign="LEFT", splitInRow=1),
            Spacer(1, 6)]


def cover(title: str, subtitle: str, rows: list[tuple[str, str]]) -> list:
    return [Para(markup(title), TITLE), *para(subtitle, SUBTITLE), *facts(rows)]


def cover_facts(cover: Cover, wording: Wording) -> list[tuple[str, str]]:
    """The cover's rows; the learner's cover has no scenario (it names no scenario)."""
    rows = [(wording.centre, cover.centre), (wording.scenario, cover.scenario),
            (wording.date, cover.date), (wording.room, cover.room),
            (wording.instructors, ", ".join(cover.instructors))]
    return [(label, value) for label, value in rows if value]


def table(header: list[str], rows: list[list], shares: list[float], *, extra_style=(),
          right=()):
    """A table whose header row repeats on every page and whose rows may split.

    ``rows`` hold texts (fitted to their column) or ready flowables; ``right`` names the
    columns whose texts are numbers, aligned right.
    """
    widths = [CONTENT_WIDTH * share for share in shares]
    data = [[fit(text, width, HEADER_CELL) for text, width in zip(header, widths, strict=True)]]
    for row in rows:
        data.append([fit(value, width, CELL_RIGHT if index in right else CELL)
                     if isinstance(value, str) else value
                     for index, (value, width) in enumerate(zip(row, widths, strict=True))])
    result = Table(data, colWidths=widths, repeatRows=1, splitInRow=1, hAlign="LEFT",
                   spaceAfter=6)
    result.setStyle(styles.TABLE)
    commands = [("ALIGN", (index, 1), (index, -1), "RIGHT") for index in right]
    commands += list(extra_style)
    if commands:
        result.setStyle(commands)
    return result


def factor_table(levels: list[FactorLevel], wording: Wording):
    """Contributing factors grouped by London Protocol level, each level a shaded row."""
    rows: list[list] = []
    extra = []
    for level in levels:
        if not level.factors:
            continue
        index = len(rows) + 1
        rows.append([fit(f"{level.label} ({level.count})", CONTENT_WIDTH, CELL_BOLD),
                     "", "", ""])
        extra += [("SPAN", (0, index), (-1, index)),
                  ("FONTNAME", (0, index), (-1, index), BOLD),
                  ("BACKGROUND", (0, index), (-1, index), styles.LEVEL_SHADE)]
        first = level.factors[0]
        if sum(map(len, (level.label, first.factor, first.description,
                         first.attribution))) < 400:
            # A level's name does not end a page without its first factor, unless that
            # factor is so long that it must be split anyway.
            extra.append(("NOSPLIT", (0, index), (-1, index + 1)))
        for factor in level.factors:
            rows.append([factor.factor, str(factor.problem), factor.description,
                         factor.attribution])
    return table([wording.factor, wording.problem, wording.note, wording.attribution], rows,
                 [0.34, 0.12, 0.38, 0.16], extra_style=extra, right=(1,))


def feedback_table(entries: list, wording: Wording):
    """Each learner's feedback in one row: name, strengths, what to improve, goals."""
    return table([wording.learner, wording.strengths, wording.to_improve,
                  wording.learning_goals],
                 [[entry.name, entry.feedback.strengths, entry.feedback.to_improve,
                   entry.feedback.learning_goals] for entry in entries],
                 [0.19, 0.27, 0.27, 0.27])


def problems(items: list[str], wording: Wording) -> list:
    """The numbered care-delivery problems the factor table refers to."""
    if not items:
        return []
    return [Para(markup(wording.problems), LABEL),
            *[Para(body, BULLET, bulletText=f"{number}.")
              for number, body in enumerate(map(markup, items), start=1)]]


def short(text: str, most: int = 40) -> str:
    """A label cut to fit a chart axis or a narrow cell; the full text is in the big table."""
    text = " ".join(styles.clean(text).split())
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


@lru_cache(maxsize=64)
def _spread_drawing(levels: tuple[tuple[str, int], ...]):
    """The chart of one session's factors, drawn by every learner's document: built once.
    A drawing is only read when it is rendered, so documents may share it."""
    return factor_spread_drawing(list(levels), width=CONTENT_WIDTH * 0.66, font=FONT)


def factor_chart(levels: list[FactorLevel], wording: Wording) -> list:
    """The bar chart of factors per level with a table of the same numbers beside it.

    Level names are cut short here: the pair sits in one row, which cannot be split over a
    page, so it must stay small whatever the labels say.
    """
    drawing = _spread_drawing(tuple((short(level.label, 30), level.count)
                                    for level in levels))
    widths = [CONTENT_WIDTH * 0.21, CONTENT_WIDTH * 0.11]
    counts = Table([[fit(short(wording.level, 20), widths[0], HEADER_CELL),
                     fit(short(wording.factors, 10), widths[1], HEADER_CELL)],
                    *[[fit(short(level.label), widths[0]), str(level.count)]
                      for level in levels]],
                   colWidths=widths, hAlign="RIGHT")
    counts.setStyle(styles.TABLE)
    counts.setStyle([("ALIGN", (1, 1), (1, -1), "RIGHT")])
    side_by_side = Table([[drawing, counts]],
                         colWidths=[CONTENT_WIDTH * 0.66, CONTENT_WIDTH * 0.34])
    side_by_side.setStyle([("FONTNAME", (0, 0), (-1, -1), FONT),
                           ("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
    return [Para(markup(wording.chart_title), LABEL), side_by_side, Spacer(1, 6)]


def feedback(feedback: Feedback, wording: Wording) -> list:
    return [*labelled(wording.strengths, feedback.strengths),
            *labelled(wording.to_improve, feedback.to_improve),
            *labelled(wording.learning_goals, feedback.learning_goals)]


def followup_table(lines: list[FollowUpLine], wording: Wording):
    """Stage, when, status; and what each stage brings when any line says so."""
    if any(line.brings for line in lines):
        return table([wording.followup, wording.due, wording.brings, wording.status],
                     [[line.stage, line.due, line.brings, line.status] for line in lines],
                     [0.2, 0.42, 0.24, 0.14])
    return table([wording.followup, wording.due, wording.status],
                 [[line.stage, line.due, line.status] for line in lines], [0.34, 0.44, 0.22])


def keep(flowables: list) -> list:
    return [KeepTogether(flowables)] if flowables else []


def to_bytes(build) -> bytes:
    """Run ``build(buffer)`` and return what it wrote."""
    buffer = BytesIO()
    build(buffer)
    return buffer.getvalue()
