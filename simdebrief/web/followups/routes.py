"""Follow-ups: the stage form (by signed link or logged in), the learner's timeline and
choices, tracks they start, instructors' completion counts, and the admin's plans and
figures.

A signed link opens its own stage and nothing else; every other page needs a login. The
answers are check-ins: visible to the learner alone, like the debrief check-in.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from simdebrief import checkin_options, policy
from simdebrief.clock import current_now
from simdebrief.emails.support import queue_support_notice
from simdebrief.errors import InvalidInput, InvalidState, LinkExpired, LinkInvalid
from simdebrief.extensions import csrf, db
from simdebrief.models import (
    Attendance,
    EventTrack,
    FollowUp,
    FollowUpPlan,
    FollowUpStatus,
    OffsetUnit,
    PlanKind,
    PreferenceState,
    SessionParticipant,
    SessionStatus,
    SimSession,
    SupporterTier,
    TrackKind,
    TrackStatus,
)
from simdebrief.reports.charts import checkin_trend_drawing, inline_svg
from simdebrief.services import checkins, group_figures, support
from simdebrief.services.followups import (
    answers,
    figures,
    learner_choices,
    plan_versions,
    stage_catalogue,
    stage_rows,
)
from simdebrief.timefmt import local_text
from simdebrief.web import public
from simdebrief.web.followups.forms import (
    ChoiceForm,
    EndTrackForm,
    PlanForm,
    TrackForm,
    stage_answers,
    stage_form,
)
from simdebrief.web.forms import apply_service_errors, choices, form_status
from simdebrief.web.learner.forms import SkipForm, SupportRequestForm
from simdebrief.web.navigation import TIER_HINTS

bp = Blueprint("followups", __name__)
learners_only = policy.role_required(policy.may_follow_up)
teachers_only = policy.role_required(policy.may_see_followup_completion)
plan_admins_only = policy.role_required(policy.may_manage_followup_plans)
analytics_only = policy.role_required(policy.may_view_followup_analytics)

#: How each state of a stage reads to the learner.
LEARNER_STATUS = {
    FollowUpStatus.SCHEDULED: _l("Coming"),
    FollowUpStatus.CLAIMED: _l("On its way"),
    FollowUpStatus.SENT: _l("Open: answer now"),
    FollowUpStatus.COMPLETED: _l("Answered"),
    FollowUpStatus.EXPIRED: _l("Closed without an answer"),
    FollowUpStatus.PAUSED: _l("Paused"),
    FollowUpStatus.STOPPED: _l("Stopped"),
    FollowUpStatus.SKIPPED: _l("Not sent"),
}
STATE_TEXT = {
    PreferenceState.ACTIVE: _l("Your follow-ups are on."),
    PreferenceState.PAUSED: _l("Your follow-ups are paused. Nothing is sent until you resume."),
    PreferenceState.STOPPED: _l("Your follow-ups are stopped. Nothing more is sent unless you "
                                "turn them back on."),
}
CHOICE_DONE = {
    "pause": _l("Follow-ups are paused. Nothing more is sent until you resume them."),
    "resume": _l("Follow-ups are back on."),
    "stop": _l("Follow-ups are stopped. Nothing more is sent. You can turn them back on at "
               "any time from your follow-ups page."),
}
CHOICE_NAMES = {"pause": _l("Paused"), "resume": _l("Resumed"), "stop": _l("Stopped")}


def _zone() -> str:
    return current_user.centre.timezone


def template_context() -> dict:
    return {"learner_status": LEARNER_STATUS, "question_of": stage_catalogue.question,
            "content_title": lambda code: stage_catalogue.label_of(stage_catalogue.CONTENT, code),
            "part_name": lambda code: stage_catalogue.label_of(stage_catalogue.PARTS, code),
            "question_label": lambda code: getattr(stage_catalogue.question(code), "label", code),
            "unit_name": lambda unit: stage_catalogue.UNIT_NAMES[OffsetUnit(unit)],
            "plan_kind_name": lambda kind: stage_catalogue.PLAN_KIND_NAMES[PlanKind(kind)],
            "options": checkin_options}


# --- the stage form ------------------------------------------------------------------------------


def _answers(form) -> checkins.Answers:
    def data(name, default):
        field = form._fields.get(name)
        return field.data if field is not None and field.data is not None else default

    return checkins.Answers(
        distress=data("distress", None), symptoms=tuple(data("symptoms", ())),
        coping=tuple(data("coping", ())), support_wanted=tuple(data("support_wanted", ())),
        free_text=data("free_text", "") or "")


def _handle_stage_post(followup: FollowUp, form, skip_form, now: datetime):
    """Save or skip; returns the saved check-in, or None with the form's errors filled in."""
    if skip_form.skip.data:
        if not skip_form.validate_on_submit():
            form.form_errors.append(_("The form expired or was sent twice. Please try again."))
            return None
        return answers.skip_stage(db.session, followup=followup, now=now)
    if not form.validate_on_submit():
        return None
    try:
        return answers.complete_stage(db.session, followup=followup, answers=_answers(form),
                                        stage_answers=stage_answers(form), now=now)
    except InvalidInput as error:
        db.session.rollback()
        apply_service_errors(form, error)
        return None


