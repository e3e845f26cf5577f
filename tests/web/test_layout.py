"""Small things a learner or instructor sees on every page: icon, scale labels, headings."""

from __future__ import annotations

import re

from reportlab.pdfbase.pdfmetrics import stringWidth

from simdebrief.reports.charts import factor_spread_drawing, factor_spread_svg
from simdebrief.reports.styles import FONT, register_fonts
from tests.conftest import Planning, client_for, seed_people, sync_shipped_library
from tests.web.test_debriefs import finalised, running_session


def test_the_favicon_answers_with_the_apps_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data().startswith(b"<svg")
    icon.close()


def test_every_page_links_the_icon_and_the_phone_layout_script(app, clock):
    people = seed_people(app, clock.now())
    html = client_for(app, people, "student").get("/dashboard").get_data(as_text=True)
    assert 'rel="icon"' in html and "js/layout.js" in html
    assert 'aria-controls="site-menu"' in html and 'id="site-menu"' in html


def test_the_distress_scale_ends_read_as_separate_words(app, clock):
    people = seed_people(app, clock.now())
    versions = sync_shipped_library(app, clock.now())
    session_id = running_session(app, people, Planning(versions, 0, 0, 0), clock)
    html = client_for(app, people, "student").get(
        f"/me/sessions/{session_id}/check-in").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", html)
    assert re.search(r"\b0, no distress", text) and re.search(r"\b10, extreme", text)
    assert not re.search(r"\b0no distress|10extreme", text)


def test_the_feedback_page_names_the_group_section_once(app, clock):
    people = seed_people(app, clock.now())
    versions = sync_shipped_library(app, clock.now())
    session_id = running_session(app, people, Planning(versions, 0, 0, 0), clock)
    instructor = finalised(app, people, session_id)
    html = instructor.get(f"/sessions/{session_id}/debrief/feedback").get_data(as_text=True)
    assert html.count("How the group is doing") == 1


def test_a_session_without_debrief_has_no_dangling_separator(app, clock):
    people = seed_people(app, clock.now())
    versions = sync_shipped_library(app, clock.now())
    session_id = running_session(app, people, Planning(versions, 0, 0, 0), clock)
    html = client_for(app, people, "instructor").get(
        f"/sessions/{session_id}/debrief").get_data(as_text=True)
    header = html[html.index("<h1>"):html.index("</p>", html.index("<h1>"))]
    assert not re.search(r"·\s*$", re.sub(r"<[^>]+>", "", header).strip())


def test_chart_labels_fit_beside_the_bars_in_the_font_they_are_drawn_in():
    register_fonts()
    levels = [("Arbejdsmiljø og organisation og ledelse", 3), ("Institutional context", 0)]
    drawing = factor_spread_drawing(levels, font=FONT)
    label = next(item for item in drawing.contents
                 if getattr(item, "text", "").startswith("Arbejdsmiljø"))
    bar = next(item for item in drawing.contents if type(item).__name__ == "Rect")
    assert label.x - stringWidth(label.text, FONT, 9) >= 0  # nothing cut off on the left
    assert label.x < bar.x  # and nothing drawn over the bars


def test_the_web_chart_is_drawn_in_the_font_it_was_measured_in():
    svg = factor_spread_svg([("Patient", 2)], title="t", description="d", element_id="c")
    assert 'font-family="DejaVu Sans, sans-serif"' in svg and "Helvetica" not in svg
