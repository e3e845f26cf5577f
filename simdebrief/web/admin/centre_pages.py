"""Admin pages for the centre's settings, urgent contacts, on-duty rota and stories."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from simdebrief import languages, policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    CentreStory,
    NearPeerContact,
    OnDutyShift,
    UrgentContact,
    User,
)
from simdebrief.services import (
    audit,
    crisis,
    retention,
    stories,
)
from simdebrief.timefmt import NonexistentLocalTime, local_to_utc
from simdebrief.web import client_ip
from simdebrief.web.admin.forms import (
    CentreForm,
    NearPeerForm,
    ShiftForm,
    StoryForm,
    UrgentContactForm,
)
from simdebrief.web.admin.routes import admin_only, bp, status_of
from simdebrief.web.forms import EmptyForm, apply_service_errors

# --- centre settings -----------------------------------------------------------------------


@bp.route("/centre", methods=["GET", "POST"])
@admin_only
def centre_settings():
    centre = current_user.centre
    form = CentreForm(obj=centre)
    form.default_locale.choices = languages.language_choices()
    if form.validate_on_submit():
        form.country.data = (form.country.data or "").upper()
        form.default_locale.data = form.default_locale.data or centre.default_locale
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
    return render_template("admin/centre.html", form=form), status_of(form)


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


def _remove_centre_item(model, item_id: int, back_to: str, message: str, remove):
    """A delete button on a centre page: this centre's item only (else 404), CSRF checked,
    removed and audited by ``remove``, then back to the page."""
    item = policy.require_object(db.session.get(model, item_id),
                                 lambda found: policy.same_centre(current_user, found))
    if not EmptyForm().validate_on_submit():
        abort(400)
    remove(item)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(back_to))


def _remove_story_item(item) -> None:
    stories.remove(db.session, item=item, actor=current_user, now=current_now())


@bp.post("/centre/urgent/<int:contact_id>/delete")
@admin_only
def delete_urgent_contact(contact_id: int):
    return _remove_centre_item(
        UrgentContact, contact_id, "admin.urgent_contacts", _("Urgent contact removed."),
        lambda contact: crisis.remove_urgent_contact(db.session, contact=contact,
                                                     actor=current_user, now=current_now()))


@bp.post("/centre/rota/<int:shift_id>/delete")
@admin_only
def delete_shift(shift_id: int):
    return _remove_centre_item(
        OnDutyShift, shift_id, "admin.urgent_contacts", _("Shift removed."),
        lambda shift: crisis.remove_shift(db.session, shift=shift, actor=current_user,
                                          now=current_now()))


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
    return _remove_centre_item(CentreStory, story_id, "admin.stories_page", _("Story removed."),
                               _remove_story_item)


@bp.post("/centre/near-peers/<int:peer_id>/delete")
@admin_only
def delete_near_peer(peer_id: int):
    return _remove_centre_item(NearPeerContact, peer_id, "admin.stories_page",
                               _("Contact removed."), _remove_story_item)
