"""The learner's own follow-up pages: timeline, a stage, choices and tracks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Attendance,
    EventTrack,
    FollowUp,
    FollowUpStatus,
    PreferenceState,
    SessionParticipant,
    SessionStatus,
    SimSession,
    TrackKind,
    TrackStatus,
)
from simdebrief.services.followups import (
    answers,
    conversations,
    learner_choices,
    stage_rows,
)
from simdebrief.timefmt import local_text, moment_writer
from simdebrief.web import paging
from simdebrief.web.followups.forms import (
    ChoiceForm,
    EndTrackForm,
    TrackForm,
    stage_form,
)
from simdebrief.web.followups.routes import (
    CHOICE_DONE,
    CHOICE_NAMES,
    LEARNER_STATUS,
    STATE_TEXT,
    _zone,
    bp,
    conversation_of,
    handle_stage_post,
    learners_only,
    render_stage,
    template_context,
)
from simdebrief.web.forms import EmptyForm, apply_service_errors, choices, form_status
from simdebrief.web.ids import page_number
from simdebrief.web.learner.forms import SkipForm
from simdebrief.web.url_rules import id_links

#: The learner's latest choices listed under their timeline.
CHOICES_SHOWN = 10


def _own_followup(followup_id: int) -> FollowUp:
    return policy.require_object(db.session.get(FollowUp, followup_id),
                                 lambda f: policy.may_answer_followup(current_user, f))


def _own_track(track_id: int) -> EventTrack:
    return policy.require_object(db.session.get(EventTrack, track_id),
                                 lambda t: policy.may_view_track(current_user, t))


def _trend(points: list[tuple[datetime, int]], zone: str) -> str | None:
    if len(points) < 2:
        return None
    first = points[0][0]
    days = [((moment - first).total_seconds() / 86400, score) for moment, score in points]
    labels = {round(day, 3): local_text(moment, zone, "day_month")
              for (day, _s), (moment, _t) in zip(days, points, strict=True)}
    from simdebrief.reports.charts import checkin_trend_svg

    summary = "; ".join(f"{local_text(moment, zone, 'date')}: {score}"
                        for moment, score in points)
    return checkin_trend_svg(days, day_label=lambda day: labels.get(round(day, 3), ""),
                             title=_("Your distress scores over time (0–10)"),
                             description=summary, element_id="distress-trend")


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """A stage's row on the timeline, its texts written here: the template only places them.
    A page has some thirty rows, and a template spends several times Python's work on each
    lookup, comparison and call it makes for a row."""
    stage: answers.TimelineStage
    title: str
    when: str
    status: str
    #: "Answer" (a button) while the stage is open, "Your answers" once answered, else None.
    action: str | None
    link: str | None
    button: bool
    talk: dict | None


def timeline_rows(groups: list[answers.TimelineGroup], now: datetime, zone: str,
                  tasks: dict) -> list[tuple[answers.TimelineGroup, list[TimelineRow]]]:
    """Each group of the page with its rows; ``tasks`` are the page's conversation tasks."""
    when = moment_writer(zone)
    until = moment_writer(zone, "day_month_time")
    status_names = {status: str(text) for status, text in LEARNER_STATUS.items()}
    answer, your_answers = _("Answer"), _("Your answers")
    stage_link = id_links("followups.stage", "followup_id")
    page = []
    for group in groups:
        rows = []
        for stage in group.followups:
            status = status_names[stage.status]
            action, button = None, False
            if stage.status is FollowUpStatus.SENT:
                status = f"{status} ({_('until %(when)s', when=until(stage.expires_at))})"
                if stage.expires_at > now:
                    action, button = answer, True
            elif stage.status is FollowUpStatus.COMPLETED and stage.checkin_id:
                action = your_answers
            rows.append(TimelineRow(stage, stage.stage.title, when(stage.sent_at or stage.due_at),
                                    status, action, stage_link(stage.id) if action else None,
                                    button, conversation_of(stage, tasks)))
        page.append((group, rows))
    return page


@bp.get("/me/follow-ups")
@learners_only
def mine():
    now = current_now()
    zone = _zone()
    points = answers.distress_points(db.session, current_user)
    preference, history = learner_choices.preference_and_choices(db.session, current_user,
                                                                 limit=CHOICES_SHOWN)
    page = page_number()
    groups, has_more = answers.timeline_of(db.session, current_user, page=page)
    # The page's conversation tasks in one query, however many of its stages have one.
    tasks = conversations.task_requests_of(db.session, [
        followup.id for group in groups for followup in group.followups
        if followup.conversation_state == conversations.TASK])
    return render_template(
        "followups/mine.html", groups=timeline_rows(groups, now, zone, tasks),
        timeline=paging.Window(groups, page, has_more),
        state=preference.state if preference else PreferenceState.ACTIVE,
        preference=preference, choice_form=ChoiceForm(), now=now,
        history=history,
        choice_names=CHOICE_NAMES, state_text=STATE_TEXT,
        trend=_trend(points, zone), points=points, zone=zone, **template_context())


