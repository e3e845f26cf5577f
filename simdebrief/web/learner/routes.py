"""The learner's own pages: emotional check-ins and asking for a conversation.

Everything here is visible to the learner alone. Nothing on these pages alerts anyone; only
a request the learner sends reaches the supporters, and then only what they chose to share.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from simdebrief import checkin_options, policy, taxonomy
from simdebrief.clock import current_now
from simdebrief.crisis_cues import has_self_harm_cue
from simdebrief.errors import InvalidInput, InvalidState, render_error
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.languages import lazy_gettext as _l
from simdebrief.languages import locale_in_force
from simdebrief.models import CheckIn, SimSession, SupporterTier, SupportRequest, SupportStatus
from simdebrief.services import audit, checkins, crisis, privacy, retention, support
from simdebrief.web import client_ip
from simdebrief.web.forms import EmptyForm, apply_service_errors, form_status
from simdebrief.web.ids import query_int
from simdebrief.web.learner.forms import (
    CheckInForm,
    DeleteEmotionalDataForm,
    ErasureRequestForm,
    SkipForm,
    SupportRequestForm,
    WithdrawForm,
)
from simdebrief.web.loaders import visible_session
from simdebrief.web.navigation import TIER_HINTS

bp = Blueprint("learner", __name__)
learners_only = policy.role_required(policy.may_keep_checkins)

TIER_NAMES = {SupporterTier.PEER: _l("A peer supporter"),
              SupporterTier.PROFESSIONAL: _l("A professional")}
#: Where a request stands, in the learner's words.
STATUS_NAMES = {
    SupportStatus.OPEN: _l("Sent. Waiting for a supporter to pick it up."),
    SupportStatus.TAKEN: _l("A supporter has picked it up and will get in touch."),
    SupportStatus.CONTACTED: _l("A supporter has been in touch."),
    SupportStatus.REFERRED: _l("Passed on to a professional supporter, who will get in touch."),
    SupportStatus.CLOSED: _l("Closed."),
}
WITHDRAWN = _l("You withdrew this request.")
CHANNEL_NAMES = {"email": _l("By email"), "phone": _l("By phone"),
                 "text": _l("By text message"), "in_person": _l("In person")}


def status_text(support_request: SupportRequest) -> str:
    if support_request.status is SupportStatus.CLOSED and support_request.was_withdrawn:
        return str(WITHDRAWN)
    return str(STATUS_NAMES[support_request.status])


def _own_checkin(checkin_id: int) -> CheckIn:
    checkin = db.session.get(CheckIn, checkin_id)
    return policy.require_object(checkin, lambda c: policy.may_view_checkin(current_user, c))


def _own_request(request_id: int) -> SupportRequest:
    support_request = db.session.get(SupportRequest, request_id)
    return policy.require_object(
        support_request,
        lambda r: r.learner_id == current_user.id
        and policy.may_view_support_request(current_user, r))


def _resources(sim_session: SimSession | None) -> list[dict]:
    """The support resources listed with the session's scenario."""
    if sim_session is None:
        return []
    content = sim_session.scenario_version.localized_content()
    resources = []
    for resource in content.get("support_resources") or ():
        if not isinstance(resource, dict):
            continue
        url = str(resource.get("url") or "")
        resources.append({
            "title": str(resource.get("title", "")),
            "description": str(resource.get("description", "")),
            "kind": taxonomy.label(taxonomy.SUPPORT_RESOURCE_KINDS, resource.get("kind", "")),
            "url": url if url.startswith(("https://", "http://")) else "",
        })
    return resources


@bp.route("/sessions/<int:session_id>/check-in", methods=["GET", "POST"])
@learners_only
def check_in(session_id: int):
    sim_session = visible_session(session_id)
    if not policy.may_check_in(current_user, sim_session):
        # The session is the learner's own, so its existence is no secret: say why.
        return render_error(403, _(
            "Check-ins are open to learners who took part, once the session has started. "
            "You can still ask for a conversation at any time from “My support requests”."))
    form, skip_form = CheckInForm(), SkipForm()
    if request.method == "POST" and skip_form.skip.data:
        if skip_form.validate_on_submit():
            checkins.skip_checkin(db.session, user=current_user, sim_session=sim_session,
                                  now=current_now())
            db.session.commit()
            flash(_("Skipped. You can check in later from this page whenever you like."),
                  "success")
            return redirect(url_for("sessions.detail", session_id=session_id))
        form.form_errors.append(_("The form expired or was sent twice. Please try again."))
    elif form.validate_on_submit():
        answers = checkins.Answers(
            distress=form.distress.data,
            symptoms=tuple(form.symptoms.data or ()),
            coping=tuple(form.coping.data or ()),
            support_wanted=tuple(form.support_wanted.data or ()),
            free_text=form.free_text.data or "",
        )
        try:
            checkin = checkins.submit_checkin(db.session, user=current_user,
                                              sim_session=sim_session, answers=answers,
                                              now=current_now())
        except InvalidInput as error:
            db.session.rollback()
            sim_session = visible_session(session_id)
            apply_service_errors(form, error)
        else:
            db.session.commit()
            return redirect(url_for("learner.check_in_detail", checkin_id=checkin.id,
                                    saved=1))
    status = form_status()
    previous = checkins.latest_answer(db.session, user=current_user, sim_session=sim_session)
    return render_template("learner/check_in.html", sim_session=sim_session, form=form,
                           skip_form=skip_form, options=checkin_options,
                           previous=previous), status


