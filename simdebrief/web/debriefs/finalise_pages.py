"""Finalising a debrief (with a check of what is missing) and amending it afterwards."""

from __future__ import annotations

from flask import abort, flash, request
from flask_login import current_user

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.services import debriefing
from simdebrief.web.debriefs.forms import (
    AmendmentForm,
)
from simdebrief.web.debriefs.routes import (
    back_to,
    bp,
    debrief_of,
    debrief_page,
    instructor_session,
    submit_form,
)
from simdebrief.web.forms import EmptyForm, choices, form_status

# --- finalise and amend ------------------------------------------------------------------------


@bp.get("/<int:session_id>/debrief/finalise")
def confirm_finalise(session_id: int):
    """What is still missing, shown before the debrief is locked; its form posts finalise."""
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    return debrief_page("finalise.html", sim_session, debrief,
                        check=debriefing.finalise_check(debrief))


@bp.post("/<int:session_id>/debrief/finalise")
def finalise(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        debriefing.finalise(db.session, debrief=debrief, actor=current_user, now=current_now())
    except (InvalidInput, InvalidState) as error:
        db.session.rollback()
        flash(str(error), "error")
        return back_to("debriefs.edit", sim_session)
    db.session.commit()
    flash(_("The debrief is finalised. Learners can now read their feedback."), "success")
    return back_to("debriefs.edit", sim_session)


@bp.route("/<int:session_id>/debrief/amend", methods=["GET", "POST"])
def amend(session_id: int):
    sim_session = instructor_session(session_id)
    debrief = debrief_of(sim_session)
    if not debrief.is_final:
        return back_to("debriefs.edit", sim_session)
    targets = debriefing.amendable_targets(debrief)
    form = AmendmentForm()
    form.target.choices = choices([("", _("Choose"))] + [(c, label) for c, label, _t in targets])
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]
        form.text.data = next((t for c, _l, t in targets if c == form.target.data), "")
    if form.validate_on_submit():
        if submit_form(form, _("Amendment recorded."), debriefing.amend, debrief=debrief,
                       actor=current_user, target=form.target.data, text=form.text.data or "",
                       reason=form.reason.data):
            return back_to("debriefs.edit", sim_session)
        debrief = debrief_of(sim_session)
    return debrief_page("amend.html", sim_session, debrief, form=form, targets=targets,
                        may_amend=policy.may_edit_debrief(current_user, sim_session, debrief),
                        status=form_status())
