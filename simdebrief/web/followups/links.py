"""The stage form opened by a signed link: answering, choosing, asking to talk.

A signed link opens its own stage and nothing else, without a password.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState, LinkExpired, LinkInvalid
from simdebrief.extensions import db
from simdebrief.models import (
    FollowUp,
    FollowUpStatus,
    SupporterTier,
)
from simdebrief.services import checkins, crisis, support
from simdebrief.services.followups import (
    answers,
    conversations,
    learner_choices,
    stage_rows,
)
from simdebrief.web import public
from simdebrief.web.followups.forms import (
    ChoiceForm,
    stage_form,
)
from simdebrief.web.followups.routes import (
    CHOICE_DONE,
    bp,
    handle_stage_post,
    render_stage,
    template_context,
)
from simdebrief.web.forms import EmptyForm, apply_service_errors, form_status
from simdebrief.web.learner.forms import SkipForm, SupportRequestForm
from simdebrief.web.navigation import TIER_HINTS


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
    """The stage's form, opened from the email without a password: this stage only."""
    if followup.status is FollowUpStatus.COMPLETED or followup.status is FollowUpStatus.SKIPPED:
        offer = session.pop("followup_offer", None) == followup.id
        checkin = answers.answered_checkin(db.session, followup)
        band = (crisis.band_for_checkin(checkin, followup.centre) if checkin is not None
                else crisis.Band.STEADY)
        return render_template("followups/done.html", followup=followup, token=token,
                               offer=offer or band is crisis.Band.URGENT, band=band.value,
                               urgent_contacts=crisis.urgent_contacts(db.session,
                                                                      followup.centre),
                               urgent_request=support.active_urgent_request(db.session,
                                                                            followup.user),
                               centre=followup.centre, choice_form=ChoiceForm(),
                               skipped=followup.status is FollowUpStatus.SKIPPED,
                               state=stage_rows.state_of(db.session, followup.user),
                               **template_context())
    now = current_now()
    form, skip_form = stage_form(followup.stage), SkipForm()
    if request.method == "POST":
        try:
            checkin = handle_stage_post(followup, form, skip_form, now)
        except InvalidState as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("followups.stage_by_link", token=token))
        if checkin is not None:
            db.session.commit()
            if checkins.needs_offer(checkin, followup.centre):
                session["followup_offer"] = followup.id
            return redirect(url_for("followups.stage_by_link", token=token))
    return render_stage(followup, form, skip_form, token=token,
                         status=form_status())


@bp.post("/f/<token>/choice")
@public
@_link_guard
def link_choice(followup: FollowUp, token: str):
    """Pause or stop every follow-up from the email's page, with no login and no reason."""
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
    """Ask for a conversation from the stage's page, sharing this stage's answers if wished."""
    checkin = answers.answered_checkin(db.session, followup)
    if checkin is not None and checkin.skipped:
        checkin = None
    form = SupportRequestForm()
    if request.method == "GET" and request.args.get("tier") in (
            SupporterTier.PEER.value, SupporterTier.PROFESSIONAL.value):
        form.tier.data = request.args["tier"]
    if form.validate_on_submit():
        now = current_now()
        try:
            support.create_request(
                db.session, learner=followup.user, tier=SupporterTier(form.tier.data),
                sim_session=followup.session,
                checkin=checkin if form.share_checkin.data else None,
                message=form.message.data or "",
                instructors_informed=form.instructors_informed.data,
                contact=form.contact(), now=now)
        except InvalidInput as error:
            db.session.rollback()
            apply_service_errors(form, error)
        else:
            db.session.commit()
            return render_template("followups/talk_sent.html", followup=followup,
                                   token=token, centre=followup.centre)
    return render_template("followups/talk.html", followup=followup, token=token, form=form,
                           checkin=checkin, tier_hints=TIER_HINTS,
                           centre=followup.centre), form_status()


@bp.post("/f/<token>/urgent")
@public
@_link_guard
def link_urgent(followup: FollowUp, token: str):
    """One click from the stage's page: an urgent request to the on-duty professional."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    support.raise_urgent_request(db.session, learner=followup.user, now=current_now(),
                                 sim_session=followup.session)
    db.session.commit()
    return redirect(url_for("followups.stage_by_link", token=token))


@bp.post("/f/<token>/conversation/decline")
@public
@_link_guard
def link_decline_conversation(followup: FollowUp, token: str):
    """Decline the offered conversation from the email's page: one click, no login."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    conversations.decline(db.session, followup=followup, now=current_now())
    db.session.commit()
    flash(_("No conversation then. You can still ask for one at any time."), "success")
    return redirect(url_for("followups.stage_by_link", token=token))
