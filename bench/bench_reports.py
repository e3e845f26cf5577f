"""How fast the feedback PDFs render, against baselines measured in the same run.

Prints, for a learner of the demo centre's finalised debrief:
- the median render time and the page count;
- per page, the ratio to a minimal reportlab document (two headings, four paragraphs, one
  table, built-in fonts); goal: within 4x;
- the ratio of WeasyPrint rendering the same report's HTML twin to our PDF; goal: at least
  10x slower than ours;
and the total time for a 30-learner session (every learner's PDF and the summary, data read
from the database included) on one core; goal: under 1.5 s.

Exits with status 1 when a goal is missed. Run with ``make bench``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simdebrief import create_app  # noqa: E402
from simdebrief.extensions import db  # noqa: E402

LEARNERS = 30
RUNS = 31


def one_core() -> None:
    """Pin the process to one CPU, so the session figure is a one-core figure."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def median_seconds(work, runs: int = RUNS, warmup: int = 3) -> float:
    for _ in range(warmup):
        work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def minimal_document() -> bytes:
    """The baseline: two headings, four paragraphs and one table in built-in fonts."""
    styles = getSampleStyleSheet()
    text = ("A short paragraph of ordinary text that wraps over a few lines, set in one of "
            "the fonts every PDF reader has built in, so nothing needs to be embedded. ") * 2
    buffer = BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title="Baseline").build([
        Paragraph("First heading", styles["Heading1"]), Paragraph(text, styles["BodyText"]),
        Paragraph(text, styles["BodyText"]), Paragraph("Second heading", styles["Heading1"]),
        Paragraph(text, styles["BodyText"]), Paragraph(text, styles["BodyText"]),
        Table([["Level", "Factors"], ["Patient", "1"], ["Team", "3"], ["Task", "2"]]),
    ])
    return buffer.getvalue()


def pages(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)


def make_app(directory: str):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench-secret-key-long-enough-for-the-config-check",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.sqlite3",
        "SIMDEBRIEF_PASSWORD_HASH_PROFILE": "test", "SIMDEBRIEF_SCHEDULER": False,
        "SIMDEBRIEF_SMTP_HOST": None, "SIMDEBRIEF_BASE_URL": "https://sim.example.org",
    })
    with app.app_context():
        db.create_all()
    return app


def demo_learner_report(app, now: datetime):
    """The demo's finalised debrief, as its first learner's document."""
    from sqlalchemy import select

    from simdebrief import scenarios
    from simdebrief.models import SimSession
    from simdebrief.services import demo, library, report_data, report_files, reports

    library.sync_library(db.session, directory=scenarios.default_library_dir(), now=now)
    demo.load_demo(db.session, now=now, timezone="Europe/Copenhagen",
                   library_dir=scenarios.default_library_dir())
    db.session.commit()
    sim_session = report_data.load_session(db.session, db.session.scalar(
        select(SimSession.id).where(SimSession.note == demo.DEMO_SESSIONS[0][0])))
    debrief = report_data.load_debrief(db.session, sim_session)
    learner = next(p.user for p in sim_session.participants
                   if p.user.email == "student@demo.simdebrief.org")
    return reports.learner_report(db.session, sim_session=sim_session, debrief=debrief,
                                  learner=learner, now=now,
                                  twin_url=report_files.feedback_url(sim_session.id, learner.id))


def twin_html(app, report) -> str:
    """The report's accessible web page, as the app serves it (without the site's chrome)."""
    from flask import render_template

    from simdebrief.reports.charts import factor_spread_drawing, inline_svg

    w = report.wording
    chart = inline_svg(factor_spread_drawing([(level.label, level.count)
                                              for level in report.levels]),
                       title=w.chart_title, description=w.chart_description,
                       element_id="factor-spread")
    return render_template("reports/learner.html", report=report, w=w, chart=chart,
                           sim_session=type("S", (), {"id": 1})(), learner_id=1, form=None)


