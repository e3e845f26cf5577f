"""The centre administrator's pages: people, cohorts, rooms, centre settings, outbox."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import selectinload

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.emails.accounts import send_invitation_elsewhere_email, send_invitation_email
from simdebrief.errors import InvalidInput, InvalidState, RequestThrottled
from simdebrief.extensions import db
from simdebrief.models import (
    AuditEvent,
    CentreStory,
    Cohort,
    NearPeerContact,
    OnDutyShift,
    OutboxEmail,
    OutboxStatus,
    Role,
    Room,
    SupporterTier,
    UrgentContact,
    User,
)
from simdebrief.services import (
    accounts,
    audit,
    crisis,
    directory,
    notifications,
    privacy,
    retention,
    stories,
    two_factor,
)
from simdebrief.timefmt import NonexistentLocalTime, local_to_utc
from simdebrief.web import client_ip
from simdebrief.web.admin.forms import (
    AddStudentForm,
    CentreForm,
    ChangeRoleForm,
    CohortForm,
    ImportStudentsForm,
    InviteUserForm,
    NearPeerForm,
    RoomForm,
    ShiftForm,
    StoryForm,
    UrgentContactForm,
)
from simdebrief.web.forms import EmptyForm, apply_service_errors, choices
from simdebrief.web.ids import MAX_ID, page_number, query_int

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
    page = db.paginate(query.order_by(func.lower(User.name)), page=page_number(),
                       per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/users.html", page=page, role=role, search=search,
                           roles=list(Role))


@bp.route("/users/invite", methods=["GET", "POST"])
@admin_only
def invite_user():
    form = InviteUserForm()
    if form.validate_on_submit():
        now = current_now()
        try:
            accounts.count_request(db.session, kind="invite", account=form.email.data,
                                   ip_address=client_ip(), now=now, limit=accounts.INVITE_LIMIT)
        except RequestThrottled:
            db.session.commit()
            form.form_errors.append(_("Many invitations were sent from here or to this address "
                                      "in the last hour. Please wait before sending more."))
            return render_template("admin/invite_user.html", form=form), 429
        role = Role(form.role.data)
        existing = accounts.find_user_by_email(db.session, form.email.data)
        if (existing is not None and existing.centre_id != current_user.centre_id
                and (role is not Role.SUPPORTER or form.supporter_tier.data)):
            # The address belongs to another centre. Saying so would tell this centre who
            # uses SimDebrief elsewhere; the person hears of it, the admin sees the usual.
            send_invitation_elsewhere_email(existing, now, inviter=current_user)
            audit.record(db.session, action="user.invited_elsewhere", actor=current_user,
                         now=now, object_type="user", object_id=existing.id,
                         ip_address=client_ip())
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=existing.email), "success")
            return redirect(url_for("admin.users"))
        try:
            user = accounts.create_user(
                db.session, centre=current_user.centre, now=now,
                data=accounts.NewUser(email=form.email.data, name=form.name.data,
                                      role=role,
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
            return redirect(url_for("admin.users"))
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
    if user.erased_at is not None:
        flash(_("This account was erased at the person's request and cannot be used again."),
              "error")
    elif user.has_password:
        flash(_("This person has already set a password; they can reset it themselves."),
              "error")
    else:
        now = current_now()
        try:
            accounts.count_request(db.session, kind="invite", account=user.email,
                                   ip_address=client_ip(), now=now, limit=accounts.INVITE_LIMIT)
        except RequestThrottled:
            db.session.commit()
            flash(_("Several invitations went to this address in the last hour. Please wait "
                    "before sending another."), "error")
            return redirect(url_for("admin.user_detail", user_id=user_id))
        send_invitation_email(user, now, inviter=current_user)
        db.session.commit()
        flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/two-factor/reset")
@admin_only
def reset_two_factor(user_id: int):
    user = _centre_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    two_factor.reset_by_admin(db.session, actor=current_user, user=user, now=current_now())
    db.session.commit()
    flash(_("Two-factor login of %(name)s is reset; they set it up again at their next login "
            "and are logged out everywhere.", name=user.name), "success")
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
        form.country.data = (form.country.data or "").upper()
        try:
            ZoneInfo(form.timezone.data)
        except (ZoneInfoNotFoundError, ValueError):
            form.timezone.errors.append(_("This is not a known time zone."))
        else:
            for name, default in retention.DEFAULTS.items():
                if form[name].data is None:  # an empty period means the default
                    form[name].data = default
            form.populate_obj(centre)
            centre.high_risk_triggers = list(form.high_risk_triggers.data or [])
            centre.high_risk_flags = list(form.high_risk_flags.data or [])
            audit.record(db.session, action="centre.updated", actor=current_user,
                         now=current_now(), object_type="centre", object_id=centre.id,
                         ip_address=client_ip())
            db.session.commit()
            flash(_("Centre settings saved."), "success")
            return redirect(url_for("admin.centre_settings"))
    return render_template("admin/centre.html", form=form), _status(form)


# --- crisis route: urgent contacts and the on-duty rota -------------------------------------


@bp.route("/centre/urgent", methods=["GET", "POST"])
@admin_only
def urgent_contacts():
    centre = current_user.centre
    now = current_now()
    form = UrgentContactForm(prefix="contact")
    shift_form = ShiftForm(prefix="shift")
    professionals = crisis.professionals_of(db.session, centre)
    shift_form.supporter_id.choices = [(p.id, p.name) for p in professionals]
    if form.submit.data and form.validate_on_submit():
        try:
            crisis.add_urgent_contact(db.session, centre=centre, actor=current_user,
                                      name=form.name.data, phone=form.phone.data,
                                      opening_hours=form.opening_hours.data or "",
                                      is_emergency=form.is_emergency.data, now=now)
        except InvalidInput as error:
            db.session.rollback()
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(_("Urgent contact added."), "success")
            return redirect(url_for("admin.urgent_contacts"))
    elif shift_form.submit.data and shift_form.validate_on_submit():
        try:
            starts = local_to_utc(shift_form.day.data, shift_form.start_time.data,
                                  centre.timezone)
            ends = local_to_utc(shift_form.end_day.data, shift_form.end_time.data,
                                centre.timezone)
            crisis.add_shift(db.session, centre=centre, actor=current_user,
                             supporter=db.session.get(User, shift_form.supporter_id.data),
                             starts_at=starts, ends_at=ends, now=now)
        except NonexistentLocalTime:
            shift_form.start_time.errors = [_("This time does not exist on that day (the "
                                              "clocks change).")]
        except InvalidInput as error:
            db.session.rollback()
            apply_service_errors(shift_form, error)
        else:
            db.session.commit()
            flash(_("Shift added."), "success")
            return redirect(url_for("admin.urgent_contacts"))
    status = 400 if (form.errors or shift_form.errors) else 200
    return render_template("admin/urgent_contacts.html", form=form, shift_form=shift_form,
                           contacts=crisis.urgent_contacts(db.session, centre),
                           shifts=crisis.rota(db.session, centre, now), now=now,
                           delete_form=EmptyForm()), status


@bp.post("/centre/urgent/<int:contact_id>/delete")
@admin_only
def delete_urgent_contact(contact_id: int):
    contact = policy.require_object(db.session.get(UrgentContact, contact_id),
                                    lambda c: policy.same_centre(current_user, c))
    if not EmptyForm().validate_on_submit():
        abort(400)
    crisis.remove_urgent_contact(db.session, contact=contact, actor=current_user,
                                 now=current_now())
    db.session.commit()
    flash(_("Urgent contact removed."), "success")
    return redirect(url_for("admin.urgent_contacts"))


@bp.post("/centre/rota/<int:shift_id>/delete")
@admin_only
def delete_shift(shift_id: int):
    shift = policy.require_object(db.session.get(OnDutyShift, shift_id),
                                  lambda s: policy.same_centre(current_user, s))
    if not EmptyForm().validate_on_submit():
        abort(400)
    crisis.remove_shift(db.session, shift=shift, actor=current_user, now=current_now())
    db.session.commit()
    flash(_("Shift removed."), "success")
    return redirect(url_for("admin.urgent_contacts"))


# --- stories and near-peer contacts ------------------------------------------------------


@bp.route("/centre/stories", methods=["GET", "POST"])
@admin_only
def stories_page():
    centre = current_user.centre
    story_form, peer_form = StoryForm(prefix="story"), NearPeerForm(prefix="peer")
    for form, add, done in (
            (story_form, lambda f: stories.add_story(
                db.session, centre=centre, actor=current_user, title=f.title.data,
                text=f.text.data, author_description=f.author_description.data,
                consent=f.consent.data, now=current_now()), _("Story added.")),
            (peer_form, lambda f: stories.add_near_peer(
                db.session, centre=centre, actor=current_user, name=f.name.data,
                description=f.description.data, how_to_reach=f.how_to_reach.data,
                consent=f.consent.data, now=current_now()), _("Contact added."))):
        if form.submit.data and form.validate_on_submit():
            try:
                add(form)
            except InvalidInput as error:
                db.session.rollback()
                apply_service_errors(form, error)
            else:
                db.session.commit()
                flash(done, "success")
                return redirect(url_for("admin.stories_page"))
    status = 400 if (story_form.errors or peer_form.errors) else 200
    return render_template("admin/stories.html", story_form=story_form, peer_form=peer_form,
                           shared=stories.shared_with_learners(db.session, centre),
                           delete_form=EmptyForm()), status


@bp.post("/centre/stories/<int:story_id>/delete")
@admin_only
def delete_story(story_id: int):
    story = policy.require_object(db.session.get(CentreStory, story_id),
                                  lambda s: policy.same_centre(current_user, s))
    if not EmptyForm().validate_on_submit():
        abort(400)
    stories.remove(db.session, item=story, actor=current_user, now=current_now())
    db.session.commit()
    flash(_("Story removed."), "success")
    return redirect(url_for("admin.stories_page"))


@bp.post("/centre/near-peers/<int:peer_id>/delete")
@admin_only
def delete_near_peer(peer_id: int):
    contact = policy.require_object(db.session.get(NearPeerContact, peer_id),
                                    lambda c: policy.same_centre(current_user, c))
    if not EmptyForm().validate_on_submit():
        abort(400)
    stories.remove(db.session, item=contact, actor=current_user, now=current_now())
    db.session.commit()
    flash(_("Contact removed."), "success")
    return redirect(url_for("admin.stories_page"))


# --- outbox --------------------------------------------------------------------------------


@bp.get("/outbox")
@policy.role_required(policy.may_view_outbox)
def outbox():
    status = request.args.get("status", "")
    query = select(OutboxEmail).where(OutboxEmail.centre_id == current_user.centre_id)
    if status in {s.value for s in OutboxStatus}:
        query = query.where(OutboxEmail.status == OutboxStatus(status))
    page = db.paginate(query.order_by(OutboxEmail.id.desc()), page=page_number(),
                       per_page=PAGE_SIZE, error_out=False)
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


# --- erasure requests ----------------------------------------------------------------------


@bp.get("/erasure-requests")
@admin_only
def erasure_requests():
    return render_template("admin/erasure_requests.html",
                           requests=privacy.erasure_requests(db.session, current_user.centre_id),
                           erase_form=EmptyForm())


@bp.post("/users/<int:user_id>/erase")
@admin_only
def erase_user(user_id: int):
    user = _centre_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not policy.may_erase_account(current_user, user):
        flash(_("This account cannot be erased: the person has not asked for it, or it is "
                "already erased."), "error")
        return redirect(url_for("admin.erasure_requests"))
    try:
        privacy.erase_account(db.session, actor=current_user, user=user, now=current_now(),
                              ip_address=client_ip())
    except InvalidState as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The account is erased. Debrief records now show a former participant."),
              "success")
    return redirect(url_for("admin.erasure_requests"))


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
