"""The debrief analysis pages: plus/delta items, care-delivery problems and their factors."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from simdebrief import policy, taxonomy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    AnalysisItem,
    CareProblem,
    ContributingFactor,
    SimSession,
)
from simdebrief.services import debrief_factors
from simdebrief.web.debriefs.forms import (
    AnalysisItemForm,
    FactorForm,
    JustCultureForm,
    ProblemForm,
)
from simdebrief.web.debriefs.routes import (
    back_to,
    bp,
    debrief_of,
    debrief_page,
    instructor_session,
    spread_chart,
    submit_form,
)
from simdebrief.web.forms import EmptyForm, choices, form_status

# --- analysis items -------------------------------------------------------------------------


def _analysis_input(form: AnalysisItemForm) -> debrief_factors.AnalysisInput:
    return debrief_factors.AnalysisInput(
        kind=form.kind.data or "", domain=form.domain.data, strategy=form.strategy.data,
        text=form.text.data or "", observation=form.observation.data or "",
        question=form.question.data or "", learner_frame=form.learner_frame.data or "")


@bp.route("/<int:session_id>/debrief/analysis", methods=["GET", "POST"])
def analysis(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    form = AnalysisItemForm()
    if form.validate_on_submit():
        if submit_form(form, _("Item added."), debrief_factors.add_analysis_item, debrief=debrief,
                       actor=current_user, data=_analysis_input(form)):
            return back_to("debriefs.analysis", sim_session)
        debrief = debrief_of(sim_session)
    return debrief_page("analysis.html", sim_session, debrief,
                        status=form_status(), form=form)






def _owned_item(debrief, item_id: int) -> AnalysisItem:
    return policy.require_object(db.session.get(AnalysisItem, item_id),
                                 lambda i: i.debrief_id == debrief.id)


@bp.route("/<int:session_id>/debrief/analysis/<int:item_id>", methods=["GET", "POST"])
def analysis_item(session_id: int, item_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    item = _owned_item(debrief, item_id)
    form = AnalysisItemForm(obj=item)
    form.submit.label.text = _("Save item")
    if form.validate_on_submit() and submit_form(
            form, _("Item saved."), debrief_factors.update_analysis_item, item=item,
            actor=current_user, data=_analysis_input(form)):
        return back_to("debriefs.analysis", sim_session)
    return debrief_page("analysis_item.html", sim_session, debrief,
                        status=form_status(), form=form, item=item)


@bp.post("/<int:session_id>/debrief/analysis/<int:item_id>/delete")
def delete_analysis_item(session_id: int, item_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
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
    return back_to(endpoint, sim_session)


# --- care-delivery problems and contributing factors -----------------------------------------




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
    return debrief_page("factors.html", sim_session, debrief, status=status,
                        problem_form=problem_form or ProblemForm(), factor_forms=factor_forms,
                        culture_forms=culture_forms,
                        culture_label=lambda c: taxonomy.label(taxonomy.JUST_CULTURE_CLASSES, c),
                        spread=spread, spread_svg=svg, factor_label=taxonomy.factor_label,
                        level_label=lambda c: taxonomy.label(taxonomy.LP_LEVELS,
                                                      taxonomy.factor_level(c)),
                        attribution_label=lambda c: taxonomy.label(taxonomy.ATTRIBUTIONS, c))


@bp.route("/<int:session_id>/debrief/factors", methods=["GET", "POST"])
def factors(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    form = ProblemForm()
    if form.validate_on_submit():
        if submit_form(form, _("Problem added. Now add its contributing factors."),
                       debrief_factors.add_problem, debrief=debrief, actor=current_user,
                       description=form.description.data):
            return back_to("debriefs.factors", sim_session)
        debrief = debrief_of(sim_session)
    return _factors_page(sim_session, debrief, problem_form=form,
                         status=form_status())


def _owned_problem(debrief, problem_id: int) -> CareProblem:
    return policy.require_object(db.session.get(CareProblem, problem_id),
                                 lambda p: p.debrief_id == debrief.id)


@bp.post("/<int:session_id>/debrief/problems/<int:problem_id>/factors")
def add_factor(session_id: int, problem_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    problem = _owned_problem(debrief, problem_id)
    form = FactorForm(prefix=f"p{problem.id}")
    if form.validate_on_submit():
        if submit_form(form, _("Factor added."), debrief_factors.add_factor, problem=problem,
                       actor=current_user, data=_factor_input(form)):
            return redirect(url_for("debriefs.factors", session_id=session_id,
                                    _anchor=f"problem-{problem_id}"))
        debrief = debrief_of(sim_session)
    return _factors_page(sim_session, debrief, factor_forms={problem_id: form}, status=400)


@bp.post("/<int:session_id>/debrief/problems/<int:problem_id>/delete")
def delete_problem(session_id: int, problem_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    problem = _owned_problem(debrief, problem_id)
    return _remove(sim_session, "debriefs.factors", _("Problem removed with its factors."),
                   debrief_factors.delete_problem, problem=problem, actor=current_user)


@bp.post("/<int:session_id>/debrief/factors/<int:factor_id>/delete")
def delete_factor(session_id: int, factor_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
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
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    factor = _owned_factor(debrief, factor_id)
    form = FactorForm(obj=factor)
    form.submit.label.text = _("Save factor")
    if form.validate_on_submit() and submit_form(
            form, _("Factor saved."), debrief_factors.update_factor, factor=factor,
            actor=current_user, data=_factor_input(form)):
        return redirect(url_for("debriefs.factors", session_id=session_id,
                                _anchor=f"problem-{factor.problem_id}"))
    return debrief_page("factor_edit.html", sim_session, debrief, status=form_status(), form=form,
                        factor=factor)


@bp.post("/<int:session_id>/debrief/factors/<int:factor_id>/discussed")
def factor_discussed(session_id: int, factor_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    factor = _owned_factor(debrief, factor_id)
    return _remove(sim_session, "debriefs.factors", _("Marked as discussed with the group."),
                   debrief_factors.mark_factor_discussed, factor=factor, actor=current_user)


@bp.post("/<int:session_id>/debrief/problems/<int:problem_id>/classify")
def classify_problem(session_id: int, problem_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    problem = _owned_problem(debrief, problem_id)
    form = JustCultureForm(prefix=f"jc{problem.id}")
    form.just_culture.choices = choices([("", _("Not classified"))] + list(
        debrief_factors.just_culture_choices(sim_session.centre)))
    if form.validate_on_submit() and submit_form(
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
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
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
    return back_to("debriefs.factors", sim_session)