@bp.get("/check-ins")
@learners_only
def check_ins():
    return render_template("learner/check_ins.html",
                           checkins=checkins.checkins_of(db.session, current_user),
                           options=checkin_options)


@bp.get("/check-ins/<int:checkin_id>")
@learners_only
def check_in_detail(checkin_id: int):
    checkin = _own_checkin(checkin_id)
    centre = current_user.centre
    band = crisis.band_for_checkin(checkin, centre)
    return render_template(
        "learner/check_in_detail.html", checkin=checkin, options=checkin_options,
        saved=request.args.get("saved") == "1",
        offer=checkins.needs_offer(checkin, centre) or band is crisis.Band.URGENT,
        centre=centre, resources=_resources(checkin.session), band=band.value,
        urgent_contacts=crisis.urgent_contacts(db.session, centre),
        urgent_request=support.active_urgent_request(db.session, current_user))


@bp.post("/support/urgent")
@learners_only
def urgent_request():
    """One click: an urgent request to the on-duty professional, carrying no answers."""
    policy.require(policy.may_ask_for_support(current_user))
    if not EmptyForm().validate_on_submit():
        abort(400)
    sim_session = None
    checkin_id = request.args.get("checkin", type=int)
    if checkin_id is not None:
        sim_session = _own_checkin(checkin_id).session
    created = support.raise_urgent_request(db.session, learner=current_user,
                                           now=current_now(), sim_session=sim_session)
    db.session.commit()
    return redirect(url_for("learner.support_request", request_id=created.id, sent=1))


def _request_context():
    """The session and check-in named in the query string, which must be the learner's."""
    sim_session = checkin = None
    session_id = query_int("session")
    if session_id is not None:
        sim_session = visible_session(session_id)
    checkin_id = query_int("checkin")
    if checkin_id is not None:
        checkin = _own_checkin(checkin_id)
        if checkin.skipped or (sim_session is not None
                               and checkin.session_id != sim_session.id):
            checkin = None
        elif sim_session is None and checkin.session_id is not None:
            sim_session = visible_session(checkin.session_id)
    if checkin is None and sim_session is not None:
        checkin = checkins.latest_answer(db.session, user=current_user, sim_session=sim_session)
    return sim_session, checkin


@bp.route("/support/new", methods=["GET", "POST"])
@learners_only
def request_support():
    policy.require(policy.may_ask_for_support(current_user))
    sim_session, checkin = _request_context()
    form = SupportRequestForm()
    if request.method == "GET" and request.args.get("tier") in (
            SupporterTier.PEER.value, SupporterTier.PROFESSIONAL.value):
        form.tier.data = request.args["tier"]
    if form.validate_on_submit():
        now = current_now()
        try:
            created = support.create_request(
                db.session, learner=current_user, tier=SupporterTier(form.tier.data),
                sim_session=sim_session,
                checkin=checkin if form.share_checkin.data else None,
                message=form.message.data or "",
                instructors_informed=form.instructors_informed.data,
                contact=form.contact(), now=now)
        except InvalidInput as error:
            db.session.rollback()
            sim_session, checkin = _request_context()
            apply_service_errors(form, error)
        else:
            db.session.commit()
            return redirect(url_for("learner.support_request", request_id=created.id,
                                    sent=1))
    status = form_status()
    return render_template("learner/request_support.html", form=form,
                           sim_session=sim_session, checkin=checkin,
                           tier_hints=TIER_HINTS), status


@bp.get("/support")
@learners_only
def support_requests():
    return render_template("learner/support_requests.html",
                           requests=support.requests_of(db.session, current_user),
                           tier_names=TIER_NAMES, status_text=status_text)


@bp.get("/support/<int:request_id>")
@learners_only
def support_request(request_id: int):
    support_request = _own_request(request_id)
    show_urgent = support_request.is_active and (
        support_request.urgent or has_self_harm_cue(support_request.message))
    return render_template("learner/support_request.html",
                           support_request=support_request,
                           sent=request.args.get("sent") == "1", withdraw_form=WithdrawForm(),
                           tier_names=TIER_NAMES, status_text=status_text,
                           channel_names=CHANNEL_NAMES, show_urgent=show_urgent,
                           urgent_contacts=crisis.urgent_contacts(db.session,
                                                                  current_user.centre),
                           urgent_request=support.active_urgent_request(db.session,
                                                                        current_user))


