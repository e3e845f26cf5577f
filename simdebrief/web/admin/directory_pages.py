"""Admin pages for cohorts (with CSV import) and rooms."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.emails.accounts import send_invitation_elsewhere_email, send_invitation_email
from simdebrief.errors import InvalidInput
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Cohort,
    Role,
    Room,
    User,
)
from simdebrief.services import (
    audit,
    directory,
)
from simdebrief.web import client_ip
from simdebrief.web.admin.forms import (
    AddStudentForm,
    CohortForm,
    ImportStudentsForm,
    RoomForm,
)
from simdebrief.web.admin.people import _centre_user
from simdebrief.web.admin.routes import admin_only, bp, status_of
from simdebrief.web.forms import EmptyForm, apply_service_errors, choices
from simdebrief.web.ids import query_int

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
                           form=form), status_of(form)


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
    form.student.choices = choices([(query_int("student", source=request.form) or 0, "")])
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
    for person in report.elsewhere:
        send_invitation_elsewhere_email(person, now, inviter=current_user)
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
    return render_template("admin/rooms.html", rooms=rows, form=form), status_of(form)


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@admin_only
def room_detail(room_id: int):
    room = policy.require_object(db.session.get(Room, room_id),
                                 lambda r: policy.may_manage_room(current_user, r))
    form = RoomForm(obj=room)
    if form.validate_on_submit():
        if directory.name_taken(db.session, Room, centre_id=room.centre_id,
                                name=form.name.data, except_id=room.id):
            form.name.errors.append(_("A room with this name already exists."))
        else:
            room.name, room.capacity = form.name.data, form.capacity.data
            room.location = form.location.data or ""
            room.is_active = request.form.get("is_active") == "1"
            db.session.commit()
            flash(_("Room saved."), "success")
            return redirect(url_for("admin.rooms"))
    return render_template("admin/room_detail.html", room=room, form=form), status_of(form)
