"""The stage form opened by a signed link: answering, choosing, asking to talk.

A signed link opens its own stage and nothing else, without a password.
"""

from __future__ import annotations

from flask import (
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
from flask_login import current_user

from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState, LinkExpired, LinkInvalid
from simdebrief.extensions import csrf, db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    FollowUp,
    FollowUpStatus,
    PreferenceState,
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
    changing follow-ups then needs a login (the email's stop link still works). Only the
    browser that just answered sees the response to what was written (the crisis route
    when it is bad); a forwarded or reopened link never shows it."""
    if answers.is_answered(followup):
        offer = session.pop("followup_offer", None) == followup.id
        just_answered = session.get("followup_answered") == followup.id
        band = crisis.Band.STEADY
        if just_answered:  # the response to what was just written, never to a reopened link
            checkin = answers.answered_checkin(db.session, followup)
            if checkin is not None:
                band = crisis.band_for_checkin(checkin, followup.centre)
        urgent = band is crisis.Band.URGENT  # only then does the page show the crisis route
        return render_template(
            "followups/done.html", followup=followup, offer=offer or urgent, band=band.value,
            just_answered=just_answered, token=token if just_answered else None,
            urgent_contacts=crisis.urgent_contacts(db.session, followup.centre) if urgent else [],
            urgent_request=(support.active_urgent_request(db.session, followup.user)
                            if urgent else None),
            centre=followup.centre, skipped=followup.status is FollowUpStatus.SKIPPED,
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
            session["followup_answered"] = followup.id
            if checkins.needs_offer(checkin, followup.centre):
                session["followup_offer"] = followup.id
            return redirect(url_for("followups.stage_by_link", token=token))
    return render_stage(followup, form, skip_form, token=token,
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


@bp.post("/f/<token>/urgent")
@public
@_link_guard
def link_urgent(followup: FollowUp, token: str):
    """One click from the page that answered a stage: an urgent request to the on-duty
    professional. Only in the browser that just answered; a forwarded link cannot."""
    if session.get("followup_answered") != followup.id:
        return redirect(url_for("followups.stage_by_link", token=token), 303)
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
