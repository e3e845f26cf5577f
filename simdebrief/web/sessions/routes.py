"""Planning and running simulation sessions."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, bindparam, func, select

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Cohort,
    Role,
    Room,
    ScenarioVersion,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
    session_instructor,
)
from simdebrief.scenario_translations import current_language
from simdebrief.services import (
    checkins,
    debriefing,
    learner_sessions,
    library,
    report_data,
    scheduling,
)
from simdebrief.services.followups import stage_rows
from simdebrief.timefmt import NonexistentLocalTime, local_to_utc, to_local
from simdebrief.web import paging
from simdebrief.web.followups.forms import ChoiceForm
from simdebrief.web.forms import EmptyForm, apply_service_errors, choices, form_status
from simdebrief.web.ids import query_int
from simdebrief.web.loaders import visible_session
from simdebrief.web.sessions import filters
from simdebrief.web.sessions.forms import AttendanceForm, CancelForm, SessionForm

bp = Blueprint("sessions", __name__)
planners_only = policy.role_required(policy.may_plan_sessions)
PAGE_SIZE = 30


def _fill_choices(form: SessionForm, sim_session: SimSession | None = None) -> None:
    centre_id = current_user.centre_id
    versions = [s.current_version for s in library.active_scenarios(db.session)]
    if sim_session is not None and sim_session.scenario_version not in versions:
        versions.insert(0, sim_session.scenario_version)
    form.scenario_version_id.choices = choices(
        [(0, _("Choose a scenario"))] + [(v.id, v.label) for v in
                                         sorted(versions, key=lambda v: v.display_title)])
    rooms = db.session.scalars(select(Room).where(Room.centre_id == centre_id).order_by(Room.name))
    form.room_id.choices = choices([(0, _("Choose a room"))] + [
        (r.id, _("%(name)s (%(capacity)d people)", name=r.name, capacity=r.capacity))
        for r in rooms if r.is_active or (sim_session and sim_session.room_id == r.id)])
    people = db.session.scalars(
        select(User).where(User.centre_id == centre_id, User.is_active_account.is_(True),
                           User.role.in_([Role.INSTRUCTOR, Role.ADMIN, Role.STUDENT]))
        .order_by(func.lower(User.name))).all()
    form.instructor_ids.choices = choices(
        [(u.id, u.name) for u in people if u.role in (Role.INSTRUCTOR, Role.ADMIN)])
    form.student_ids.choices = choices(
        [(u.id, f"{u.name} ({u.email})") for u in people if u.role is Role.STUDENT])
    cohort_rows = db.session.execute(
        select(Cohort, func.count(User.id)).join(Cohort.students, isouter=True)
        .where(Cohort.centre_id == centre_id).group_by(Cohort.id).order_by(Cohort.name)).all()
    form.cohort_ids.choices = choices(
        [(c.id, _("%(name)s (%(count)d students)", name=c.name, count=n))
         for c, n in cohort_rows])


def _plan_from(form: SessionForm) -> scheduling.SessionPlan:
    zone = current_user.centre.timezone
    errors: dict[str, list[str]] = {}
    starts_at = ends_at = None
    for name, value in (("start_time", form.start_time.data), ("end_time", form.end_time.data)):
        try:
            moment = local_to_utc(form.day.data, value, zone)
        except NonexistentLocalTime:
            errors[name] = [_("This time does not exist on that day: the clocks go forward.")]
            continue
        if name == "start_time":
            starts_at = moment
        else:
            ends_at = moment
    if errors:
        raise InvalidInput(errors)
    return scheduling.SessionPlan(
        scenario_version_id=form.scenario_version_id.data,
        starts_at=starts_at,
        ends_at=ends_at,
        room_id=form.room_id.data,
        instructor_ids=tuple(form.instructor_ids.data or ()),
        student_ids=tuple(form.student_ids.data or ()),
        cohort_ids=tuple(form.cohort_ids.data or ()),
        note=form.note.data or "",
    )


SERVICE_FIELDS = {"starts_at": "start_time", "ends_at": "end_time"}


def _apply_errors(form: SessionForm, error: InvalidInput) -> None:
    apply_service_errors(form, InvalidInput(
        {SERVICE_FIELDS.get(name, name): messages for name, messages in error.errors.items()}))


def _session_form_page(form, sim_session=None, warnings=None):
    status = form_status()
    return render_template("sessions/form.html", form=form, sim_session=sim_session,
                           warnings=warnings or []), status


@dataclass(frozen=True, slots=True)
class ListedSession:
    """A row of the sessions list, read as plain values: the ORM's objects, with their
    instructors' many-to-many loader, cost more than the query itself."""
    id: int
    starts_at: datetime
    ends_at: datetime
    status: SessionStatus
    title: str
    room: str
    places: int
    instructors: list[str]


