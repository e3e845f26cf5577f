"""Charts drawn with reportlab.graphics: flowables in PDFs, inline SVG on web pages.

The distress trend, on the learner's busiest page, is written as SVG directly for the web
(``checkin_trend_svg``) with the layout of its PDF drawing."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

BRAND = colors.HexColor("#1f5c99")
INK = colors.HexColor("#1d2433")


def factor_spread_drawing(levels: list[tuple[str, int]], *, width: float = 420,
                          font: str = "Helvetica") -> Drawing:
    """A horizontal bar per London Protocol level: how many contributing factors it holds.

    Built from plain shapes rather than reportlab's chart widget: the same picture for a
    tenth of the drawing cost, which counts when a whole session's documents are rendered.
    """
    row = 22
    height = max(row * len(levels) + 30, 80)
    drawing = Drawing(width, height, initialFontName=font)
    # The labels' column is as wide as the widest label in the font it is drawn in.
    widest = max([stringWidth(label, font, 9) for label, _count in levels] + [40])
    left, bottom = min(widest + 12, width * 0.6), 20
    plot_width, plot_height = width - left - 20, height - 30
    most = max([count for _label, count in levels] + [1])
    step = max(1, round(most / 5))
    band = plot_height / max(len(levels), 1)
    thickness = min(band * 0.7, 14)
    # The first level at the top, as in the table beside the chart.
    for index, (label, count) in enumerate(levels):
        middle = bottom + plot_height - band * (index + 0.5)
        if count:
            drawing.add(Rect(left, middle - thickness / 2, plot_width * count / most,
                             thickness, fillColor=BRAND, strokeColor=None))
        drawing.add(String(left - 6, middle - 3, label, fontName=font, fontSize=9,
                           fillColor=INK, textAnchor="end"))
    drawing.add(Line(left, bottom, left, bottom + plot_height, strokeColor=INK,
                     strokeWidth=0.5))
    drawing.add(Line(left, bottom, left + plot_width, bottom, strokeColor=INK,
                     strokeWidth=0.5))
    for value in range(0, most + 1, step):
        x = left + plot_width * value / most
        drawing.add(Line(x, bottom, x, bottom - 3, strokeColor=INK, strokeWidth=0.5))
        drawing.add(String(x, bottom - 12, str(value), fontName=font, fontSize=8,
                           fillColor=INK, textAnchor="middle"))
    return drawing


_STYLE = re.compile(r'\sstyle="([^"]*)"')


def _style_to_attributes(match: re.Match) -> str:
    """Inline ``style`` is blocked by the app's content security policy; SVG presentation
    attributes say the same thing and are allowed."""
    attributes = []
    for declaration in match.group(1).split(";"):
        if ":" not in declaration:
            continue
        name, value = (part.strip() for part in declaration.split(":", 1))
        if name and value:
            attributes.append(f'{name}="{escape(value, {chr(34): "&quot;"})}"')
    return (" " + " ".join(attributes)) if attributes else ""


def inline_svg(drawing: Drawing, *, title: str, description: str, element_id: str) -> str:
    """SVG markup for embedding in a page, labelled for assistive technology."""
    svg = renderSVG.drawToString(drawing)
    svg = svg[svg.index("<svg"):]
    svg = _STYLE.sub(_style_to_attributes, svg)
    # The page draws with the same DejaVu Sans the labels were measured in (app.css loads it).
    svg = svg.replace('font-family="DejaVuSans"', 'font-family="DejaVu Sans, sans-serif"')
    svg = svg.replace('id="clip"', f'id="{element_id}-clip"').replace(
        "url(#clip)", f"url(#{element_id}-clip)").replace('id="group"', "")
    svg = re.sub(r"<title>.*?</title>", f"<title id=\"{element_id}-title\">{escape(title)}"
                 "</title>", svg, count=1, flags=re.S)
    svg = re.sub(r"<desc>.*?</desc>", f"<desc id=\"{element_id}-desc\">{escape(description)}"
                 "</desc>", svg, count=1, flags=re.S)
    return svg.replace(
        "<svg ", f'<svg role="img" aria-labelledby="{element_id}-title {element_id}-desc" '
                 f'class="chart" id="{element_id}" ', 1)


def web_font() -> str:
    """The font web charts are laid out in: the PDFs' DejaVu Sans, which app.css also loads."""
    from simdebrief.reports.styles import FONT, register_fonts

    register_fonts()
    return FONT


def factor_spread_svg(levels: list[tuple[str, int]], *, title: str, description: str,
                      element_id: str) -> str:
    """The factor chart for a web page, laid out in the font the page draws it with."""
    return inline_svg(factor_spread_drawing(levels, font=web_font()), title=title,
                      description=description, element_id=element_id)


#: The trend's plot area inside its picture, the same in the PDF drawing and the web's SVG.
TREND_LEFT, TREND_BOTTOM, TREND_RIGHT_MARGIN, TREND_TOP_MARGIN = 44, 36, 24, 16


def _last_day(points: list[tuple[float, int]]) -> float:
    """The end of the trend's time axis: the last answer's day, at least one day in."""
    return max([day for day, _score in points] + [1])


