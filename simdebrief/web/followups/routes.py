"""Follow-ups: the blueprint, the texts its pages share, and its three rooms of pages.

``links``: the stage form by signed link; ``learner_pages``: the learner's timeline, stages,
choices and tracks; ``staff_pages``: instructors' completion counts, the admin's plans and
figures. A signed link opens its own stage and nothing else; every other page needs a login.
The answers are check-ins: visible to the learner alone, like the debrief check-in.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    render_template,
)
from flask_login import current_user

from simdebrief import checkin_options, policy
from simdebrief.errors import InvalidInput
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import (
    FollowUp,
    FollowUpStatus,
    OffsetUnit,
    PlanKind,
    PreferenceState,
)
from simdebrief.services import checkins, stories
from simdebrief.services.followups import (
    answers,
    conversations,
    figures,
    stage_catalogue,
    stage_rows,
)
from simdebrief.web.followups.forms import (
    ChoiceForm,
    stage_answers,
)
from simdebrief.web.forms import apply_service_errors

bp = Blueprint("followups", __name__)
learners_only = policy.role_required(policy.may_follow_up)
teachers_only = policy.role_required(policy.may_see_followup_completion)
plan_admins_only = policy.role_required(policy.may_manage_followup_plans)
analytics_only = policy.role_required(policy.may_view_followup_analytics)

#: How each state of a stage reads to the learner.
LEARNER_STATUS = {
    FollowUpStatus.SCHEDULED: _l("Coming"),
    FollowUpStatus.CLAIMED: _l("On its way"),
    FollowUpStatus.SENT: _l("Open: answer now"),
    FollowUpStatus.COMPLETED: _l("Answered"),
    FollowUpStatus.EXPIRED: _l("Closed without an answer"),
    FollowUpStatus.PAUSED: _l("Paused"),
    FollowUpStatus.STOPPED: _l("Stopped"),
    FollowUpStatus.SKIPPED: _l("Not sent"),
    FollowUpStatus.UNDELIVERABLE: _l("Could not be emailed to you"),
}
STATE_TEXT = {
    PreferenceState.ACTIVE: _l("Your follow-ups are on."),
    PreferenceState.PAUSED: _l("Your follow-ups are paused. Nothing is sent until you resume."),
    PreferenceState.STOPPED: _l("Your follow-ups are stopped. Nothing more is sent unless you "
                                "turn them back on."),
}
CHOICE_DONE = {
    "pause": _l("Follow-ups are paused. Nothing more is sent until you resume them."),
    "resume": _l("Follow-ups are back on."),
    "stop": _l("Follow-ups are stopped. Nothing more is sent. You can turn them back on at "
               "any time from your follow-ups page."),
}
CHOICE_NAMES = {"pause": _l("Paused"), "resume": _l("Resumed"), "stop": _l("Stopped")}


def _zone() -> str:
    return current_user.centre.timezone


def conversation_of(followup: FollowUp | answers.TimelineStage,
                    tasks_by_stage: dict | None = None) -> dict | None:
    """Where an offered or asked-for conversation of this stage stands, for the pages.
    ``tasks_by_stage`` are a page's tasks read at once (``conversations.task_requests_of``);
    without it, a stage whose conversation became a task looks its own up."""
    if not (followup.stage.offers_conversation or followup.conversation_state):
        return None
    if followup.conversation_state != conversations.TASK:
        tasks = []
    elif tasks_by_stage is not None:
        tasks = tasks_by_stage.get(followup.id, [])
    else:
        tasks = conversations.task_requests(db.session, followup)
    task = tasks[-1] if tasks else None
    return {"followup_id": followup.id, "state": followup.conversation_state, "task": task,
            "deadline": conversations.offer_deadline(followup) or (followup.due_at
                                                                   + conversations.NOTICE),
            "proposed": task.proposed_at if task and task.proposed_at
            else conversations.offer_proposed_time(followup)}


def template_context() -> dict:
    return {"learner_status": LEARNER_STATUS, "conversation_of": conversation_of,
            "shared_stories": lambda centre: stories.shared_with_learners(db.session, centre),
            "question_of": stage_catalogue.question,
            "content_title": lambda code: stage_catalogue.label_of(stage_catalogue.CONTENT, code),
            "part_name": lambda code: stage_catalogue.label_of(stage_catalogue.PARTS, code),
            "question_label": lambda code: getattr(stage_catalogue.question(code), "label", code),
            "unit_name": lambda unit: stage_catalogue.UNIT_NAMES[OffsetUnit(unit)],
            "plan_kind_name": lambda kind: stage_catalogue.PLAN_KIND_NAMES[PlanKind(kind)],
            "options": checkin_options, "stage_rows": figures.stage_rows}


# --- the stage form, shared by links and the learner's pages ----------------------------------


def answers_from(form) -> checkins.Answers:
    def data(name, default):
        field = form._fields.get(name)
        return field.data if field is not None and field.data is not None else default

    return checkins.Answers(
        distress=data("distress", None), symptoms=tuple(data("symptoms", ())),
        coping=tuple(data("coping", ())), support_wanted=tuple(data("support_wanted", ())),
        free_text=data("free_text", "") or "")


def handle_stage_post(followup: FollowUp, form, skip_form, now: datetime):
    """Save or skip; returns the saved check-in, or None with the form's errors filled in."""
    if skip_form.skip.data:
        if not skip_form.validate_on_submit():
            form.form_errors.append(_("The form expired or was sent twice. Please try again."))
            return None
        return answers.skip_stage(db.session, followup=followup, now=now)
    if not form.validate_on_submit():
        return None
    try:
        return answers.complete_stage(db.session, followup=followup, answers=answers_from(form),
                                      stage_answers=stage_answers(form), now=now)
    except InvalidInput as error:
        db.session.rollback()
        apply_service_errors(form, error)
        return None


def render_stage(followup: FollowUp, form, skip_form, *, token: str | None, status: int):
    return render_template(
        "followups/stage.html", followup=followup, form=form, skip_form=skip_form,
        choice_form=ChoiceForm(), token=token, centre=followup.centre,
        state=stage_rows.state_of(db.session, followup.user),
        **template_context()), status


# The pages register themselves on ``bp`` when imported.
from simdebrief.web.followups import learner_pages, links, staff_pages  # noqa: E402, F401