def _render_stage(followup: FollowUp, form, skip_form, *, token: str | None, status: int):
    return render_template(
        "followups/stage.html", followup=followup, form=form, skip_form=skip_form,
        choice_form=ChoiceForm(), token=token, centre=followup.centre,
        state=stage_rows.state_of(db.session, followup.user),
        **template_context()), status


def _link_problem(expired: bool, *, other_account: bool = False):
    code = 410 if expired else 404
    return render_template("followups/link_problem.html", expired=expired,
                           other_account=other_account), code


def _from_link(token: str) -> FollowUp:
    followup = answers.read_link_token(db.session, token,
                                         secret_key=current_app.config["SECRET_KEY"],
                                         now=current_now())
    if current_user.is_authenticated and current_user.id != followup.user_id:
        # A link forwarded, or a shared computer: never mix two people's answers.
        raise _OtherAccount()
    return followup


class _OtherAccount(Exception):
    pass


def _link_guard(view):
    from functools import wraps

    @wraps(view)
    def wrapped(token: str, *args, **kwargs):
        # The page holds a live link and a learner's check-in: never kept by a cache.
        g.no_store = True
        try:
            followup = _from_link(token)
        except LinkExpired:
            return _link_problem(True)
        except LinkInvalid:
            return _link_problem(False)
        except _OtherAccount:
            return _link_problem(False, other_account=True)
        return view(followup, token, *args, **kwargs)

    return wrapped


@bp.route("/f/<token>", methods=["GET", "POST"])
@public
@_link_guard
def stage_by_link(followup: FollowUp, token: str):
    """The stage's form, opened from the email without a password: this stage only.

    Once answered, the link says so and does nothing else: asking for a conversation or
    changing follow-ups then needs a login (the email's stop link still works)."""
    if answers.is_answered(followup):
        offer = session.pop("followup_offer", None) == followup.id
        return render_template("followups/done.html", followup=followup, offer=offer,
                               centre=followup.centre,
                               skipped=followup.status is FollowUpStatus.SKIPPED,
                               **template_context())
    now = current_now()
    form, skip_form = stage_form(followup.stage), SkipForm()
    if request.method == "POST":
        try:
            checkin = _handle_stage_post(followup, form, skip_form, now)
        except InvalidState as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("followups.stage_by_link", token=token))
        if checkin is not None:
            db.session.commit()
            if checkins.needs_offer(checkin, followup.centre):
                session["followup_offer"] = followup.id
            return redirect(url_for("followups.stage_by_link", token=token))
    return _render_stage(followup, form, skip_form, token=token,
                         status=form_status())


@bp.post("/f/<token>/choice")
@public
@_link_guard
def link_choice(followup: FollowUp, token: str):
    """Pause or stop every follow-up from the email's page, with no login and no reason.
    Only while the stage is open; an answered stage's link changes nothing."""
    if not answers.is_answerable(followup, current_now()):
        return redirect(url_for("followups.stage_by_link", token=token), 303)
    form = ChoiceForm()
    if not form.validate_on_submit():
        abort(400)
    learner_choices.set_choice(db.session, user=followup.user, action=form.action.data,
                         now=current_now(), via="link")
    db.session.commit()
    flash(str(CHOICE_DONE[form.action.data]), "success")
    return redirect(url_for("followups.stage_by_link", token=token))


