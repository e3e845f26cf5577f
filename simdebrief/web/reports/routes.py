"""Feedback documents: the learner's PDF and its accessible web twin, the instructors' summary
and the learner's progress report. Every PDF download is audited."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.extensions import db
from simdebrief.services import learner_sessions, report_data, report_files, reports
from simdebrief.web.reports.forms import DownloadForm

bp = Blueprint("reports", __name__)
own_progress = policy.role_required(policy.may_read_own_progress)


def _finalised(session_id: int):
    """The session and its debrief; 404 for anyone the rule does not let see the session."""
    sim_session = report_data.load_session(db.session, session_id)
    debrief = report_data.load_debrief(db.session, sim_session) if sim_session else None
    return sim_session, debrief


def _learner_document(session_id: int, learner_id: int):
    sim_session, debrief = _finalised(session_id)
    policy.require_object(sim_session, lambda s: policy.may_read_learner_report(
        current_user, s, debrief, learner_id))
    learner = next(p.user for p in sim_session.participants if p.user_id == learner_id)
    return sim_session, debrief, learner


def _pdf(pdf: bytes, filename: str):
    return send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=filename, max_age=0)


@bp.get("/sessions/<int:session_id>/feedback/<int:learner_id>")
def learner_page(session_id: int, learner_id: int):
    """The learner's feedback as an accessible web page, from the same data as the PDF."""
    sim_session, debrief, learner = _learner_document(session_id, learner_id)
    report = reports.learner_report(
        db.session, sim_session=sim_session, debrief=debrief, learner=learner,
        now=current_now(), twin_url=report_files.feedback_url(session_id, learner_id))
    w = report.wording
    from simdebrief.reports.charts import factor_spread_svg  # reportlab, loaded on use

    chart = factor_spread_svg([(level.label, level.count) for level in report.levels],
                              title=w.chart_title, description=w.chart_description,
                              element_id="factor-spread") if report.has_factors else ""
    own = policy.may_include_own_checkin(current_user, learner_id)
    if own:
        learner_sessions.record_feedback_read(db.session, learner=current_user,
                                              sim_session=sim_session, now=current_now())
        db.session.commit()
    return render_template("reports/learner.html", report=report, w=w, chart=chart,
                           sim_session=sim_session, learner_id=learner_id,
                           form=DownloadForm() if own else None)


@bp.get("/sessions/<int:session_id>/feedback/<int:learner_id>.pdf")
def learner_pdf(session_id: int, learner_id: int):
    """Download the learner's PDF; their check-in only when they ask for it themself."""
    sim_session, debrief, learner = _learner_document(session_id, learner_id)
    form = DownloadForm(formdata=request.args)
    include = bool(form.include_checkin.data) and \
        policy.may_include_own_checkin(current_user, learner_id)
    now = current_now()
    report = reports.learner_report(
        db.session, sim_session=sim_session, debrief=debrief, learner=learner, now=now,
        include_checkin=include, twin_url=report_files.feedback_url(session_id, learner_id))
    pdf = report_files.render_learner(report)
    report_files.record_download(db.session, actor=current_user, now=now, document="learner_pdf",
                                 object_type="sim_session", object_id=session_id,
                                 detail=f"learner_id={learner_id} include_checkin={int(include)}")
    db.session.commit()
    return _pdf(pdf, report_files.learner_filename(sim_session, learner))


@bp.get("/sessions/<int:session_id>/summary.pdf")
def summary_pdf(session_id: int):
    """Download the instructors' summary of a finalised debrief."""
    sim_session, debrief = _finalised(session_id)
    policy.require_object(sim_session, lambda s: policy.may_read_session_summary(
        current_user, s, debrief))
    now = current_now()
    pdf = report_files.render_summary(reports.session_summary(
        db.session, sim_session=sim_session, debrief=debrief, now=now))
    report_files.record_download(db.session, actor=current_user, now=now, document="summary_pdf",
                                 object_type="sim_session", object_id=session_id)
    db.session.commit()
    return _pdf(pdf, report_files.summary_filename(sim_session))


def _progress():
    return reports.progress_report(db.session, learner=current_user, now=current_now(),
                                   twin_url=report_files.absolute_url("reports.progress"))


@bp.get("/me/progress")
@own_progress
def progress():
    """The learner's own check-ins over time, with the chart as SVG and a table."""
    report = _progress()
    w = report.wording
    from simdebrief.reports.charts import checkin_trend_svg  # reportlab, on use
    from simdebrief.reports.progress_pdf import progress_series

    chart = ""
    if report.chart_points:
        points, day_label = progress_series(report)
        chart = checkin_trend_svg(points, day_label=day_label, title=w.progress_chart_title,
                                  description=w.progress_chart_description,
                                  element_id="distress-trend", width=560)
    return render_template("reports/progress.html", report=report, w=w, chart=chart)


@bp.get("/me/progress.pdf")
@own_progress
def progress_pdf():
    """Download the learner's progress report."""
    report = _progress()
    pdf = report_files.render_progress(report)
    report_files.record_download(db.session, actor=current_user, now=current_now(),
                                 document="progress_pdf", object_type="user",
                                 object_id=current_user.id)
    db.session.commit()
    return _pdf(pdf, f"check-ins-{report_files.slug(current_user.name)}.pdf")
