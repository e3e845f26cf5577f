"""Admin pages for records: the outbox and the read-only audit log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import String, cast, func, or_, select

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    AuditEvent,
    OutboxEmail,
    OutboxStatus,
    User,
)
from simdebrief.services import (
    audit,
    notifications,
)
from simdebrief.web import client_ip, paging
from simdebrief.web.admin.routes import PAGE_SIZE, bp
from simdebrief.web.forms import EmptyForm
from simdebrief.web.ids import MAX_ID, page_number

# --- outbox --------------------------------------------------------------------------------


@bp.get("/outbox")
@policy.role_required(policy.may_view_outbox)
def outbox():
    status = request.args.get("status", "")
    query = select(OutboxEmail).where(OutboxEmail.centre_id == current_user.centre_id)
    if status in {s.value for s in OutboxStatus}:
        query = query.where(OutboxEmail.status == OutboxStatus(status))
    page = paging.window(db.session, query.order_by(OutboxEmail.id.desc()), per_page=PAGE_SIZE)
    counts = dict(db.session.execute(
        select(OutboxEmail.status, func.count(OutboxEmail.id))
        .where(OutboxEmail.centre_id == current_user.centre_id).group_by(OutboxEmail.status)
    ).all())
    return render_template("admin/outbox.html", page=page, status=status, counts=counts,
                           statuses=list(OutboxStatus), retry_form=EmptyForm())


def _centre_email(email_id: int) -> OutboxEmail:
    return policy.require_object(db.session.get(OutboxEmail, email_id),
                                 lambda e: policy.may_view_outbox_email(current_user, e))


@bp.get("/outbox/<int:email_id>")
@policy.role_required(policy.may_view_outbox)
def outbox_email(email_id: int):
    """One email's text. Links in it are placeholders (the relay signs them when sending),
    and every showing of a body leaves an audit event."""
    email = _centre_email(email_id)
    audit.record(db.session, action="outbox.email_viewed", actor=current_user,
                 now=current_now(), object_type="outbox_email", object_id=email.id,
                 ip_address=client_ip())
    db.session.commit()
    return render_template("admin/outbox_email.html", email=email, retry_form=EmptyForm())


@bp.post("/outbox/<int:email_id>/retry")
@policy.role_required(policy.may_view_outbox)
def retry_outbox_email(email_id: int):
    email = _centre_email(email_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if notifications.retry_now(email, now=current_now()):
        db.session.commit()
        flash(_("The email will be sent at the next attempt."), "success")
    else:
        flash(_("Only an email that failed can be tried again."), "error")
    return redirect(url_for("admin.outbox_email", email_id=email_id))


# --- audit log (read-only) -----------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


def _day(value: str, errors: dict, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD, e.g. 2026-11-30.")
        return None


def _centre_scope(centre_id: int):
    """Events by the centre's people, about its people, and the system's own (retention)."""
    people = select(User.id).where(User.centre_id == centre_id)
    return or_(AuditEvent.actor_id.in_(people),
               (AuditEvent.object_type == "user")
               & AuditEvent.object_id.in_(select(cast(User.id, String))
                                          .where(User.centre_id == centre_id)),
               AuditEvent.object_type == "retention")


@bp.get("/audit")
@policy.role_required(policy.may_browse_audit)
def audit_log():
    args = request.args
    errors: dict[str, str] = {}
    filters = {name: args.get(name, "").strip()[:80] for name in
               ("actor", "object_type", "object_id", "action", "since", "until")}
    query = select(AuditEvent).where(_centre_scope(current_user.centre_id))
    if filters["actor"] == "system":
        query = query.where(AuditEvent.actor_id.is_(None))
    elif filters["actor"].isdigit() and int(filters["actor"]) <= MAX_ID:
        query = query.where(AuditEvent.actor_id == int(filters["actor"]))
    elif filters["actor"]:
        errors["actor"] = _("Choose a person from the list.")
    if filters["object_type"]:
        query = query.where(AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        query = query.where(AuditEvent.object_id == filters["object_id"])
    if filters["action"]:
        query = query.where(AuditEvent.action.startswith(filters["action"], autoescape=True))
    zone = ZoneInfo(current_user.centre.timezone)
    since = _day(filters["since"], errors, "since")
    until = _day(filters["until"], errors, "until")
    if since:
        query = query.where(AuditEvent.at >= datetime.combine(since, time(), zone))
    if until:
        query = query.where(AuditEvent.at < datetime.combine(until + timedelta(days=1), time(),
                                                              zone))
    if since and until and until < since:
        errors["until"] = _("The end date is before the start date.")
    page = db.paginate(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()),
                       page=page_number(), per_page=AUDIT_PAGE_SIZE, error_out=False)
    people = db.session.execute(
        select(User.id, User.name).where(User.centre_id == current_user.centre_id)
        .order_by(func.lower(User.name))).all()
    names = dict(people)
    object_types = db.session.scalars(
        select(AuditEvent.object_type).where(_centre_scope(current_user.centre_id))
        .distinct().order_by(AuditEvent.object_type)).all()
    return render_template("admin/audit.html", page=page, filters=filters, errors=errors,
                           people=people, names=names, object_types=object_types,
                           zone=current_user.centre.timezone), 400 if errors else 200