@functools.cache
def _list_statement(show: str, mine: bool, given: frozenset[str], language: str) -> Select:
    """Built once per shape of the list (which sessions, mine or all, which filters, the
    language of the titles): building it cost more than running it. Values are bound."""
    # Each session's places are counted in SQL beside it, not loaded to be counted.
    places = (select(func.count(SessionParticipant.id))
              .where(SessionParticipant.session_id == SimSession.id)
              .correlate(SimSession).scalar_subquery())
    # The list shows the scenario's title, never its content: the version's document (the
    # largest column of the database) is read only for the title's translation, by SQL.
    query = (select(SimSession.id, SimSession.starts_at, SimSession.ends_at, SimSession.status,
                    ScenarioVersion.title_expression(language), Room.name, places)
             .join(ScenarioVersion, ScenarioVersion.id == SimSession.scenario_version_id)
             .join(Room, Room.id == SimSession.room_id)
             .where(SimSession.centre_id == bindparam("centre_id")))
    if show == "past":
        query = query.where(SimSession.over()).order_by(SimSession.starts_at.desc())
    elif show == "all":
        query = query.order_by(SimSession.starts_at.desc())
    else:
        query = query.where(SimSession.not_over()).order_by(SimSession.starts_at)
    if mine:
        query = query.where(SimSession.instructors.any(User.id == bindparam("user_id")))
    return filters.apply(query, given).order_by(SimSession.id)


@functools.cache
def _instructors_of() -> Select:
    return (select(session_instructor.c.session_id, User.name)
            .join(User, User.id == session_instructor.c.user_id)
            .where(session_instructor.c.session_id.in_(bindparam("ids", expanding=True)))
            .order_by(User.name))


def _listed(rows) -> list[ListedSession]:
    """The page's rows with their instructors' names, read in one more query."""
    rows = list(rows)
    names: dict[int, list[str]] = {}
    if rows:
        for session_id, name in db.session.execute(_instructors_of(),
                                                   {"ids": [row[0] for row in rows]}):
            names.setdefault(session_id, []).append(name)
    return [ListedSession(*row, names.get(row[0], [])) for row in rows]


@bp.get("/")
@planners_only
def index():
    now = current_now()
    show = request.args.get("show", "upcoming")
    if show not in ("past", "all"):
        show = "upcoming"
    mine = request.args.get("mine") == "1"
    if filters.given_in(request.args):
        filter_form = filters.filter_form(db.session, current_user.centre_id, request.args)
        given, values = filters.bound(filter_form, current_user.centre.timezone)
        filter_fields, filter_args = None, filters.pager_args(filter_form)
    else:
        filter_fields = filters.blank_fields(db.session, current_user.centre_id)
        filter_form, given, values, filter_args = None, frozenset(), {}, {}
    values.update(centre_id=current_user.centre_id, user_id=current_user.id,
                  **SimSession.not_over_values(now))
    rows = paging.window(db.session, _list_statement(show, mine, given, current_language()),
                         per_page=PAGE_SIZE, scalars=False, values=values)
    page = paging.Window(_listed(rows.items), rows.page, rows.has_next)
    return render_template("sessions/index.html", page=page, show=show, mine=mine,
                           filter_form=filter_form, filter_fields=filter_fields,
                           filtering=bool(filter_args), filter_args=filter_args)


