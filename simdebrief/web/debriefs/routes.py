"""The instructor's structured debrief, and the learner's view of its finalised result."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from simdebrief import policy, taxonomy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    SimSession,
)
from simdebrief.services import debrief_factors, debriefing
from simdebrief.timefmt import local_text
from simdebrief.web.debriefs.forms import (
    field_key,
    notes_form_class,
)
from simdebrief.web.forms import EmptyForm, apply_service_errors
from simdebrief.web.loaders import visible_session

bp = Blueprint("debriefs", __name__)


def instructor_session(session_id: int) -> SimSession:
    sim_session = visible_session(session_id)
    policy.require(policy.may_run_debrief(current_user, sim_session))
    return sim_session


def debrief_of(sim_session: SimSession):
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


def debrief_page(template: str, sim_session, debrief, status: int = 200, **context):
    """A debrief page. ``editable``: a draft, and the visitor is not an observer."""
    editable = (debrief is not None and not debrief.is_final
                and policy.may_edit_debrief(current_user, sim_session, debrief))
    return render_template(
        f"debriefs/{template}", sim_session=sim_session, debrief=debrief,
        action_form=EmptyForm(), learners=debriefing.debrief_learners(sim_session),
        taxonomy_prebrief=taxonomy.PREBRIEF_ITEMS, analysis_labels=ANALYSIS_LABELS,
        editable=editable, team=debriefing.debriefers(debrief) if debrief else [],
        debriefer_role_label=lambda code: taxonomy.label(taxonomy.DEBRIEF_ROLES, code),
        **context), status


def back_to(endpoint: str, sim_session: SimSession, **values):
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
    sim_session = instructor_session(session_id)
    debrief = debriefing.debrief_for(db.session, sim_session)
    if debrief is None:
        return debrief_page("start.html", sim_session, None)
    form, phases, framing = _notes_form(debrief)
    return debrief_page("notes.html", sim_session, debrief, form=form, phases=phases,
                        framing=framing, conflict=None)


@bp.post("/<int:session_id>/debrief/start")
def start(session_id: int):
    sim_session = instructor_session(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        debriefing.start_debrief(db.session, sim_session=sim_session, actor=current_user,
                                 now=current_now())
    except InvalidState as error:
        flash(str(error), "error")
        return redirect(url_for("sessions.detail", session_id=session_id))
    db.session.commit()
    return back_to("debriefs.edit", sim_session)


@bp.post("/<int:session_id>/debrief")
def save(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
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
            show_form_error(form, error)
        else:
            if autosave:
                return {"version": debrief.version, "message": _(
                    "Saved automatically at %(time)s.",
                    time=local_text(current_now(), sim_session.centre.timezone, "time"))}
            flash(_("Debrief saved."), "success")
            return back_to("debriefs.edit", sim_session)
    if autosave:
        # The page keeps what was typed; a full save then shows the messages by the fields.
        message = (_("Not saved: a colleague saved the debrief meanwhile. Press Save to see "
                     "both texts.") if conflict else
                   _("Not saved automatically. Press Save to see what needs attention."))
        return {"message": message}, 409 if conflict else 400
    if conflict is not None:
        debrief = debrief_of(sim_session)
        # Their text stays in the form; saving again is now a deliberate choice.
        form.version.data = conflict.current_version
    return debrief_page("notes.html", sim_session, debrief, status=409 if conflict else 400,
                        form=form, phases=phases, framing=framing, conflict=conflict)


def submit_form(form, message: str, change, **arguments) -> bool:
    """Run a valid form's change: commit and say so, or roll back and put the service's
    objection next to the fields. Returns whether it was saved."""
    try:
        change(db.session, now=current_now(), **arguments)
    except (InvalidInput, InvalidState) as error:
        db.session.rollback()
        show_form_error(form, error)
        return False
    db.session.commit()
    flash(message, "success")
    return True


def show_form_error(form, error) -> None:
    if isinstance(error, InvalidInput):
        apply_service_errors(form, error)
    else:
        form.form_errors.append(str(error))


def spread_chart(debrief) -> tuple[list, str]:
    spread = debrief_factors.factor_spread(debrief)
    from simdebrief.reports.charts import factor_spread_svg  # reportlab, loaded on use

    svg = factor_spread_svg(
        [(label, count) for _code, label, count in spread],
        title=_("Contributing factors per London Protocol level"),
        description=_("The same numbers are in the table next to the chart."),
        element_id="factor-spread")
    return spread, svg


# The pages register themselves on ``bp`` when imported.
from simdebrief.web.debriefs import analysis_pages, finalise_pages, learner_pages, record_pages  # noqa: E402, F401
