"""Supporters' queue of conversation requests.

The queue lists requests without what the learners shared; opening one shows it and leaves an
audit event. Emails to supporters say only that someone asked, with a link to the queue.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from simdebrief import checkin_options, policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.models import SupportRequest, SupportStatus
from simdebrief.services import support
from simdebrief.web import client_ip, paging
from simdebrief.web.forms import apply_service_errors
from simdebrief.web.navigation import TIER_NAMES
from simdebrief.web.support.forms import CloseForm, ContactForm, ReferForm, TakeForm

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
        event_names=EVENT_NAMES,
        take_form=forms.get("take_form") or TakeForm(),
        contact_form=forms.get("contact_form") or ContactForm(prefix="contact"),
        refer_form=forms.get("refer_form") or ReferForm(prefix="refer"),
        close_form=forms.get("close_form") or CloseForm(prefix="close"),
    ), status


@bp.get("/")
@supporters_only
def queue():
    page = paging.window(db.session, support.queue_query(current_user), per_page=QUEUE_PAGE)
    return render_template("support/queue.html", requests=page.items, page=page,
                           tier_names=TIER_NAMES, status_names=STATUS_NAMES)


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
