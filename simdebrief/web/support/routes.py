"""Supporters' queue of conversation requests.

The queue lists requests without what the learners shared; opening one shows it and leaves an
audit event. Emails to supporters say only that someone asked, with a link to the queue.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from simdebrief import checkin_options, policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import SupportRequest, SupportStatus
from simdebrief.services import support, support_triage
from simdebrief.web import client_ip, paging
from simdebrief.web.forms import apply_service_errors
from simdebrief.web.navigation import TIER_NAMES
from simdebrief.web.support.forms import (
    AvailabilityForm,
    CloseForm,
    ContactForm,
    ReferForm,
    TakeForm,
)

bp = Blueprint("support", __name__)
#: Requests per page of the queue.
QUEUE_PAGE = 50
supporters_only = policy.role_required(policy.may_work_support_queue)

#: How a request's state reads to the supporters.
STATUS_NAMES = {
    SupportStatus.OPEN: _l("Waiting to be taken"),
    SupportStatus.TAKEN: _l("Taken"),
    SupportStatus.CONTACTED: _l("In touch"),
    SupportStatus.REFERRED: _l("Referred, waiting to be taken"),
    SupportStatus.CLOSED: _l("Closed"),
}
EVENT_NAMES = {
    "created": _l("Asked for a conversation"),
    "taken": _l("Taken"),
    "contacted": _l("In touch with the learner"),
    "referred": _l("Referred to the professional supporters"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn by the learner"),
    "escalated": _l("Not taken in time: the administrators were told"),
    "escalated_to_professionals": _l("Not taken in time: passed up to the professional "
                                     "supporters"),
}
CHANNEL_NAMES = {"email": _l("Email"), "phone": _l("Phone"), "text": _l("Text message"),
                 "in_person": _l("In person")}
#: How a request came about, as the supporters read it.
ORIGIN_NAMES = {
    "learner": _l("Asked by the learner"),
    "urgent": _l("Urgent: the learner pressed the urgent button"),
    "cue_alert": _l("Urgent: raised by the crisis route after something the learner wrote "
                    "(not shown)"),
    "offered": _l("Offered conversation the learner did not decline"),
    "answer": _l("The learner said yes to a conversation in a follow-up"),
}


def _visible(request_id: int) -> SupportRequest:
    support_request = db.session.get(SupportRequest, request_id)
    return policy.require_object(
        support_request, lambda r: policy.may_view_support_request(current_user, r))


def _workable(request_id: int) -> SupportRequest:
    support_request = _visible(request_id)
    policy.require(policy.may_work_support_request(current_user, support_request))
    return support_request


def _detail_page(support_request: SupportRequest, status: int = 200, **forms):
    """Show what the learner shared; every showing is audited."""
    support.record_view(db.session, request=support_request, viewer=current_user,
                        now=current_now(), ip_address=client_ip())
    db.session.commit()
    mine = support_request.assignee_id == current_user.id
    return render_template(
        "support/detail.html", support_request=support_request, mine=mine,
        options=checkin_options, tier_names=TIER_NAMES, status_names=STATUS_NAMES,
        event_names=EVENT_NAMES, channel_names=CHANNEL_NAMES, origin_names=ORIGIN_NAMES,
        take_form=forms.get("take_form") or TakeForm(),
        contact_form=forms.get("contact_form") or ContactForm(prefix="contact"),
        refer_form=forms.get("refer_form") or ReferForm(prefix="refer"),
        close_form=forms.get("close_form") or CloseForm(prefix="close"),
    ), status


def waiting_text(waiting: timedelta) -> str:
    """A waiting time as a supporter reads it: minutes, hours, or days and hours."""
    minutes = int(waiting.total_seconds() // 60)
    if minutes < 60:
        return _("%(num)d min", num=minutes)
    hours = minutes // 60
    if hours < 48:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes % 60)
    return _("%(days)d days %(hours)d h", days=hours // 24, hours=hours % 24)


@bp.get("/")
@supporters_only
def queue():
    now = current_now()
    page = paging.window(db.session,
                         support_triage.with_last_referral(support.queue_query(current_user)),
                         per_page=QUEUE_PAGE, scalars=False,
                         values=support.queue_values(current_user))
    rows = support_triage.triage(page.items, current_user.centre, now)
    return render_template("support/queue.html", rows=rows, page=page, now=now,
                           tier_names=TIER_NAMES, status_names=STATUS_NAMES,
                           channel_names=CHANNEL_NAMES, origin_names=ORIGIN_NAMES,
                           waiting_text=waiting_text, availability_form=AvailabilityForm())


@bp.post("/availability")
@supporters_only
def availability():
    form = AvailabilityForm()
    if not form.validate_on_submit():
        abort(400)
    available = form.available.data == "1"
    support_triage.set_availability(db.session, supporter=current_user, available=available,
                                    now=current_now())
    db.session.commit()
    flash(_("You are marked as available. New requests are emailed to you.") if available
          else _("You are marked as unavailable. New requests are not emailed to you until "
                 "you come back."), "success")
    return redirect(url_for("support.queue"))


@bp.get("/<int:request_id>")
@supporters_only
def detail(request_id: int):
    return _detail_page(_visible(request_id))


@bp.post("/<int:request_id>/take")
@supporters_only
def take(request_id: int):
    support_request = _workable(request_id)
    if not TakeForm().validate_on_submit():
        abort(400)
    try:
        support.take(db.session, request=support_request, supporter=current_user,
                     now=current_now())
    except InvalidState as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The request is yours. Please get in touch with the learner soon."), "success")
    return redirect(url_for("support.detail", request_id=request_id))


def _act(request_id: int, form_name: str, form, action, success: str, back_to_queue: bool):
    support_request = _workable(request_id)
    if form.validate_on_submit():
        try:
            action(db.session, request=support_request, supporter=current_user,
                   note=form.note.data or "", now=current_now())
        except InvalidState as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("support.detail", request_id=request_id))
        except InvalidInput as error:
            db.session.rollback()
            support_request = _workable(request_id)
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(success, "success")
            if back_to_queue:
                return redirect(url_for("support.queue"))
            return redirect(url_for("support.detail", request_id=request_id))
    return _detail_page(support_request, 400, **{form_name: form})


@bp.post("/<int:request_id>/contacted")
@supporters_only
def contacted(request_id: int):
    return _act(request_id, "contact_form", ContactForm(prefix="contact"),
                support.record_contact, _("Contact recorded."), back_to_queue=False)


@bp.post("/<int:request_id>/refer")
@supporters_only
def refer(request_id: int):
    return _act(request_id, "refer_form", ReferForm(prefix="refer"), _refer_and_notify,
                _("Referred. The professional supporters are told by email."),
                back_to_queue=True)


def _refer_and_notify(session, *, request, supporter, note, now):
    support.refer(session, request=request, supporter=supporter, note=note, now=now)


@bp.post("/<int:request_id>/close")
@supporters_only
def close(request_id: int):
    return _act(request_id, "close_form", CloseForm(prefix="close"), support.close,
                _("The request is closed."), back_to_queue=True)
