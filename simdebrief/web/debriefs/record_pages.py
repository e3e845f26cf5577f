"""What a debrief records beyond its notes: feedback to each learner, objectives met, phase
times, and who debriefed in which role."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from simdebrief import policy, taxonomy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    User,
)
from simdebrief.services import debrief_objectives, debriefing
from simdebrief.timefmt import local_text, local_to_utc, to_local
from simdebrief.web.debriefs.forms import (
    FeedbackForm,
    objectives_form_class,
    phase_times_form_class,
    roles_form_class,
)
from simdebrief.web.debriefs.routes import (
    back_to,
    bp,
    debrief_of,
    debrief_page,
    instructor_session,
    submit_form,
)
from simdebrief.web.forms import EmptyForm, form_status

# --- per-learner feedback ----------------------------------------------------------------


@bp.route("/<int:session_id>/debrief/feedback/<int:learner_id>", methods=["GET", "POST"])
def feedback(session_id: int, learner_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    learner = policy.require_object(
        db.session.get(User, learner_id),
        lambda u: u in debriefing.debrief_learners(sim_session))
    existing = debrief.feedback_for(learner.id)
    form = FeedbackForm(obj=existing)
    if form.validate_on_submit():
        data = debriefing.FeedbackInput(strengths=form.strengths.data or "",
                                        to_improve=form.to_improve.data or "",
                                        learning_goals=form.learning_goals.data or "")
        if submit_form(form, _("Feedback to %(name)s saved.", name=learner.name),
                       debriefing.save_feedback, debrief=debrief, learner=learner,
                       actor=current_user, data=data):
            return back_to("debriefs.feedback_overview", sim_session)
    return debrief_page("feedback.html", sim_session, debrief, learner=learner, form=form,
                        status=form_status())


@bp.get("/<int:session_id>/debrief/feedback")
def feedback_overview(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    from simdebrief.services import checkins, support

    return debrief_page(
        "feedback_overview.html", sim_session, debrief,
        aggregate=checkins.aggregate_for_session(db.session, sim_session),
        support_flags=support.support_requested_learner_ids(db.session, sim_session),
        dash=debriefing.dash_summary(db.session, debrief,
                                     min_group=sim_session.centre.min_group_size))


# --- learning objectives and phase times ----------------------------------------------------


def _objectives_page(sim_session, debrief, *, objectives_form=None, times_form=None,
                     status=200):
    objectives = debriefing.scenario_objectives(debrief)
    phases = debriefing.framework_phases(debrief)
    zone = sim_session.centre.timezone
    if objectives_form is None:
        objectives_form = objectives_form_class(objectives)(formdata=None)
        for position in range(len(objectives)):
            row = debrief.outcome_for(position)
            objectives_form[f"outcome_{position}"].data = row.outcome if row else ""
            objectives_form[f"note_{position}"].data = row.note if row else ""
    if times_form is None:
        times_form = phase_times_form_class(phases)(formdata=None)
        for code, _label in phases:
            row = debrief.phase_time(code)
            for name, moment in (("start", row.started_at if row else None),
                                 ("end", row.ended_at if row else None)):
                times_form[f"{name}_{code}"].data = (
                    to_local(moment, zone).replace(tzinfo=None) if moment else None)
    return debrief_page("objectives.html", sim_session, debrief, status=status,
                        objectives=objectives, phases=phases, objectives_form=objectives_form,
                        times_form=times_form,
                        outcome_label=lambda c: taxonomy.label(taxonomy.OBJECTIVE_OUTCOMES, c))


@bp.route("/<int:session_id>/debrief/objectives", methods=["GET", "POST"])
def objectives(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    objective_texts = debriefing.scenario_objectives(debrief)
    form = objectives_form_class(objective_texts)()
    if request.method == "GET":
        return _objectives_page(sim_session, debrief)
    if form.validate_on_submit():
        outcomes = {position: debrief_objectives.OutcomeInput(
            outcome=form[f"outcome_{position}"].data or "",
            note=form[f"note_{position}"].data or "")
            for position in range(len(objective_texts))}
        if submit_form(form, _("Learning objectives saved."), debrief_objectives.save_objectives,
                       debrief=debrief, actor=current_user, outcomes=outcomes):
            return back_to("debriefs.objectives", sim_session)
        debrief = debrief_of(sim_session)
    return _objectives_page(sim_session, debrief, objectives_form=form, status=400)


@bp.post("/<int:session_id>/debrief/phases")
def phase_times(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    phases = debriefing.framework_phases(debrief)
    form = phase_times_form_class(phases)()
    if form.validate_on_submit():
        zone = sim_session.centre.timezone

        def utc(value):
            return local_to_utc(value.date(), value.time(), zone) if value else None

        times = {code: (utc(form[f"start_{code}"].data), utc(form[f"end_{code}"].data))
                 for code, _label in phases}
        if submit_form(form, _("Phase times saved."), debrief_objectives.set_phase_times,
                       debrief=debrief, actor=current_user, times=times):
            return back_to("debriefs.objectives", sim_session)
        debrief = debrief_of(sim_session)
    return _objectives_page(sim_session, debrief, times_form=form, status=400)


@bp.post("/<int:session_id>/debrief/phases/<phase>/<edge>")
def mark_phase(session_id: int, phase: str, edge: str):
    """The one-click "start now" / "end now" of a phase: the clock's time is stored."""
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if phase not in {code for code, _label in debriefing.framework_phases(debrief)} or \
            edge not in debrief_objectives.PHASE_EDGES:
        abort(404)
    try:
        debrief_objectives.mark_phase(db.session, debrief=debrief, actor=current_user, phase=phase,
                                      edge=edge, now=current_now())
    except (InvalidInput, InvalidState) as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Time recorded: %(time)s.", time=local_text(
            current_now(), sim_session.centre.timezone, "time")), "success")
    return redirect(url_for("debriefs.objectives", session_id=session_id,
                            _anchor="phase-times"))


# --- debriefers ----------------------------------------------------------------------------


@bp.route("/<int:session_id>/debrief/roles", methods=["GET", "POST"])
def roles(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    may_assign = policy.may_assign_debrief_roles(current_user, sim_session, debrief)
    form = roles_form_class(sim_session.instructors)(
        formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        for user in sim_session.instructors:
            form[f"role_{user.id}"].data = debrief.role_of(user.id).value
    if request.method == "POST":
        policy.require(may_assign)
        if form.validate_on_submit():
            roles_given = {user.id: form[f"role_{user.id}"].data
                           for user in sim_session.instructors}
            if submit_form(form, _("Roles saved."), debriefing.set_roles, debrief=debrief,
                           actor=current_user, roles=roles_given):
                return back_to("debriefs.roles", sim_session)
            debrief = debrief_of(sim_session)
    return debrief_page("roles.html", sim_session, debrief, status=form_status(), form=form,
                        may_assign=may_assign)