@bp.route("/new", methods=["GET", "POST"])
@planners_only
def new():
    form = SessionForm()
    _fill_choices(form)
    if request.method == "GET":
        if current_user.role is Role.INSTRUCTOR:
            form.instructor_ids.data = [current_user.id]
        if query_int("scenario"):
            form.scenario_version_id.data = query_int("scenario")
        _prefill_slot(form)
    warnings = []
    if form.validate_on_submit():
        now = current_now()
        try:
            change = scheduling.schedule_session(
                db.session, centre=current_user.centre, actor=current_user,
                plan=_plan_from(form), now=now, confirmed=form.confirm_warnings.data)
        except InvalidInput as error:
            db.session.rollback()
            _apply_errors(form, error)
        except scheduling.NeedsConfirmation as warning:
            db.session.rollback()
            warnings = warning.warnings
        else:
            db.session.commit()
            flash(_("Session scheduled. Participants are notified by email."), "success")
            return redirect(url_for("sessions.detail", session_id=change.session.id))
    return _session_form_page(form, warnings=warnings)


def _prefill_slot(form: SessionForm) -> None:
    """A free hour chosen in the room grid: its room, day and times (each only if valid)."""
    if query_int("room"):
        form.room_id.data = query_int("room")
    for name, parse, field in (("day", date.fromisoformat, form.day),
                               ("start", time.fromisoformat, form.start_time),
                               ("end", time.fromisoformat, form.end_time)):
        text = request.args.get(name, "")
        if 0 < len(text) <= 10:
            try:
                field.data = parse(text)
            except ValueError:
                continue


def _managed_session(session_id: int) -> SimSession:
    sim_session = visible_session(session_id)
    policy.require(policy.may_manage_session(current_user, sim_session))
    return sim_session


@bp.get("/<int:session_id>")
def detail(session_id: int):
    sim_session = visible_session(session_id)
    if not policy.may_view_session_plan(current_user, sim_session):
        return _learner_detail(sim_session)
    return render_template("sessions/detail.html", sim_session=sim_session,
                           action_form=EmptyForm(),
                           can_manage=policy.may_manage_session(current_user, sim_session))


def _learner_detail(sim_session: SimSession):
    """The learner's page of one session: after it, the way to everything it left them."""
    debrief = debriefing.debrief_for(db.session, sim_session)
    context = {"sim_session": sim_session, "debrief": debrief,
               "participant": sim_session.participant_for(current_user)}
    if policy.may_read_own_debrief(current_user, sim_session, debrief):
        context.update(
            feedback_read=learner_sessions.has_read_feedback(db.session, current_user,
                                                             sim_session),
            rated=learner_sessions.has_rated(db.session, debrief, current_user),
            followups=report_data.session_followup_lines(db.session, sim_session=sim_session,
                                                         learner=current_user),
            followup_state=stage_rows.state_of(db.session, current_user),
            choice_form=ChoiceForm())
    if policy.may_keep_checkins(current_user):
        context["own_checkin"] = checkins.latest_answer(db.session, user=current_user,
                                                        sim_session=sim_session)
    return render_template("sessions/learner_detail.html", **context)


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
def edit(session_id: int):
    sim_session = _managed_session(session_id)
    if not policy.may_edit_session(current_user, sim_session):
        flash(_("Only scheduled sessions can be changed."), "error")
        return redirect(url_for("sessions.detail", session_id=session_id))
    form = SessionForm()
    _fill_choices(form, sim_session)
    if request.method == "GET":
        zone = sim_session.centre.timezone
        start, end = to_local(sim_session.starts_at, zone), to_local(sim_session.ends_at, zone)
        form.scenario_version_id.data = sim_session.scenario_version_id
        form.day.data, form.start_time.data, form.end_time.data = (
            start.date(), start.time(), end.time())
        form.room_id.data = sim_session.room_id
        form.instructor_ids.data = [i.id for i in sim_session.instructors]
        form.student_ids.data = [p.user_id for p in sim_session.participants]
        form.note.data = sim_session.note
    warnings = []
    if form.validate_on_submit():
        now = current_now()
        try:
            scheduling.update_session(
                db.session, sim_session=sim_session, actor=current_user,
                plan=_plan_from(form), now=now, confirmed=form.confirm_warnings.data)
        except InvalidInput as error:
            db.session.rollback()
            sim_session = _managed_session(session_id)
            _apply_errors(form, error)
        except scheduling.NeedsConfirmation as warning:
            db.session.rollback()
            sim_session = _managed_session(session_id)
            warnings = warning.warnings
        else:
            db.session.commit()
            flash(_("Session updated. Participants affected by the change are notified."),
                  "success")
            return redirect(url_for("sessions.detail", session_id=session_id))
    return _session_form_page(form, sim_session, warnings)