def _labelled_days(points: list[tuple[float, int]], last_day: float) -> list[float]:
    """The answers' days to label on the time axis, leaving out those that would print on
    top of each other."""
    steps: list[float] = []
    for day in sorted({day for day, _score in points} | {0}):
        if not steps or day - steps[-1] >= last_day / 7:
            steps.append(day)
    return steps


def checkin_trend_drawing(points: list[tuple[float, int]], *, day_label=None,
                          width: float = 480, height: float = 200,
                          font: str = "Helvetica") -> Drawing:
    """A learner's own distress scores (0–10) over time; x is days since the first answer.

    ``day_label`` turns a day number into an axis label (e.g. a local date).
    """
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import String
    from reportlab.graphics.widgets.markers import makeMarker

    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y = TREND_LEFT, TREND_BOTTOM
    plot.width = width - TREND_LEFT - TREND_RIGHT_MARGIN
    plot.height = height - TREND_BOTTOM - TREND_TOP_MARGIN
    plot.data = [list(points) or [(0, 0)]]
    plot.lines[0].strokeColor = BRAND
    plot.lines[0].strokeWidth = 2
    plot.lines[0].symbol = makeMarker("FilledCircle", size=6, fillColor=BRAND,
                                      strokeColor=BRAND)
    last_day = _last_day(points)
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = last_day
    plot.xValueAxis.valueSteps = _labelled_days(points, last_day)
    plot.xValueAxis.labelTextFormat = day_label or (lambda day: f"{day:g}")
    plot.xValueAxis.labels.fontName = font
    plot.xValueAxis.labels.fontSize = 8
    plot.xValueAxis.strokeColor = INK
    plot.yValueAxis.valueMin = 0
    plot.yValueAxis.valueMax = 10
    plot.yValueAxis.valueStep = 2
    plot.yValueAxis.labels.fontName = font
    plot.yValueAxis.labels.fontSize = 8
    plot.yValueAxis.strokeColor = INK
    if not points:
        plot.lines[0].strokeColor = None
        plot.lines[0].symbol = None
    drawing.add(plot)
    axis_label = String(4, plot.y + plot.height + 4, "0–10", fontName=font, fontSize=8,
                        fillColor=INK)
    drawing.add(axis_label)
    return drawing


def _svg_colour(colour) -> str:
    return "#" + colour.hexval()[2:]


def checkin_trend_svg(points: list[tuple[float, int]], *, day_label, title: str,
                      description: str, element_id: str, width: float = 480,
                      height: float = 200) -> str:
    """The distress trend of ``checkin_trend_drawing`` as SVG markup written directly: the
    same plot area, axes, labels, line and dots, for a web page.

    reportlab's SVG renderer builds the picture as a DOM first and costs several
    milliseconds a chart, most of the learner's timeline; the browser needs only the shapes.
    Labels are escaped; the chart carries the same title and description for assistive
    technology as ``inline_svg`` gives the others.
    """
    left, bottom = TREND_LEFT, height - TREND_BOTTOM
    plot_width = width - TREND_LEFT - TREND_RIGHT_MARGIN
    plot_height = height - TREND_BOTTOM - TREND_TOP_MARGIN
    last_day = _last_day(points)

    def x(day: float) -> float:
        return round(left + plot_width * day / last_day, 2)

    def y(score: float) -> float:
        return round(bottom - plot_height * score / 10, 2)

    ink, brand = _svg_colour(INK), _svg_colour(BRAND)
    parts = [
        f'<svg role="img" aria-labelledby="{element_id}-title {element_id}-desc" '
        f'class="chart" id="{element_id}" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<desc id="{element_id}-desc">{escape(description)}</desc>',
        f'<g font-family="DejaVu Sans, sans-serif" font-size="8" fill="{ink}" '
        f'stroke="{ink}" stroke-width="1">',
        f'<line x1="{left}" y1="{bottom}" x2="{x(last_day)}" y2="{bottom}"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{left}" y2="{y(10)}"/>',
    ]
    for day in _labelled_days(points, last_day):
        parts.append(f'<line x1="{x(day)}" y1="{bottom}" x2="{x(day)}" y2="{bottom + 5}"/>')
        parts.append(f'<text x="{x(day)}" y="{bottom + 15}" text-anchor="middle" '
                     f'stroke="none">{escape(day_label(day))}</text>')
    for score in range(0, 11, 2):
        parts.append(f'<line x1="{left}" y1="{y(score)}" x2="{left - 5}" y2="{y(score)}"/>')
        parts.append(f'<text x="{left - 7}" y="{y(score) + 3}" text-anchor="end" '
                     f'stroke="none">{score}</text>')
    parts.append(f'<text x="4" y="{TREND_TOP_MARGIN - 4}" stroke="none">0–10</text></g>')
    if points:
        line = " ".join(f"{x(day)},{y(score)}" for day, score in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{brand}" '
                     'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>')
        parts.append(f'<g fill="{brand}">' + "".join(
            f'<circle cx="{x(day)}" cy="{y(score)}" r="3"/>' for day, score in points)
            + "</g>")
    parts.append("</svg>")
    return "".join(parts)