@bp.route("/f/<token>/talk", methods=["GET", "POST"])
@public
@_link_guard
def link_support(followup: FollowUp, token: str):
    """Ask for a conversation from an open stage's page. Once the stage is answered the link
    asks nothing more: sharing an answer needs a login, so a forwarded email cannot."""
    if not answers.is_answerable(followup, current_now()):
        return redirect(url_for("followups.stage_by_link", token=token), 303)
    checkin = None
    form = SupportRequestForm()
    if request.method == "GET" and request.args.get("tier") in (
            SupporterTier.PEER.value, SupporterTier.PROFESSIONAL.value):
        form.tier.data = request.args["tier"]
    if form.validate_on_submit():
        now = current_now()
        try:
            created = support.create_request(
                db.session, learner=followup.user, tier=SupporterTier(form.tier.data),
                sim_session=followup.session,
                checkin=checkin if form.share_checkin.data else None,
                message=form.message.data or "",
                instructors_informed=form.instructors_informed.data, now=now)
        except InvalidInput as error:
            db.session.rollback()
            apply_service_errors(form, error)
        else:
            queue_support_notice(created, now)
            db.session.commit()
            return render_template("followups/talk_sent.html", followup=followup,
                                   token=token, centre=followup.centre)
    return render_template("followups/talk.html", followup=followup, token=token, form=form,
                           checkin=checkin, tier_hints=TIER_HINTS,
                           centre=followup.centre), form_status()