@bp.route("/<int:session_id>/cancel", methods=["GET", "POST"])
def cancel(session_id: int):
    sim_session = _managed_session(session_id)
    form = CancelForm()
    if form.validate_on_submit():
        now = current_now()
        try:
            scheduling.cancel_session(db.session, sim_session=sim_session,
                                      actor=current_user, reason=form.reason.data, now=now)
        except InvalidState as error:
            flash(str(error), "error")
            return redirect(url_for("sessions.detail", session_id=session_id))
        db.session.commit()
        flash(_("Session cancelled. Participants are notified."), "success")
        return redirect(url_for("sessions.detail", session_id=session_id))
    status = form_status()
    return render_template("sessions/cancel.html", sim_session=sim_session, form=form), status


@bp.route("/<int:session_id>/attendance", methods=["GET", "POST"])
def attendance(session_id: int):
    """Start the session with the attendance taken, or correct attendance while it runs."""
    sim_session = _managed_session(session_id)
    if sim_session.status not in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS):
        flash(_("Attendance can only be taken before or during the session."), "error")
        return redirect(url_for("sessions.detail", session_id=session_id))
    form = AttendanceForm()
    form.present_ids.choices = choices([(p.user_id, p.user.name)
                                        for p in sim_session.participants])
    starting = sim_session.status is SessionStatus.SCHEDULED
    if not starting:
        form.submit.label.text = _("Save attendance")
    if request.method == "GET":
        form.present_ids.data = [p.user_id for p in sim_session.participants
                                 if p.attendance.value != "absent"]
    if form.validate_on_submit():
        present = set(form.present_ids.data or ())
        try:
            if starting:
                scheduling.start_session(db.session, sim_session=sim_session,
                                         actor=current_user, present_ids=present,
                                         now=current_now())
            else:
                scheduling.update_attendance(db.session, sim_session=sim_session,
                                             actor=current_user, present_ids=present,
                                             now=current_now())
        except InvalidState as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Session started; attendance recorded.") if starting
                  else _("Attendance saved."), "success")
            return redirect(url_for("sessions.detail", session_id=session_id))
    status = form_status()
    return render_template("sessions/attendance.html", sim_session=sim_session, form=form,
                           starting=starting), status


@bp.get("/<int:session_id>.ics")
def ics(session_id: int):
    from simdebrief.services import calendar

    sim_session = visible_session(session_id)
    audience = "staff" if policy.may_view_session_plan(current_user, sim_session) else "learner"
    body = calendar.single_session_ics(sim_session, current_now(), audience)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="simdebrief-session-{session_id}.ics"'})



# The learner search registers itself on ``bp`` when imported.
from simdebrief.web.sessions import picker  # noqa: E402, F401