@bp.route("/me/follow-ups/<int:followup_id>", methods=["GET", "POST"])
@learners_only
def stage(followup_id: int):
    followup = _own_followup(followup_id)
    if followup.status in (FollowUpStatus.COMPLETED, FollowUpStatus.SKIPPED) \
            and followup.checkin_id:
        checkin = answers.answered_checkin(db.session, followup)
        return render_template("followups/answered.html", followup=followup, checkin=checkin,
                               stage_answers=(checkin.payload or {}).get("stage", {}),
                               centre=followup.centre, **template_context())
    now = current_now()
    if not answers.is_answerable(followup, now):
        return render_template("followups/not_open.html", followup=followup,
                               **template_context()), 409
    form, skip_form = stage_form(followup.stage), SkipForm()
    if request.method == "POST":
        try:
            checkin = handle_stage_post(followup, form, skip_form, now)
        except InvalidState as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("followups.mine"))
        if checkin is not None:
            db.session.commit()
            if checkin.skipped:
                flash(_("Skipped. No questions asked."), "success")
                return redirect(url_for("followups.mine"))
            return redirect(url_for("learner.check_in_detail", checkin_id=checkin.id, saved=1))
    return render_stage(followup, form, skip_form, token=None,
                        status=form_status())


@bp.post("/me/follow-ups/<int:followup_id>/conversation/decline")
@learners_only
def decline_conversation(followup_id: int):
    """One click, no reason asked: no conversation for this stage."""
    followup = _own_followup(followup_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    conversations.decline(db.session, followup=followup, now=current_now())
    db.session.commit()
    flash(_("No conversation then. You can still ask for one at any time."), "success")
    return redirect(url_for("followups.mine"))


@bp.post("/me/follow-ups/choice")
@learners_only
def choose():
    form = ChoiceForm()
    if not form.validate_on_submit():
        abort(400)
    learner_choices.set_choice(db.session, user=current_user, action=form.action.data,
                               now=current_now())
    db.session.commit()
    flash(str(CHOICE_DONE[form.action.data]), "success")
    # The same buttons sit on the learner's session page: go back where the click came from.
    session_id = request.args.get("session", type=int)
    if session_id is not None and 0 < session_id < 2**63:
        return redirect(url_for("sessions.detail", session_id=session_id))
    return redirect(url_for("followups.mine"))


def _attended_sessions() -> list[SimSession]:
    return list(db.session.scalars(
        select(SimSession).join(SessionParticipant)
        .where(SessionParticipant.user_id == current_user.id,
               SessionParticipant.attendance == Attendance.PRESENT,
               SimSession.status.in_((SessionStatus.IN_PROGRESS, SessionStatus.DEBRIEFED)))
        .order_by(SimSession.starts_at.desc())))


@bp.route("/me/follow-ups/tracks/new", methods=["GET", "POST"])
@learners_only
def start_track():
    sessions = _attended_sessions()
    form = TrackForm()
    form.session_id.choices = choices(
        [("", _("None"))]
        + [(str(s.id), f"{s.title} ({local_text(s.starts_at, _zone(), 'date')})")
           for s in sessions])
    if request.method == "GET" and request.args.get("kind") in {k.value for k in TrackKind}:
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        related = None
        if form.session_id.data:
            related = next((s for s in sessions if str(s.id) == form.session_id.data), None)
            if related is None:
                form.session_id.errors = [_("Choose a session you took part in.")]
        if related is not None or not form.session_id.data:
            try:
                track = learner_choices.start_track(db.session, user=current_user,
                                                    kind=form.kind.data, now=current_now(),
                                                    related_session=related)
            except (InvalidInput, InvalidState) as error:
                db.session.rollback()
                if isinstance(error, InvalidInput):
                    apply_service_errors(form, error)
                else:
                    form.form_errors.append(str(error))
            else:
                db.session.commit()
                flash(_("Started. Your first check-in of this track will come by email."),
                      "success")
                return redirect(url_for("followups.track", track_id=track.id))
    return render_template("followups/start_track.html", form=form,
                           state=stage_rows.state_of(db.session, current_user),
                           **template_context()), form_status()


@bp.get("/me/follow-ups/tracks/<int:track_id>")
@learners_only
def track(track_id: int):
    event_track = _own_track(track_id)
    rows = list(db.session.scalars(select(FollowUp).where(FollowUp.track_id == event_track.id)
                                   .order_by(FollowUp.due_at)))
    return render_template("followups/track.html", track=event_track, followups=rows,
                           end_form=EndTrackForm(), now=current_now(),
                           track_name=answers.TRACK_NAMES[event_track.kind],
                           active=event_track.status is TrackStatus.ACTIVE,
                           **template_context())


@bp.post("/me/follow-ups/tracks/<int:track_id>/end")
@learners_only
def end_track(track_id: int):
    event_track = _own_track(track_id)
    if not EndTrackForm().validate_on_submit():
        abort(400)
    learner_choices.end_track(db.session, track=event_track, user=current_user, now=current_now())
    db.session.commit()
    flash(_("The track has ended. No more check-ins come from it."), "success")
    return redirect(url_for("followups.mine"))
