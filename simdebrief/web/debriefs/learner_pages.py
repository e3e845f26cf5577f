"""The learner's side of a debrief: its finalised result and their rating of it."""

from __future__ import annotations

from flask import abort, flash, render_template
from flask_login import current_user
from sqlalchemy import select

from simdebrief import policy, taxonomy
from simdebrief.clock import current_now
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    DashRating,
)
from simdebrief.services import debriefing, learner_sessions
from simdebrief.web.debriefs.forms import (
    rating_form_class,
)
from simdebrief.web.debriefs.routes import back_to, bp, spread_chart, submit_form
from simdebrief.web.forms import form_status
from simdebrief.web.loaders import visible_session

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
            return back_to("debriefs.mine", sim_session)
        scores = {code: int(form[code].data) if form[code].data else None
                  for code, _label in taxonomy.DASH_ELEMENTS}
        thanks = _("Thank you. Your instructors only ever see ratings combined with at least "
                   "%(count)d others.", count=sim_session.centre.min_group_size - 1)
        if submit_form(form, thanks, debriefing.rate_debrief, debrief=debrief,
                       learner=current_user, scores=scores):
            return back_to("debriefs.mine", sim_session)
    return render_template("debriefs/rate.html", sim_session=sim_session, form=form,
                           elements=taxonomy.DASH_ELEMENTS), \
        form_status()
