"""The instructor's structured debrief, and the learner's view of its finalised result."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from simdebrief import policy, taxonomy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.models import (
    AnalysisItem,
    CareProblem,
    ContributingFactor,
    DashRating,
    SimSession,
    User,
)
from simdebrief.services import debrief_factors, debrief_objectives, debriefing, learner_sessions
from simdebrief.timefmt import local_text, local_to_utc, to_local
from simdebrief.web.debriefs.forms import (
    AmendmentForm,
    AnalysisItemForm,
    FactorForm,
    FeedbackForm,
    JustCultureForm,
    ProblemForm,
    field_key,
    notes_form_class,
    objectives_form_class,
    phase_times_form_class,
    rating_form_class,
    roles_form_class,
)
from simdebrief.web.forms import EmptyForm, apply_service_errors, choices, form_status
from simdebrief.web.loaders import visible_session

bp = Blueprint("debriefs", __name__)


def _instructor_session(session_id: int) -> SimSession:
    sim_session = visible_session(session_id)
    policy.require(policy.may_run_debrief(current_user, sim_session))
    return sim_session


def _debrief(sim_session: SimSession):
    """The session's debrief; a change (any POST) needs a debriefer who may write."""
    debrief = debriefing.debrief_for(db.session, sim_session)
    if debrief is None:
        abort(404)
    if request.method == "POST":
        policy.require(policy.may_edit_debrief(current_user, sim_session, debrief))
    return debrief


ANALYSIS_LABELS = SimpleNamespace(
    kind=lambda code: taxonomy.label(taxonomy.ANALYSIS_KINDS, code),
    domain=lambda code: taxonomy.label(taxonomy.ANALYSIS_DOMAINS, code),
    strategy=lambda code: taxonomy.label(taxonomy.ANALYSIS_STRATEGIES, code),
)


def _page(template: str, sim_session, debrief, status: int = 200, **context):
    """A debrief page. ``editable``: a draft, and the visitor is not an observer."""
    editable = (debrief is not None and not debrief.is_final
                and policy.may_edit_debrief(current_user, sim_session, debrief))
    return render_template(
        f"debriefs/{template}", sim_session=sim_session, debrief=debrief,
        action_form=EmptyForm(), learners=debriefing.debrief_learners(sim_session),
        taxonomy_prebrief=taxonomy.PREBRIEF_ITEMS, analysis_labels=ANALYSIS_LABELS,
        editable=editable, team=debriefing.debriefers(debrief) if debrief else [],
        role_label=lambda code: taxonomy.label(taxonomy.DEBRIEF_ROLES, code),
        **context), status


def _back(endpoint: str, sim_session: SimSession, **values):
    return redirect(url_for(endpoint, session_id=sim_session.id, **values))


# --- main notes ---------------------------------------------------------------------------


def _notes_form(debrief, formdata=None):
    phases = debriefing.framework_phases(debrief)
    framing = debriefing.framing_items(debrief.session.centre)
    form = notes_form_class(phases, framing)(formdata=formdata)
    if formdata is None:
        form.version.data = debrief.version
        for code, _label in taxonomy.PREBRIEF_ITEMS:
            form[f"prebrief_{code}"].data = debrief.prebrief.get(code, False)
        for code, _label in phases:
            form[f"phase_{code}"].data = debrief.phase_notes.get(code, "")
        for code, _label in framing:
            form[f"framing_{field_key(code)}"].data = debrief.framing.get(code, False)
        form.role_model_story_shared.data = debrief.role_model_story_shared
        form.triggers.data = list(debrief.triggers)
        form.take_home_messages.data = debrief.take_home_messages
    return form, phases, framing


