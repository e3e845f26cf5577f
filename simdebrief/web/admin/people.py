"""Admin pages about people: accounts, invitations, second factors, erasure."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.emails.accounts import send_invitation_elsewhere_email, send_invitation_email
from simdebrief.errors import InvalidInput, InvalidState, RequestThrottled
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Role,
    User,
)
from simdebrief.services import (
    accounts,
    audit,
    privacy,
    two_factor,
)
from simdebrief.web import client_ip
from simdebrief.web.admin.forms import (
    ChangeRoleForm,
    InviteUserForm,
)
from simdebrief.web.admin.routes import PAGE_SIZE, admin_only, bp, status_of, tier_from
from simdebrief.web.forms import EmptyForm, apply_service_errors
from simdebrief.web.ids import page_number

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
                                      supporter_tier=tier_from(form.supporter_tier.data)),
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
    return render_template("admin/invite_user.html", form=form), status_of(form)


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
                                 supporter_tier=tier_from(form.supporter_tier.data),
                                 now=current_now())
        except InvalidInput as error:
            db.session.rollback()
            user = _centre_user(user_id)
            apply_service_errors(form, error)
        else:
            db.session.commit()
            flash(_("Role changed."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_detail.html", user=user, form=form,
                           action_form=EmptyForm()), status_of(form)


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