def session_of(now: datetime, size: int) -> int:
    """A finalised session with ``size`` learners, feedback to each and the expected factors."""
    from sqlalchemy import select

    from simdebrief.models import Centre, Role, SimSession, User
    from simdebrief.services import (
        accounts,
        debrief_factors,
        debriefing,
        demo,
        directory,
        scheduling,
    )

    centre = db.session.scalar(select(Centre).where(Centre.name == demo.DEMO_CENTRE))
    instructor = accounts.find_user_by_email(db.session, "instructor@demo.simdebrief.org")
    learners = [accounts.create_user(
        db.session, centre=centre, now=now, password="bench password for learners",
        data=accounts.NewUser(f"learner{n}@bench.example.org",
                              f"Læring Åsa Øster {n}", Role.STUDENT)) for n in range(size)]
    room = directory.create_room(db.session, centre=centre, name="Bench hall", capacity=60)
    version = db.session.scalar(select(SimSession.scenario_version_id).limit(1))
    change = scheduling.schedule_session(
        db.session, centre=centre, actor=instructor, now=now, confirmed=True,
        plan=scheduling.SessionPlan(
            scenario_version_id=version, starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=4), room_id=room.id,
            instructor_ids=(instructor.id,), student_ids=tuple(u.id for u in learners)))
    sim_session = change.session
    scheduling.start_session(db.session, sim_session=sim_session, actor=instructor,
                             present_ids={u.id for u in learners}, now=now)
    debrief = debriefing.start_debrief(db.session, sim_session=sim_session, actor=instructor,
                                       now=now)
    debrief.take_home_messages = ("Say your worry out loud.\nRepeat the observations.\n"
                                  "Feeling shaken afterwards is normal.")
    debrief_factors.suggest_expected_factors(db.session, debrief=debrief, actor=instructor, now=now)
    for kind, text in (("plus", "Compressions started within a minute."),
                       ("delta", "Nobody said the early warning score out loud.")):
        debrief_factors.add_analysis_item(
            db.session, debrief=debrief, actor=instructor, now=now,
            data=debrief_factors.AnalysisInput(kind, "communication", "self_assessment", text))
    for learner in learners:
        debriefing.save_feedback(
            db.session, debrief=debrief, learner=db.session.get(User, learner.id),
            actor=instructor, now=now, data=debriefing.FeedbackInput(
                "You stayed with the patient and kept the team informed.",
                "Ask for help a little earlier.", "Lead one more arrest scenario this term."))
    debriefing.finalise(db.session, debrief=debrief, actor=instructor, now=now)
    db.session.commit()
    return sim_session.id


def main() -> int:
    one_core()
    now = datetime.now(UTC).replace(microsecond=0)
    from weasyprint import CSS, HTML

    from simdebrief.services import report_data, report_files

    with tempfile.TemporaryDirectory() as directory:
        app = make_app(directory)
        with app.test_request_context("/", base_url="https://sim.example.org"):
            report = demo_learner_report(app, now)
            html = twin_html(app, report)
            session_id = session_of(now, LEARNERS)

            learner_pdf = report_files.render_learner(report)
            learner_pages = pages(learner_pdf)
            ours = median_seconds(lambda: report_files.render_learner(report))
            baseline_pdf = minimal_document()
            baseline_pages = pages(baseline_pdf)
            baseline = median_seconds(minimal_document)
            per_page_ratio = (ours / learner_pages) / (baseline / baseline_pages)

            stylesheet = CSS(filename=str(ROOT / "simdebrief/static/css/app.css"))
            page_html = html.replace('href="/static/css/app.css"', "")

            def weasy() -> bytes:
                return HTML(string=page_html, base_url=str(ROOT)).write_pdf(
                    stylesheets=[stylesheet])

            weasy_pages = pages(weasy())
            peer = median_seconds(weasy, runs=5, warmup=1)
            peer_ratio = peer / ours

            def whole_session() -> int:
                db.session.expire_all()
                sim_session = report_data.load_session(db.session, session_id)
                debrief = report_data.load_debrief(db.session, sim_session)
                documents = report_files.render_session_documents(
                    db.session, sim_session=sim_session, debrief=debrief, now=now)
                return sum(len(pdf) for _name, pdf in documents)

            whole_session()
            session_times = []
            for _ in range(5):
                start = time.perf_counter()
                whole_session()
                session_times.append(time.perf_counter() - start)
            session_total = statistics.median(session_times)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    goals = [
        ("per page within 4x the minimal document", per_page_ratio <= 4),
        ("at least 10x faster than WeasyPrint", peer_ratio >= 10),
        (f"{LEARNERS}-learner session under 1.5 s on one core", session_total < 1.5),
    ]
    print(f"demo learner PDF: {ours * 1000:.1f} ms median over {RUNS} runs, "
          f"{learner_pages} pages, {len(learner_pdf) / 1024:.0f} KiB")
    print(f"minimal reportlab document: {baseline * 1000:.1f} ms, {baseline_pages} page(s)")
    print(f"per page: {ours / learner_pages * 1000:.1f} ms vs "
          f"{baseline / baseline_pages * 1000:.1f} ms -> {per_page_ratio:.2f}x")
    print(f"WeasyPrint, same report's HTML twin: {peer * 1000:.0f} ms, {weasy_pages} pages -> "
          f"ours is {peer_ratio:.1f}x faster")
    print(f"{LEARNERS}-learner session, {LEARNERS} PDFs + summary, data included: "
          f"{session_total * 1000:.0f} ms (median of 5, one core)")
    for goal, met in goals:
        print(f"  {'met   ' if met else 'MISSED'} {goal}")
    return 0 if all(met for _goal, met in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
