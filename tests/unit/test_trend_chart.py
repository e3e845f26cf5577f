"""The distress trend written as SVG for web pages: the learner's scores where they belong."""

import re

from simdebrief.reports.charts import checkin_trend_svg


def _circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in
            re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]


def test_each_answer_is_a_dot_placed_by_day_and_score():
    svg = checkin_trend_svg([(0, 2), (7, 9), (14, 0)], day_label=lambda day: f"day {day:g}",
                            title="Scores", description="d", element_id="trend")
    dots = _circles(svg)
    assert len(dots) == 3
    (x0, y0), (x1, y1), (x2, y2) = dots
    assert x0 < x1 < x2 and x1 - x0 == x2 - x1  # evenly spaced days, evenly spaced dots
    assert y1 < y0 < y2  # 9 drawn highest, 0 lowest (SVG's y grows downwards)
    assert "day 7" in svg and "day 14" in svg


def test_labels_and_titles_are_text_never_markup():
    svg = checkin_trend_svg([(0, 5), (3, 6)], day_label=lambda day: "<b>&",
                            title="<script>", description="a < b", element_id="trend")
    assert "<b>" not in svg and "<script>" not in svg
    assert "&lt;b&gt;&amp;" in svg and "&lt;script&gt;" in svg


def test_the_chart_is_labelled_for_assistive_technology_and_keeps_to_the_policy():
    svg = checkin_trend_svg([(0, 5), (3, 6)], day_label=str, title="Your scores",
                            description="1 Nov: 5; 4 Nov: 6", element_id="distress-trend")
    assert svg.startswith('<svg role="img" aria-labelledby="distress-trend-title '
                          'distress-trend-desc"')
    assert '<title id="distress-trend-title">Your scores</title>' in svg
    assert "style=" not in svg  # inline styles are refused by the content security policy


def test_labels_that_would_overlap_are_left_out():
    days = [(float(day), 5) for day in range(0, 30)]
    svg = checkin_trend_svg(days, day_label=lambda day: f"d{day:g}", title="t",
                            description="d", element_id="trend")
    labelled = re.findall(r">d(\d+)</text>", svg)
    assert len(_circles(svg)) == 30
    assert 2 <= len(labelled) <= 8 and labelled[0] == "0"