@bp.post("/support/<int:request_id>/withdraw")
@learners_only
def withdraw_support_request(request_id: int):
    support_request = _own_request(request_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            support.withdraw(db.session, request=support_request, learner=current_user,
                             now=current_now())
        except InvalidState as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Your request is withdrawn. You can ask again whenever you like."),
                  "success")
    return redirect(url_for("learner.support_requests"))


# --- my data --------------------------------------------------------------------------------


def _my_data_page(delete_form=None, erasure_form=None, status: int = 200):
    now = current_now()
    return render_template(
        "learner/my_data.html",
        delete_form=delete_form or DeleteEmotionalDataForm(prefix="delete"),
        erasure_form=erasure_form or ErasureRequestForm(prefix="erasure"),
        withdraw_form=EmptyForm(),
        purge_at=retention.emotional_purge_at(db.session, current_user),
        purge_soon=retention.upcoming_purge(db.session, current_user, now) is not None,
        centre=current_user.centre), status


@bp.get("/data")
@learners_only
def my_data():
    return _my_data_page()


def _record_export(document: str) -> None:
    audit.record(db.session, action="learner.data_exported", actor=current_user,
                 now=current_now(), object_type="user", object_id=current_user.id,
                 ip_address=client_ip(), detail=f"format={document}")
    db.session.commit()


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/data/export.json")
@learners_only
def export_json():
    export = privacy.export(db.session, current_user, current_now())
    body = json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")
    _record_export("json")
    return _download(body, "application/json", "my-simdebrief-data.json")


MY_DATA_SECTIONS = {
    "account": _l("Your account"),
    "sessions": _l("Sessions you took part in"),
    "feedback_to_you": _l("Feedback to you"),
    "your_debrief_ratings": _l("Your ratings of debriefs"),
    "check_ins": _l("Your check-ins"),
    "requests_for_a_conversation": _l("Your requests for a conversation"),
    "follow_ups": _l("Your follow-ups"),
    "follow_up_choices": _l("Your follow-up choices"),
    "event_tracks": _l("Tracks you started"),
    "logins": _l("Your logins"),
    "audit_events": _l("Recorded actions concerning you"),
}


@bp.get("/data/export.pdf")
@learners_only
def export_pdf():
    from simdebrief.reports.my_data_pdf import MyDataWording, render_my_data_pdf

    export = privacy.export(db.session, current_user, current_now())
    wording = MyDataWording(
        title=_("Everything SimDebrief holds about you"),
        intro=_("This copy is for you alone. It contains your check-ins and what you wrote; "
                "keep it somewhere safe."),
        empty=_("Nothing."), page_of=_("Page %(page)s of %(pages)s"),
        sections={key: str(title) for key, title in MY_DATA_SECTIONS.items()})
    pdf = render_my_data_pdf(export, wording, learner=current_user.name,
                             centre=current_user.centre.name, language=str(locale_in_force()))
    _record_export("pdf")
    return _download(pdf, "application/pdf", "my-simdebrief-data.pdf")


@bp.post("/data/delete")
@learners_only
def delete_emotional_data():
    form = DeleteEmotionalDataForm(prefix="delete")
    if not form.validate_on_submit():
        return _my_data_page(delete_form=form, status=400)
    counts = privacy.delete_emotional_data(db.session, user=current_user, now=current_now(),
                                           ip_address=client_ip())
    db.session.commit()
    flash(_("Deleted: %(checkins)d check-in(s) and the texts of %(texts)d request(s) for a "
            "conversation. Your sessions and debrief feedback are still here.",
            checkins=counts["check_ins"], texts=counts["request_texts"]), "success")
    return redirect(url_for("learner.my_data"))


@bp.post("/data/erasure")
@learners_only
def request_erasure():
    form = ErasureRequestForm(prefix="erasure")
    if not form.validate_on_submit():
        return _my_data_page(erasure_form=form, status=400)
    try:
        privacy.request_erasure(db.session, user=current_user, now=current_now(),
                                ip_address=client_ip())
    except InvalidState as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Your request is sent. An administrator of %(centre)s will erase your account; "
                "until then you can still log in, download your data or withdraw the request.",
                centre=current_user.centre.name), "success")
    return redirect(url_for("learner.my_data"))


@bp.post("/data/erasure/withdraw")
@learners_only
def withdraw_erasure():
    if not EmptyForm().validate_on_submit():
        return render_error(400)
    privacy.withdraw_erasure_request(db.session, user=current_user, now=current_now(),
                                     ip_address=client_ip())
    db.session.commit()
    flash(_("Your request to erase your account is withdrawn."), "success")
    return redirect(url_for("learner.my_data"))
