"""The start page each role lands on after login."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.exc import SQLAlchemyError

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Cohort,
    Role,
    Room,
    SessionParticipant,
    SessionStatus,
    SimSession,
    User,
    session_instructor,
)
from simdebrief.scenario_translations import current_language
from simdebrief.services import (
    dashboards,
    learner_sessions,
    operations,
    retention,
    support,
    tier1_checks,
)
from simdebrief.web import navigation, public
from simdebrief.web.forms import EmptyForm
from simdebrief.web.loaders import scenario_title_only

bp = Blueprint("main", __name__)
#: How many past sessions a learner's dashboard lists; "All my sessions" has the rest.
PAST_ON_DASHBOARD = 3


@bp.get("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("auth.login"))


@bp.get("/favicon.ico")
@public
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; answer with the app's icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/dashboard")
def dashboard():
    stats = {}
    if current_user.role is Role.ADMIN:
        centre_id = current_user.centre_id
        stats = {
            "users": db.session.scalar(select(func.count(User.id))
                                       .where(User.centre_id == centre_id)),
            "pending_invitations": db.session.scalar(
                select(func.count(User.id)).where(User.centre_id == centre_id,
                                                  User.password_hash.is_(None))),
            "cohorts": db.session.scalar(select(func.count(Cohort.id))
                                         .where(Cohort.centre_id == centre_id)),
            "rooms": db.session.scalar(select(func.count(Room.id))
                                       .where(Room.centre_id == centre_id)),
        }
    purge_at = (retention.upcoming_purge(db.session, current_user, current_now())
                if policy.may_keep_checkins(current_user) else None)
    waiting = overdue = None
    if policy.may_work_support_queue(current_user):
        waiting, overdue = dashboards.request_counts(
            db.session, current_user.centre, current_now(),
            among=support.queue_query(current_user),
            values=support.queue_values(current_user))
        navigation.waiting_counted(waiting)
    to_check, debriefs_to_do, admin_to_do = [], [], None
    if current_user.role in (Role.INSTRUCTOR, Role.ADMIN):
        to_check = tier1_checks.sessions_to_check(db.session, current_user, current_now())
        debriefs_to_do = dashboards.instructor_todos(db.session, current_user)
    if current_user.role is Role.ADMIN:
        admin_to_do = dashboards.admin_todos(db.session, current_user.centre, current_now())
    past, new_feedback = [], []
    if current_user.role is Role.STUDENT:
        past = learner_sessions.past_sessions(db.session, current_user, current_now(),
                                              limit=PAST_ON_DASHBOARD)
        new_feedback = learner_sessions.unread_feedback(db.session, current_user)
    return render_template("main/dashboard.html", stats=stats, purge_at=purge_at,
                           waiting=waiting, overdue=overdue, to_check=to_check,
                           tick_form=EmptyForm(),
                           upcoming=_upcoming_sessions(current_user), past=past,
                           new_feedback=new_feedback, debriefs_to_do=debriefs_to_do,
                           admin_to_do=admin_to_do)


@bp.post("/sessions/<int:session_id>/checked-in/<int:learner_id>")
def tier1_check(session_id: int, learner_id: int):
    """The instructor ticks "checked in with them" after a high-risk session."""
    sim_session = policy.require_object(
        db.session.get(SimSession, session_id),
        lambda s: policy.may_view_session(current_user, s))
    policy.require(policy.may_run_debrief(current_user, sim_session))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        tier1_checks.record_check(db.session, sim_session=sim_session, learner_id=learner_id,
                                  instructor=current_user, now=current_now())
    except InvalidState as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Noted: you checked in with them."), "success")
    return redirect(url_for("main.dashboard"))


def _upcoming_sessions(user: User, limit: int = 5) -> list[SimSession]:
    """The next sessions this person teaches or takes part in."""
    if user.role is Role.STUDENT:
        taking_part = True
    elif user.role in (Role.INSTRUCTOR, Role.ADMIN):
        taking_part = False
    else:
        return []
    return list(db.session.scalars(
        _upcoming_statement(taking_part, current_language(), limit, db.engine.dialect.name),
        {"user_id": user.id, "centre_id": user.centre_id,
         **SimSession.not_over_values(current_now())}))


@functools.cache
def _upcoming_statement(taking_part: bool, language: str, limit: int, dialect: str):
    """Built once per shape: every home asks it, and building it cost more than running it.
    The person, centre and time come as bound parameters."""
    if taking_part:
        # A learner's few sessions, found through their places. On SQLite "+ 0" keeps the
        # planner off the centre's indexes, which would walk every session of the centre;
        # PostgreSQL plans by its statistics, and "+ 0" hid them: it guessed one session
        # and looped over every session to come, four times slower at 1,000.
        centre = SimSession.centre_id + literal(0) if dialect == "sqlite" \
            else SimSession.centre_id
        query = (select(SimSession).join(SessionParticipant)
                 .where(SessionParticipant.user_id == bindparam("user_id"),
                        centre == bindparam("centre_id")))
    else:
        # The centre and the start: the (centre, start) index, read from now on in order.
        query = (select(SimSession).where(SimSession.centre_id == bindparam("centre_id"))
                 .join(session_instructor, session_instructor.c.session_id == SimSession.id)
                 .where(session_instructor.c.user_id == bindparam("user_id")))
    # The title, never the scenario's whole document.
    return (query.where(SimSession.not_over(), SimSession.status != SessionStatus.CANCELLED)
            .options(scenario_title_only(language))
            .order_by(SimSession.starts_at).limit(limit))


@bp.get("/healthz")
@public
def health():
    """For load balancers and monitors: no login, no secrets, counts and ages only.

    503 when the database cannot be reached; otherwise 200, with ``status`` "degraded" when
    no scheduler ticked lately or an email has waited too long.
    """
    try:
        report = operations.health(db.session, now=current_now()).as_dict()
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    db.session.rollback()
    return report
