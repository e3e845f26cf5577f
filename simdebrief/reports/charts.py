"""Charts drawn once with reportlab.graphics: flowables in PDFs, inline SVG on web pages."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors

BRAND = colors.HexColor("#1f5c99")
INK = colors.HexColor("#1d2433")


def factor_spread_drawing(levels: list[tuple[str, int]], *, width: float = 420,
                          font: str = "Helvetica") -> Drawing:
    """A horizontal bar per London Protocol level: how many contributing factors it holds."""
    row = 22
    height = max(row * len(levels) + 30, 80)
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 170, 20
    chart.width, chart.height = width - chart.x - 20, height - 30
    # Bars are drawn bottom-up; reverse so the first level is at the top as in the table.
    chart.data = [[count for _label, count in reversed(levels)]]
    chart.categoryAxis.categoryNames = [label for label, _count in reversed(levels)]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 9
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -6
    chart.categoryAxis.strokeColor = INK
    most = max([count for _label, count in levels] + [1])
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = most
    chart.valueAxis.valueStep = max(1, round(most / 5))
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.strokeColor = INK
    chart.bars[0].fillColor = BRAND
    chart.bars[0].strokeColor = None
    chart.barSpacing = 2
    drawing.add(chart)
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
    svg = svg.replace('id="clip"', f'id="{element_id}-clip"').replace(
        "url(#clip)", f"url(#{element_id}-clip)").replace('id="group"', "")
    svg = re.sub(r"<title>.*?</title>", f"<title id=\"{element_id}-title\">{escape(title)}"
                 "</title>", svg, count=1, flags=re.S)
    svg = re.sub(r"<desc>.*?</desc>", f"<desc id=\"{element_id}-desc\">{escape(description)}"
                 "</desc>", svg, count=1, flags=re.S)
    return svg.replace(
        "<svg ", f'<svg role="img" aria-labelledby="{element_id}-title {element_id}-desc" '
                 f'class="chart" id="{element_id}" ', 1)
