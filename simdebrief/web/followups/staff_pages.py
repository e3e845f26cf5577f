"""Follow-ups for staff: instructors' completion counts, the admin's plans and figures."""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import (
    FollowUpPlan,
    OffsetUnit,
    PlanKind,
)
from simdebrief.services import group_figures
from simdebrief.services.followups import (
    distress_tallies,
    figures,
    plan_versions,
)
from simdebrief.web.followups.forms import (
    PlanForm,
)
from simdebrief.web.followups.routes import (
    analytics_only,
    bp,
    plan_admins_only,
    teachers_only,
    template_context,
)
from simdebrief.web.forms import apply_service_errors, form_status


@bp.get("/follow-ups/sessions")
@teachers_only
def completion():
    sessions = [s for s in figures.sessions_with_followups_taught_by(db.session, current_user)
                if policy.may_see_session_followups(current_user, s)]
    return render_template(
        "followups/completion.html",
        rows=[(s, figures.completion_for_session(db.session, s)) for s in sessions],
        **template_context())


# --- admins: plans and figures -------------------------------------------------------------------


@bp.get("/admin/follow-up-plans")
@plan_admins_only
def plans():
    now = current_now()
    plan_versions.ensure_plans(db.session, current_user.centre, now)
    db.session.commit()
    every = plan_versions.plans_of(db.session, current_user.centre)
    current = [p for p in every if p.is_current]
    older = {kind: [p for p in every if p.kind is kind and not p.is_current]
             for kind in PlanKind}
    return render_template("followups/plans.html", current=current, older=older,
                           **template_context())


def _stage_inputs(form: PlanForm) -> tuple[list[plan_versions.StageInput], list[str]]:
    stages, problems = [], []
    for row in form.stages:
        data = row.form
        if data.remove.data or (not data.key.data and not data.title.data):
            continue
        missing = [str(field.label.text) for field in (data.offset_amount, data.send_hour,
                                                       data.window_days,
                                                       data.expires_after_days)
                   if field.data is None]
        if missing:
            problems.append(_("Stage “%(name)s”: fill in %(fields)s.",
                              name=data.title.data or data.key.data,
                              fields=", ".join(missing)))
            continue
        stages.append(plan_versions.StageInput(
            key=data.key.data or "", title=data.title.data or "",
            offset_amount=data.offset_amount.data,
            offset_unit=OffsetUnit(data.offset_unit.data)
            if data.offset_unit.data in {u.value for u in OffsetUnit} else OffsetUnit.DAYS,
            window_days=data.window_days.data, parts=tuple(data.parts.data or ()),
            questions=tuple(data.questions.data or ()), content=tuple(data.content.data or ()),
            reminder_after_days=data.reminder_after_days.data,
            expires_after_days=data.expires_after_days.data, send_hour=data.send_hour.data,
            offers_conversation=bool(data.offers_conversation.data),
            on_event=data.on_event.data or None))
    return stages, problems


@bp.route("/admin/follow-up-plans/<int:plan_id>/edit", methods=["GET", "POST"])
@plan_admins_only
def edit_plan(plan_id: int):
    plan = policy.require_object(db.session.get(FollowUpPlan, plan_id),
                                 lambda p: policy.may_edit_followup_plan(current_user, p))
    if not plan.is_current:
        flash(_("That is an older version. You are editing the current one."), "info")
        current = plan_versions.current_plan(db.session, current_user.centre, plan.kind,
                                             current_now())
        return redirect(url_for("followups.edit_plan", plan_id=current.id))
    if request.method == "GET":
        form = PlanForm(data={
            "name": plan.name, "description": plan.description,
            "stages": [_stage_data(stage) for stage in plan.stages] + [{}]})
    else:
        form = PlanForm()
    if form.validate_on_submit():
        stages, problems = _stage_inputs(form)
        if problems:
            form.form_errors.extend(problems)
        else:
            try:
                change = plan_versions.revise_plan(
                    db.session, plan=plan, actor=current_user, name=form.name.data,
                    description=form.description.data or "", stages=stages,
                    apply_to_unsent=form.apply_to_unsent.data, now=current_now())
            except InvalidInput as error:
                db.session.rollback()
                plan = db.session.get(FollowUpPlan, plan_id)
                apply_service_errors(form, error)
            else:
                db.session.commit()
                if form.apply_to_unsent.data:
                    flash(_("Saved as version %(version)d. %(moved)d scheduled stages now "
                            "follow it, %(dropped)d were skipped and %(added)d added.",
                            version=change.plan.version, moved=change.moved,
                            dropped=change.dropped, added=change.added), "success")
                else:
                    flash(_("Saved as version %(version)d. Stages already scheduled keep "
                            "their version.", version=change.plan.version), "success")
                return redirect(url_for("followups.plans"))
    return render_template("followups/plan_edit.html", plan=plan, form=form,
                           **template_context()), form_status()


def _stage_data(stage) -> dict:
    return {"key": stage.key, "title": stage.title, "offset_amount": stage.offset_amount,
            "offset_unit": OffsetUnit(stage.offset_unit).value, "send_hour": stage.send_hour,
            "window_days": stage.window_days, "reminder_after_days": stage.reminder_after_days,
            "expires_after_days": stage.expires_after_days, "parts": list(stage.parts or ()),
            "questions": list(stage.questions or ()), "content": list(stage.content or ()),
            "offers_conversation": bool(stage.offers_conversation),
            "on_event": stage.on_event or ""}


@bp.get("/admin/follow-ups")
@analytics_only
def analytics():
    centre = current_user.centre
    now = current_now()
    overdue, weeks = figures.weekly_load(db.session, centre, now)
    # The plans and their counts serve both figures; read before the commit below, which
    # would expire them.
    counted = figures.plan_counts(db.session, centre)
    distress = figures.distress_per_stage(db.session, centre, now, counted)
    completion = figures.completion(db.session, centre, counted)
    per_cohort = figures.completion_per_cohort(db.session, centre)
    if distress_tallies.written(db.session):
        db.session.commit()  # the tallies brought up to date: counted once, not per view
    return render_template(
        "followups/analytics.html", overdue=overdue, weeks=weeks,
        most=max([w.count for w in weeks] + [1]),
        per_stage=completion.per_stage, per_plan=completion.per_plan,
        per_cohort=per_cohort, distress=distress,
        minimum=group_figures.k_for(centre.min_group_size), **template_context())