@bp.route("/f/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
def unsubscribe(token: str):
    """RFC 8058 one-click unsubscribe: a POST (from the mailbox provider, or the button of
    this page) stops follow-ups at once; a GET only asks. The signed token is the whole
    authority and can do nothing but stop, so this one view needs neither login nor CSRF."""
    g.no_store = True
    now = current_now()
    try:
        learner = answers.read_unsubscribe_token(
            db.session, token, secret_key=current_app.config["SECRET_KEY"], now=now)
    except LinkExpired:
        return render_template("followups/unsubscribe.html", problem="expired"), 410
    except LinkInvalid:
        return render_template("followups/unsubscribe.html", problem="invalid"), 404
    if request.method == "POST":
        learner_choices.set_choice(db.session, user=learner, action="stop", now=now,
                                   via="unsubscribe")
        db.session.commit()
        return render_template("followups/unsubscribe.html", done=True)
    return render_template("followups/unsubscribe.html", done=False,
                           stopped=stage_rows.state_of(db.session, learner)
                           is PreferenceState.STOPPED)


# --- the learner's own pages ---------------------------------------------------------------------


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
    labels = {round(day, 3): local_text(moment, zone, "d MMM")
              for (day, _s), (moment, _t) in zip(days, points, strict=True)}
    drawing = checkin_trend_drawing(
        days, day_label=lambda day: labels.get(round(day, 3), ""))
    summary = "; ".join(f"{local_text(moment, zone, 'd MMM y')}: {score}"
                        for moment, score in points)
    return inline_svg(drawing, title=_("Your distress scores over time (0–10)"),
                      description=summary, element_id="distress-trend")


@bp.get("/me/follow-ups")
@learners_only
def mine():
    now = current_now()
    points = answers.distress_points(db.session, current_user)
    preference = stage_rows.preference_of(db.session, current_user)
    return render_template(
        "followups/mine.html", groups=answers.timeline_of(db.session, current_user),
        state=preference.state if preference else PreferenceState.ACTIVE,
        preference=preference, choice_form=ChoiceForm(), now=now,
        history=learner_choices.choices_of(db.session, current_user)[:10],
        choice_names=CHOICE_NAMES, state_text=STATE_TEXT,
        trend=_trend(points, _zone()), points=points,
        tracks=learner_choices.tracks_of(db.session, current_user), **template_context())


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
            checkin = _handle_stage_post(followup, form, skip_form, now)
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
    return _render_stage(followup, form, skip_form, token=None,
                         status=form_status())


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
        + [(str(s.id), f"{s.title} ({local_text(s.starts_at, _zone(), 'd MMM y')})")
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


# --- instructors ---------------------------------------------------------------------------------


@bp.get("/follow-ups/sessions")
@teachers_only
def completion():
    sessions = [s for s in figures.sessions_with_followups_taught_by(db.session, current_user)
                if policy.may_see_session_followups(current_user, s)]
    return render_template(
        "followups/completion.html",
        rows=[(s, figures.completion_for_session(db.session, s)) for s in sessions],
        **template_context())


# --- admins: plans and figures -------------------------------------------------------------------


@bp.get("/admin/follow-up-plans")
@plan_admins_only
def plans():
    now = current_now()
    plan_versions.ensure_plans(db.session, current_user.centre, now)
    db.session.commit()
    every = plan_versions.plans_of(db.session, current_user.centre)
    current = [p for p in every if p.is_current]
    older = {kind: [p for p in every if p.kind is kind and not p.is_current]
             for kind in PlanKind}
    return render_template("followups/plans.html", current=current, older=older,
                           **template_context())


def _stage_inputs(form: PlanForm) -> tuple[list[plan_versions.StageInput], list[str]]:
    stages, problems = [], []
    for row in form.stages:
        data = row.form
        if data.remove.data or (not data.key.data and not data.title.data):
            continue
        missing = [str(field.label.text) for field in (data.offset_amount, data.send_hour,
                                                       data.window_days,
                                                       data.expires_after_days)
                   if field.data is None]
        if missing:
            problems.append(_("Stage “%(name)s”: fill in %(fields)s.",
                              name=data.title.data or data.key.data,
                              fields=", ".join(missing)))
            continue
        stages.append(plan_versions.StageInput(
            key=data.key.data or "", title=data.title.data or "",
            offset_amount=data.offset_amount.data,
            offset_unit=OffsetUnit(data.offset_unit.data)
            if data.offset_unit.data in {u.value for u in OffsetUnit} else OffsetUnit.DAYS,
            window_days=data.window_days.data, parts=tuple(data.parts.data or ()),
            questions=tuple(data.questions.data or ()), content=tuple(data.content.data or ()),
            reminder_after_days=data.reminder_after_days.data,
            expires_after_days=data.expires_after_days.data, send_hour=data.send_hour.data))
    return stages, problems


@bp.route("/admin/follow-up-plans/<int:plan_id>/edit", methods=["GET", "POST"])
@plan_admins_only
def edit_plan(plan_id: int):
    plan = policy.require_object(db.session.get(FollowUpPlan, plan_id),
                                 lambda p: policy.may_edit_followup_plan(current_user, p))
    if not plan.is_current:
        flash(_("That is an older version. You are editing the current one."), "info")
        current = plan_versions.current_plan(db.session, current_user.centre, plan.kind,
                                         current_now())
        return redirect(url_for("followups.edit_plan", plan_id=current.id))
    if request.method == "GET":
        form = PlanForm(data={
            "name": plan.name, "description": plan.description,
            "stages": [_stage_data(stage) for stage in plan.stages] + [{}]})
    else:
        form = PlanForm()
    if form.validate_on_submit():
        stages, problems = _stage_inputs(form)
        if problems:
            form.form_errors.extend(problems)
        else:
            try:
                change = plan_versions.revise_plan(
                    db.session, plan=plan, actor=current_user, name=form.name.data,
                    description=form.description.data or "", stages=stages,
                    apply_to_unsent=form.apply_to_unsent.data, now=current_now())
            except InvalidInput as error:
                db.session.rollback()
                plan = db.session.get(FollowUpPlan, plan_id)
                apply_service_errors(form, error)
            else:
                db.session.commit()
                if form.apply_to_unsent.data:
                    flash(_("Saved as version %(version)d. %(moved)d scheduled stages now "
                            "follow it, %(dropped)d were skipped and %(added)d added.",
                            version=change.plan.version, moved=change.moved,
                            dropped=change.dropped, added=change.added), "success")
                else:
                    flash(_("Saved as version %(version)d. Stages already scheduled keep "
                            "their version.", version=change.plan.version), "success")
                return redirect(url_for("followups.plans"))
    return render_template("followups/plan_edit.html", plan=plan, form=form,
                           **template_context()), form_status()


def _stage_data(stage) -> dict:
    return {"key": stage.key, "title": stage.title, "offset_amount": stage.offset_amount,
            "offset_unit": OffsetUnit(stage.offset_unit).value, "send_hour": stage.send_hour,
            "window_days": stage.window_days, "reminder_after_days": stage.reminder_after_days,
            "expires_after_days": stage.expires_after_days, "parts": list(stage.parts or ()),
            "questions": list(stage.questions or ()), "content": list(stage.content or ())}


@bp.get("/admin/follow-ups")
@analytics_only
def analytics():
    centre = current_user.centre
    now = current_now()
    overdue, weeks = figures.weekly_load(db.session, centre, now)
    return render_template(
        "followups/analytics.html", overdue=overdue, weeks=weeks,
        most=max([w.count for w in weeks] + [1]),
        per_stage=figures.completion_per_stage(db.session, centre),
        per_plan=figures.completion_per_plan(db.session, centre),
        per_cohort=figures.completion_per_cohort(db.session, centre),
        distress=figures.distress_per_stage(db.session, centre, now),
        minimum=group_figures.k_for(centre.min_group_size), **template_context())
