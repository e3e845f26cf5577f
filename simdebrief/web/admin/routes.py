"""The centre administrator's pages: people, cohorts, rooms, centre settings, outbox."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.emails.accounts import send_invitation_email
from simdebrief.errors import InvalidInput
from simdebrief.extensions import db
from simdebrief.models import Cohort, OutboxEmail, OutboxStatus, Role, Room, SupporterTier, User
from simdebrief.services import accounts, audit, directory, notifications
from simdebrief.web import client_ip, paging
from simdebrief.web.admin.forms import (
    AddStudentForm,
    CentreForm,
    ChangeRoleForm,
    CohortForm,
    ImportStudentsForm,
    InviteUserForm,
    RoomForm,
)
from simdebrief.web.forms import EmptyForm, apply_service_errors, choices

bp = Blueprint("admin", __name__)
admin_only = policy.role_required(policy.may_administer)
PAGE_SIZE = 50


def _status(form) -> int:
    return 400 if request.method == "POST" and form.errors else 200


def _tier(value: str) -> SupporterTier | None:
    return SupporterTier(value) if value else None


# --- users ---------------------------------------------------------------------------------


@bp.get("/users")
@admin_only
def users():
    role = request.args.get("role", "")
    query = select(User).where(User.centre_id == current_user.centre_id)
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    search = request.args.get("q", "").strip()
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(func.lower(User.name).like(pattern) | User.email.like(pattern))
    page = db.paginate(query.order_by(func.lower(User.name)), per_page=PAGE_SIZE,
                       error_out=False)
    return render_template("admin/users.html", page=page, role=role, search=search,
                           roles=list(Role))


@bp.route("/users/invite", methods=["GET", "POST"])
@admin_only
def invite_user():
    form = InviteUserForm()
    if form.validate_on_submit():
        now = current_now()
        try:
            user = accounts.create_user(
                db.session, centre=current_user.centre, now=now,
                data=accounts.NewUser(email=form.email.data, name=form.name.data,
                                      role=Role(form.role.data),
                                      supporter_tier=_tier(form.supporter_tier.data)),
            )
        except InvalidInput as error:
            apply_service_errors(form, error)
        else:
            send_invitation_email(user, now, inviter=current_user)
            audit.record(db.session, action="user.invited", actor=current_user, now=now,
                         object_type="user", object_id=user.id, ip_address=client_ip(),
                         detail=f"role={user.role.value}")
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/invite_user.html", form=form), _status(form)


def _centre_user(user_id: int) -> User:
    return policy.require_object(db.session.get(User, user_id),
                                 lambda u: policy.may_manage_user(current_user, u))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_detail(user_id: int):
    user = _centre_user(user_id)
    form = ChangeRoleForm(role=user.role.value,
                          supporter_tier=user.supporter_tier.value if user.supporter_tier else "")
    if form.validate_on_submit():
        try:
            accounts.change_role(db.session, actor=current_user, user=user,
                                 role=Role(form.role.data),
                                 supporter_tier=_tier(form.supporter_tier.data), now=current_now())
        except InvalidInput as error:
            db.session.rollback()
            user = _centre_user(user_id)
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(_("Role changed."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_detail.html", user=user, form=form,
                           action_form=EmptyForm()), _status(form)


@bp.post("/users/<int:user_id>/active")
@admin_only
def set_user_active(user_id: int):
    user = _centre_user(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(db.session, actor=current_user, user=user, active=active,
                            now=current_now())
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Account reactivated.") if active else _("Account deactivated; the person is "
                                                          "logged out everywhere."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/resend-invitation")
@admin_only
def resend_invitation(user_id: int):
    user = _centre_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if user.has_password:
        flash(_("This person has already set a password; they can reset it themselves."),
              "error")
    else:
        send_invitation_email(user, current_now(), inviter=current_user)
        db.session.commit()
        flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


# --- cohorts -------------------------------------------------------------------------------


@bp.route("/cohorts", methods=["GET", "POST"])
@admin_only
def cohorts():
    form = CohortForm()
    if form.validate_on_submit():
        try:
            cohort = directory.create_cohort(db.session, centre=current_user.centre,
                                             name=form.name.data,
                                             description=form.description.data or "")
        except InvalidInput as error:
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(_("Cohort “%(name)s” created.", name=cohort.name), "success")
            return redirect(url_for("admin.cohort_detail", cohort_id=cohort.id))
    counts = dict(db.session.execute(
        select(Cohort.id, func.count(User.id)).join(Cohort.students, isouter=True)
        .where(Cohort.centre_id == current_user.centre_id).group_by(Cohort.id)
    ).all())
    rows = db.session.scalars(select(Cohort).where(Cohort.centre_id == current_user.centre_id)
                              .order_by(Cohort.name)).all()
    return render_template("admin/cohorts.html", cohorts=rows, counts=counts,
                           form=form), _status(form)


def _centre_cohort(cohort_id: int) -> Cohort:
    cohort = db.session.scalar(select(Cohort).where(Cohort.id == cohort_id)
                               .options(selectinload(Cohort.students)))
    return policy.require_object(cohort, lambda c: policy.may_manage_cohort(current_user, c))


def _cohort_page(cohort: Cohort, *, add_form=None, import_form=None, report=None, status=200):
    add_form = add_form or AddStudentForm()
    member_ids = {s.id for s in cohort.students}
    candidates = db.session.scalars(
        select(User).where(User.centre_id == cohort.centre_id, User.role == Role.STUDENT,
                           User.is_active_account.is_(True)).order_by(func.lower(User.name))
    ).all()
    add_form.student.choices = choices([(0, _("Choose a student"))] + [
        (s.id, f"{s.name} ({s.email})") for s in candidates if s.id not in member_ids
    ])
    return render_template("admin/cohort_detail.html", cohort=cohort, add_form=add_form,
                           import_form=import_form or ImportStudentsForm(), report=report,
                           remove_form=EmptyForm()), status


@bp.get("/cohorts/<int:cohort_id>")
@admin_only
def cohort_detail(cohort_id: int):
    return _cohort_page(_centre_cohort(cohort_id))


@bp.post("/cohorts/<int:cohort_id>/students")
@admin_only
def add_cohort_student(cohort_id: int):
    cohort = _centre_cohort(cohort_id)
    form = AddStudentForm()
    form.student.choices = choices([(request.form.get("student", type=int) or 0, "")])
    if form.validate_on_submit():
        student = policy.require_object(db.session.get(User, form.student.data),
                                        lambda u: policy.may_manage_user(current_user, u))
        try:
            directory.add_student(cohort, student)
        except InvalidInput as error:
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s added to the cohort.", name=student.name), "success")
            return redirect(url_for("admin.cohort_detail", cohort_id=cohort.id))
    return _cohort_page(cohort, add_form=form, status=400)


@bp.post("/cohorts/<int:cohort_id>/students/<int:user_id>/remove")
@admin_only
def remove_cohort_student(cohort_id: int, user_id: int):
    cohort = _centre_cohort(cohort_id)
    student = _centre_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    directory.remove_student(cohort, student)
    db.session.commit()
    flash(_("%(name)s removed from the cohort.", name=student.name), "success")
    return redirect(url_for("admin.cohort_detail", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/import")
@admin_only
def import_cohort_students(cohort_id: int):
    cohort = _centre_cohort(cohort_id)
    form = ImportStudentsForm()
    if not form.validate_on_submit():
        return _cohort_page(cohort, import_form=form, status=400)
    raw = form.file.data.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    now = current_now()
    try:
        report = directory.import_students(db.session, cohort=cohort, csv_text=text, now=now)
    except InvalidInput as error:
        db.session.rollback()
        cohort = _centre_cohort(cohort_id)
        apply_service_errors(form, error)
        return _cohort_page(cohort, import_form=form, status=400)
    for student in report.created:
        send_invitation_email(student, now, inviter=current_user)
    audit.record(db.session, action="cohort.imported", actor=current_user, now=now,
                 object_type="cohort", object_id=cohort.id, ip_address=client_ip(),
                 detail=f"created={report.count('created')} added={report.count('added')} "
                        f"errors={len(report.errors)}")
    db.session.commit()
    return _cohort_page(cohort, report=report)


# --- rooms ---------------------------------------------------------------------------------


@bp.route("/rooms", methods=["GET", "POST"])
@admin_only
def rooms():
    form = RoomForm()
    if form.validate_on_submit():
        try:
            directory.create_room(db.session, centre=current_user.centre, name=form.name.data,
                                  capacity=form.capacity.data, location=form.location.data or "")
        except InvalidInput as error:
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(_("Room saved."), "success")
            return redirect(url_for("admin.rooms"))
    rows = db.session.scalars(select(Room).where(Room.centre_id == current_user.centre_id)
                              .order_by(Room.name)).all()
    return render_template("admin/rooms.html", rooms=rows, form=form), _status(form)


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@admin_only
def room_detail(room_id: int):
    room = policy.require_object(db.session.get(Room, room_id),
                                 lambda r: policy.may_manage_room(current_user, r))
    form = RoomForm(obj=room)
    if form.validate_on_submit():
        clash = db.session.scalar(select(Room).where(
            Room.centre_id == room.centre_id, Room.id != room.id,
            func.lower(Room.name) == form.name.data.lower()))
        if clash is not None:
            form.name.errors.append(_("A room with this name already exists."))
        else:
            room.name, room.capacity = form.name.data, form.capacity.data
            room.location = form.location.data or ""
            room.is_active = request.form.get("is_active") == "1"
            db.session.commit()
            flash(_("Room saved."), "success")
            return redirect(url_for("admin.rooms"))
    return render_template("admin/room_detail.html", room=room, form=form), _status(form)


# --- centre settings -----------------------------------------------------------------------


@bp.route("/centre", methods=["GET", "POST"])
@admin_only
def centre_settings():
    centre = current_user.centre
    form = CentreForm(obj=centre)
    if form.validate_on_submit():
        try:
            ZoneInfo(form.timezone.data)
        except (ZoneInfoNotFoundError, ValueError):
            form.timezone.errors.append(_("This is not a known time zone."))
        else:
            form.populate_obj(centre)
            audit.record(db.session, action="centre.updated", actor=current_user,
                         now=current_now(), object_type="centre", object_id=centre.id,
                         ip_address=client_ip())
            db.session.commit()
            flash(_("Centre settings saved."), "success")
            return redirect(url_for("admin.centre_settings"))
    return render_template("admin/centre.html", form=form), _status(form)


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