@bp.get("/<int:session_id>/debrief")
def edit(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = debriefing.debrief_for(db.session, sim_session)
    if debrief is None:
        return _page("start.html", sim_session, None)
    form, phases, framing = _notes_form(debrief)
    return _page("notes.html", sim_session, debrief, form=form, phases=phases, framing=framing,
                 conflict=None)


@bp.post("/<int:session_id>/debrief/start")
def start(session_id: int):
    sim_session = _instructor_session(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        debriefing.start_debrief(db.session, sim_session=sim_session, actor=current_user,
                                 now=current_now())
    except InvalidState as error:
        flash(str(error), "error")
        return redirect(url_for("sessions.detail", session_id=session_id))
    db.session.commit()
    return _back("debriefs.edit", sim_session)


@bp.post("/<int:session_id>/debrief")
def save(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    form, phases, framing = _notes_form(debrief, formdata=request.form)
    conflict = None
    #: The page's script saves in the background every few seconds while someone types.
    autosave = request.headers.get("X-Autosave") == "1"
    if form.validate_on_submit():
        notes = debriefing.DebriefNotes(
            prebrief={c: form[f"prebrief_{c}"].data for c, _l in taxonomy.PREBRIEF_ITEMS},
            phase_notes={c: form[f"phase_{c}"].data or "" for c, _l in phases},
            framing={c: form[f"framing_{field_key(c)}"].data for c, _l in framing},
            role_model_story_shared=form.role_model_story_shared.data,
            triggers=form.triggers.data or [],
            take_home_messages=form.take_home_messages.data or "",
        )
        try:
            based_on = form.version.data or 0
            debriefing.save_notes(db.session, debrief=debrief, actor=current_user, notes=notes,
                                  based_on_version=based_on, now=current_now())
            db.session.commit()
        except debriefing.EditConflict as error:
            db.session.rollback()
            conflict = error
        except (InvalidInput, InvalidState) as error:
            db.session.rollback()
            _form_error(form, error)
        else:
            if autosave:
                return {"version": debrief.version, "message": _(
                    "Saved automatically at %(time)s.",
                    time=local_text(current_now(), sim_session.centre.timezone, "HH:mm"))}
            flash(_("Debrief saved."), "success")
            return _back("debriefs.edit", sim_session)
    if autosave:
        # The page keeps what was typed; a full save then shows the messages by the fields.
        message = (_("Not saved: a colleague saved the debrief meanwhile. Press Save to see "
                     "both texts.") if conflict else
                   _("Not saved automatically. Press Save to see what needs attention."))
        return {"message": message}, 409 if conflict else 400
    if conflict is not None:
        debrief = _debrief(sim_session)
        # Their text stays in the form; saving again is now a deliberate choice.
        form.version.data = conflict.current_version
    return _page("notes.html", sim_session, debrief, status=409 if conflict else 400,
                 form=form, phases=phases, framing=framing, conflict=conflict)


# --- analysis items -------------------------------------------------------------------------


def _analysis_input(form: AnalysisItemForm) -> debrief_factors.AnalysisInput:
    return debrief_factors.AnalysisInput(
        kind=form.kind.data or "", domain=form.domain.data, strategy=form.strategy.data,
        text=form.text.data or "", observation=form.observation.data or "",
        question=form.question.data or "", learner_frame=form.learner_frame.data or "")


@bp.route("/<int:session_id>/debrief/analysis", methods=["GET", "POST"])
def analysis(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    form = AnalysisItemForm()
    if form.validate_on_submit():
        if _submit(form, _("Item added."), debrief_factors.add_analysis_item, debrief=debrief,
                   actor=current_user, data=_analysis_input(form)):
            return _back("debriefs.analysis", sim_session)
        debrief = _debrief(sim_session)
    return _page("analysis.html", sim_session, debrief,
                 status=form_status(), form=form)


def _submit(form, message: str, change, **arguments) -> bool:
    """Run a valid form's change: commit and say so, or roll back and put the service's
    objection next to the fields. Returns whether it was saved."""
    try:
        change(db.session, now=current_now(), **arguments)
    except (InvalidInput, InvalidState) as error:
        db.session.rollback()
        _form_error(form, error)
        return False
    db.session.commit()
    flash(message, "success")
    return True


def _form_error(form, error) -> None:
    if isinstance(error, InvalidInput):
        apply_service_errors(form, error)
    else:
        form.form_errors.append(str(error))


def _owned_item(debrief, item_id: int) -> AnalysisItem:
    return policy.require_object(db.session.get(AnalysisItem, item_id),
                                 lambda i: i.debrief_id == debrief.id)


@bp.route("/<int:session_id>/debrief/analysis/<int:item_id>", methods=["GET", "POST"])
def analysis_item(session_id: int, item_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    item = _owned_item(debrief, item_id)
    form = AnalysisItemForm(obj=item)
    form.submit.label.text = _("Save item")
    if form.validate_on_submit() and _submit(
            form, _("Item saved."), debrief_factors.update_analysis_item, item=item,
            actor=current_user, data=_analysis_input(form)):
        return _back("debriefs.analysis", sim_session)
    return _page("analysis_item.html", sim_session, debrief,
                 status=form_status(), form=form, item=item)


@bp.post("/<int:session_id>/debrief/analysis/<int:item_id>/delete")
def delete_analysis_item(session_id: int, item_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    item = _owned_item(debrief, item_id)
    return _remove(sim_session, "debriefs.analysis", _("Item removed."),
                   debrief_factors.delete_analysis_item, item=item, actor=current_user)


def _remove(sim_session: SimSession, endpoint: str, message: str, remove, **arguments):
    """A delete button's POST: check the token, remove, commit, say what happened."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        remove(db.session, now=current_now(), **arguments)
    except InvalidState as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return _back(endpoint, sim_session)


# --- care-delivery problems and contributing factors -----------------------------------------


def spread_chart(debrief) -> tuple[list, str]:
    spread = debrief_factors.factor_spread(debrief)
    from simdebrief.reports.charts import factor_spread_svg  # reportlab, loaded on use

    svg = factor_spread_svg(
        [(label, count) for _code, label, count in spread],
        title=_("Contributing factors per London Protocol level"),
        description=_("The same numbers are in the table next to the chart."),
        element_id="factor-spread")
    return spread, svg


def _factors_page(sim_session, debrief, *, problem_form=None, factor_forms=None, status=200):
    spread, svg = spread_chart(debrief)
    factor_forms = factor_forms or {}
    culture_forms = {}
    culture_choices = choices([("", _("Not classified"))] + list(
        debrief_factors.just_culture_choices(sim_session.centre)))
    for problem in debrief.problems:
        factor_forms.setdefault(problem.id, FactorForm(prefix=f"p{problem.id}"))
        culture_forms[problem.id] = JustCultureForm(
            prefix=f"jc{problem.id}", formdata=None,
            data={"just_culture": problem.just_culture or ""})
        culture_forms[problem.id].just_culture.choices = culture_choices
    return _page("factors.html", sim_session, debrief, status=status,
                 problem_form=problem_form or ProblemForm(), factor_forms=factor_forms,
                 culture_forms=culture_forms,
                 culture_label=lambda c: taxonomy.label(taxonomy.JUST_CULTURE_CLASSES, c),
                 spread=spread, spread_svg=svg, factor_label=taxonomy.factor_label,
                 level_label=lambda c: taxonomy.label(taxonomy.LP_LEVELS,
                                                      taxonomy.factor_level(c)),
                 attribution_label=lambda c: taxonomy.label(taxonomy.ATTRIBUTIONS, c))


@bp.route("/<int:session_id>/debrief/factors", methods=["GET", "POST"])
def factors(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    form = ProblemForm()
    if form.validate_on_submit():
        if _submit(form, _("Problem added. Now add its contributing factors."),
                   debrief_factors.add_problem, debrief=debrief, actor=current_user,
                   description=form.description.data):
            return _back("debriefs.factors", sim_session)
        debrief = _debrief(sim_session)
    return _factors_page(sim_session, debrief, problem_form=form,
                         status=form_status())


def _owned_problem(debrief, problem_id: int) -> CareProblem:
    return policy.require_object(db.session.get(CareProblem, problem_id),
                                 lambda p: p.debrief_id == debrief.id)


@bp.post("/<int:session_id>/debrief/problems/<int:problem_id>/factors")
def add_factor(session_id: int, problem_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    problem = _owned_problem(debrief, problem_id)
    form = FactorForm(prefix=f"p{problem.id}")
    if form.validate_on_submit():
        if _submit(form, _("Factor added."), debrief_factors.add_factor, problem=problem,
                   actor=current_user, data=_factor_input(form)):
            return redirect(url_for("debriefs.factors", session_id=session_id,
                                    _anchor=f"problem-{problem_id}"))
        debrief = _debrief(sim_session)
    return _factors_page(sim_session, debrief, factor_forms={problem_id: form}, status=400)


@bp.post("/<int:session_id>/debrief/problems/<int:problem_id>/delete")
def delete_problem(session_id: int, problem_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    problem = _owned_problem(debrief, problem_id)
    return _remove(sim_session, "debriefs.factors", _("Problem removed with its factors."),
                   debrief_factors.delete_problem, problem=problem, actor=current_user)


@bp.post("/<int:session_id>/debrief/factors/<int:factor_id>/delete")
def delete_factor(session_id: int, factor_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    factor = _owned_factor(debrief, factor_id)
    return _remove(sim_session, "debriefs.factors", _("Factor removed."),
                   debrief_factors.delete_factor, factor=factor, actor=current_user)


def _owned_factor(debrief, factor_id: int) -> ContributingFactor:
    return policy.require_object(db.session.get(ContributingFactor, factor_id),
                                 lambda f: f.problem.debrief_id == debrief.id)


def _factor_input(form: FactorForm) -> debrief_factors.FactorInput:
    return debrief_factors.FactorInput(
        code=form.code.data or "", description=form.description.data or "",
        attribution=form.attribution.data or "", changeable=form.changeable.data)


@bp.route("/<int:session_id>/debrief/factors/<int:factor_id>", methods=["GET", "POST"])
def edit_factor(session_id: int, factor_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    factor = _owned_factor(debrief, factor_id)
    form = FactorForm(obj=factor)
    form.submit.label.text = _("Save factor")
    if form.validate_on_submit() and _submit(
            form, _("Factor saved."), debrief_factors.update_factor, factor=factor,
            actor=current_user, data=_factor_input(form)):
        return redirect(url_for("debriefs.factors", session_id=session_id,
                                _anchor=f"problem-{factor.problem_id}"))
    return _page("factor_edit.html", sim_session, debrief, status=form_status(), form=form,
                 factor=factor)


@bp.post("/<int:session_id>/debrief/factors/<int:factor_id>/discussed")
def factor_discussed(session_id: int, factor_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    factor = _owned_factor(debrief, factor_id)
    return _remove(sim_session, "debriefs.factors", _("Marked as discussed with the group."),
                   debrief_factors.mark_factor_discussed, factor=factor, actor=current_user)


@bp.post("/<int:session_id>/debrief/problems/<int:problem_id>/classify")
def classify_problem(session_id: int, problem_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    problem = _owned_problem(debrief, problem_id)
    form = JustCultureForm(prefix=f"jc{problem.id}")
    form.just_culture.choices = choices([("", _("Not classified"))] + list(
        debrief_factors.just_culture_choices(sim_session.centre)))
    if form.validate_on_submit() and _submit(
            form, _("Classification saved."), debrief_factors.classify_problem, problem=problem,
            actor=current_user, just_culture=form.just_culture.data or ""):
        return redirect(url_for("debriefs.factors", session_id=session_id,
                                _anchor=f"problem-{problem_id}"))
    db.session.rollback()
    flash(_("Choose one of the classifications."), "error")
    return redirect(url_for("debriefs.factors", session_id=session_id,
                            _anchor=f"problem-{problem_id}"))


@bp.post("/<int:session_id>/debrief/factors/suggest")
def suggest_factors(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        added = debrief_factors.suggest_expected_factors(db.session, debrief=debrief,
                                                    actor=current_user, now=current_now())
    except InvalidState as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("%(count)d expected problems from the scenario added. Edit or remove what did "
                "not happen in this session.", count=added) if added
              else _("The scenario's expected problems are already in the analysis."), "info")
    return _back("debriefs.factors", sim_session)


# --- per-learner feedback ----------------------------------------------------------------


@bp.route("/<int:session_id>/debrief/feedback/<int:learner_id>", methods=["GET", "POST"])
def feedback(session_id: int, learner_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    learner = policy.require_object(
        db.session.get(User, learner_id),
        lambda u: u in debriefing.debrief_learners(sim_session))
    existing = debrief.feedback_for(learner.id)
    form = FeedbackForm(obj=existing)
    if form.validate_on_submit():
        data = debriefing.FeedbackInput(strengths=form.strengths.data or "",
                                        to_improve=form.to_improve.data or "",
                                        learning_goals=form.learning_goals.data or "")
        if _submit(form, _("Feedback to %(name)s saved.", name=learner.name),
                   debriefing.save_feedback, debrief=debrief, learner=learner,
                   actor=current_user, data=data):
            return _back("debriefs.feedback_overview", sim_session)
    return _page("feedback.html", sim_session, debrief, learner=learner, form=form,
                 status=form_status())


@bp.get("/<int:session_id>/debrief/feedback")
def feedback_overview(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    from simdebrief.services import checkins, support

    return _page("feedback_overview.html", sim_session, debrief,
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
    return _page("objectives.html", sim_session, debrief, status=status,
                 objectives=objectives, phases=phases, objectives_form=objectives_form,
                 times_form=times_form,
                 outcome_label=lambda c: taxonomy.label(taxonomy.OBJECTIVE_OUTCOMES, c))


@bp.route("/<int:session_id>/debrief/objectives", methods=["GET", "POST"])
def objectives(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    objective_texts = debriefing.scenario_objectives(debrief)
    form = objectives_form_class(objective_texts)()
    if request.method == "GET":
        return _objectives_page(sim_session, debrief)
    if form.validate_on_submit():
        outcomes = {position: debrief_objectives.OutcomeInput(
            outcome=form[f"outcome_{position}"].data or "",
            note=form[f"note_{position}"].data or "")
            for position in range(len(objective_texts))}
        if _submit(form, _("Learning objectives saved."), debrief_objectives.save_objectives,
                   debrief=debrief, actor=current_user, outcomes=outcomes):
            return _back("debriefs.objectives", sim_session)
        debrief = _debrief(sim_session)
    return _objectives_page(sim_session, debrief, objectives_form=form, status=400)


@bp.post("/<int:session_id>/debrief/phases")
def phase_times(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    phases = debriefing.framework_phases(debrief)
    form = phase_times_form_class(phases)()
    if form.validate_on_submit():
        zone = sim_session.centre.timezone

        def utc(value):
            return local_to_utc(value.date(), value.time(), zone) if value else None

        times = {code: (utc(form[f"start_{code}"].data), utc(form[f"end_{code}"].data))
                 for code, _label in phases}
        if _submit(form, _("Phase times saved."), debrief_objectives.set_phase_times,
                   debrief=debrief, actor=current_user, times=times):
            return _back("debriefs.objectives", sim_session)
        debrief = _debrief(sim_session)
    return _objectives_page(sim_session, debrief, times_form=form, status=400)


@bp.post("/<int:session_id>/debrief/phases/<phase>/<edge>")
def mark_phase(session_id: int, phase: str, edge: str):
    """The one-click "start now" / "end now" of a phase: the clock's time is stored."""
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
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
            current_now(), sim_session.centre.timezone, "HH:mm")), "success")
    return redirect(url_for("debriefs.objectives", session_id=session_id,
                            _anchor="phase-times"))


# --- debriefers ----------------------------------------------------------------------------


@bp.route("/<int:session_id>/debrief/roles", methods=["GET", "POST"])
def roles(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
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
            if _submit(form, _("Roles saved."), debriefing.set_roles, debrief=debrief,
                       actor=current_user, roles=roles_given):
                return _back("debriefs.roles", sim_session)
            debrief = _debrief(sim_session)
    return _page("roles.html", sim_session, debrief, status=form_status(), form=form,
                 may_assign=may_assign)


# --- finalise and amend ------------------------------------------------------------------------


@bp.get("/<int:session_id>/debrief/finalise")
def confirm_finalise(session_id: int):
    """What is still missing, shown before the debrief is locked; its form posts finalise."""
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    return _page("finalise.html", sim_session, debrief,
                 check=debriefing.finalise_check(debrief))


@bp.post("/<int:session_id>/debrief/finalise")
def finalise(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        debriefing.finalise(db.session, debrief=debrief, actor=current_user, now=current_now())
    except (InvalidInput, InvalidState) as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back("debriefs.edit", sim_session)
    db.session.commit()
    flash(_("The debrief is finalised. Learners can now read their feedback."), "success")
    return _back("debriefs.edit", sim_session)


@bp.route("/<int:session_id>/debrief/amend", methods=["GET", "POST"])
def amend(session_id: int):
    sim_session = _instructor_session(session_id)
    debrief = _debrief(sim_session)
    if not debrief.is_final:
        return _back("debriefs.edit", sim_session)
    targets = debriefing.amendable_targets(debrief)
    form = AmendmentForm()
    form.target.choices = choices([("", _("Choose"))] + [(c, label) for c, label, _t in targets])
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]
        form.text.data = next((t for c, _l, t in targets if c == form.target.data), "")
    if form.validate_on_submit():
        if _submit(form, _("Amendment recorded."), debriefing.amend, debrief=debrief,
                   actor=current_user, target=form.target.data, text=form.text.data or "",
                   reason=form.reason.data):
            return _back("debriefs.edit", sim_session)
        debrief = _debrief(sim_session)
    return _page("amend.html", sim_session, debrief, form=form, targets=targets,
                 status=form_status())


# --- the learner's side ----------------------------------------------------------------------


def _learner_view(session_id: int):
    sim_session = visible_session(session_id)
    debrief = debriefing.debrief_for(db.session, sim_session)
    if not policy.may_read_own_debrief(current_user, sim_session, debrief):
        abort(404)
    return sim_session, debrief


@bp.get("/<int:session_id>/debrief/mine")
def mine(session_id: int):
    sim_session, debrief = _learner_view(session_id)
    spread, svg = spread_chart(debrief)
    rated = db.session.scalar(select(DashRating.id).where(
        DashRating.debrief_id == debrief.id, DashRating.learner_id == current_user.id))
    framing = [(label) for code, label in debriefing.framing_items(sim_session.centre)
               if debrief.framing.get(code)]
    learner_sessions.record_feedback_read(db.session, learner=current_user,
                                          sim_session=sim_session, now=current_now())
    db.session.commit()
    return render_template("debriefs/mine.html", sim_session=sim_session, debrief=debrief,
                           feedback=debrief.feedback_for(current_user.id), spread=spread,
                           spread_svg=svg, framing=framing, rated=rated is not None,
                           factor_label=taxonomy.factor_label)


@bp.route("/<int:session_id>/debrief/rate", methods=["GET", "POST"])
def rate(session_id: int):
    sim_session, debrief = _learner_view(session_id)
    form = rating_form_class()()
    if form.validate_on_submit():
        if form.skip.data:
            flash(_("No rating sent. Thank you for taking part."), "info")
            return _back("debriefs.mine", sim_session)
        scores = {code: int(form[code].data) if form[code].data else None
                  for code, _label in taxonomy.DASH_ELEMENTS}
        thanks = _("Thank you. Your instructors only ever see ratings combined with at least "
                   "%(count)d others.", count=sim_session.centre.min_group_size - 1)
        if _submit(form, thanks, debriefing.rate_debrief, debrief=debrief,
                   learner=current_user, scores=scores):
            return _back("debriefs.mine", sim_session)
    return render_template("debriefs/rate.html", sim_session=sim_session, form=form,
                           elements=taxonomy.DASH_ELEMENTS), \
        form_status()
