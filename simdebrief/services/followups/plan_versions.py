"""Follow-up plans: the defaults, their versions, and revising a plan for stages not yet sent."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import Select, and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import (
    Centre,
    FollowUp,
    FollowUpPlan,
    FollowUpStage,
    FollowUpStatus,
    OffsetUnit,
    PlanKind,
    User,
)
from simdebrief.models.followups import NOT_YET_SENT
from simdebrief.services import audit
from simdebrief.services.followups.stage_catalogue import (
    CONTENT_CODES,
    PART_CODES,
    QUESTION_CODES,
    SEND_HOURS,
    stage_times,
)
from simdebrief.services.followups.stage_rows import new_followup, preference_states


@dataclass(frozen=True)
class StageInput:
    key: str
    title: str
    offset_amount: int
    offset_unit: OffsetUnit
    window_days: int
    parts: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    reminder_after_days: int | None = None
    expires_after_days: int = 7
    send_hour: int = 9
    #: A conversation stage: a supporter task unless the learner declines (``conversations``).
    offers_conversation: bool = False
    #: Kept back until this event in the learner's track (``track_branches``).
    on_event: str | None = None

    @classmethod
    def of(cls, stage: FollowUpStage) -> StageInput:
        return cls(stage.key, stage.stored_title, stage.offset_amount,
                   OffsetUnit(stage.offset_unit), stage.window_days,
                   tuple(stage.parts or ()), tuple(stage.questions or ()),
                   tuple(stage.content or ()), stage.reminder_after_days,
                   stage.expires_after_days, stage.send_hour, bool(stage.offers_conversation),
                   stage.on_event)


ALL_PARTS = PART_CODES
SHORT_PARTS = ("distress", "support_wanted", "free_text")


def _session_stages() -> list[StageInput]:
    """domain.md §5.6: end of debrief, the day after, +7 d, +30 d, +90 d."""
    return [
        StageInput("FU0_end_of_debrief", _("Right after the debrief"), 0, OffsetUnit.MINUTES,
                   window_days=1, parts=ALL_PARTS, questions=("takeaways",),
                   content=("support_contacts", "debrief_summary"), expires_after_days=3),
        StageInput("FU1_early", _("The day after"), 1, OffsetUnit.DAYS, window_days=2,
                   parts=SHORT_PARTS, questions=("sleep", "intrusive", "open_questions"),
                   content=("early_reactions", "second_victim", "support_contacts"),
                   reminder_after_days=1, expires_after_days=4),
        StageInput("FU2_one_week", _("One week on"), 7, OffsetUnit.DAYS, window_days=3,
                   parts=("distress", "symptoms", "support_wanted", "free_text"),
                   questions=("action_plan", "role_model"),
                   content=("role_model_story", "many_causes"),
                   reminder_after_days=2, expires_after_days=7),
        StageInput("FU3_one_month", _("One month on"), 30, OffsetUnit.DAYS, window_days=7,
                   parts=ALL_PARTS,
                   questions=("transfer", "real_event", "burden", "helping_peers"),
                   content=("ask_for_help", "support_a_colleague"),
                   reminder_after_days=3, expires_after_days=14),
        # The closing conversation is offered, not asked about: students rarely ask, and
        # valued what was arranged for them. One click declines it.
        StageInput("FU4_three_months", _("Three months on"), 90, OffsetUnit.DAYS,
                   window_days=14, parts=SHORT_PARTS,
                   content=("looking_back", "support_contacts"),
                   reminder_after_days=4, expires_after_days=21, offers_conversation=True),
    ]


def _high_risk_stages() -> list[StageInput]:
    """The session stages with an extra contact at +72 h that offers a conversation: early
    contact over the first days is standard after high-risk events (domain.md §3.6)."""
    stages = _session_stages()
    extra = StageInput("FU1b_three_days", _("Three days on"), 72, OffsetUnit.HOURS,
                       window_days=2, parts=SHORT_PARTS, questions=("sleep", "intrusive"),
                       content=("second_victim", "ask_for_help", "support_contacts"),
                       expires_after_days=4, offers_conversation=True)
    return [*stages[:2], extra, *stages[2:]]


#: Months a complaint track runs: Danish complaint cases took about 8 to 16 months on
#: average in recent years (domain.md §4), so the track covers the long end.
COMPLAINT_MONTHS = 16


def _complaint_stages() -> list[StageInput]:
    stages = [StageInput("CT_week01", _("One week after the complaint"), 7, OffsetUnit.DAYS,
                         window_days=3, parts=SHORT_PARTS,
                         questions=("complaint_stage", "waiting_weight"),
                         content=("after_a_complaint", "ask_for_help", "support_contacts"),
                         reminder_after_days=3, expires_after_days=14)]
    for month in range(1, COMPLAINT_MONTHS + 1):
        if month <= 2:
            content = ("after_a_complaint", "waiting_time")
        elif month % 3 == 0:
            content = ("waiting_time", "role_model_story", "support_contacts")
        else:
            content = ("waiting_time", "support_contacts")
        stages.append(StageInput(
            f"CT_month{month:02d}", _("Month %(number)d of the waiting time", number=month),
            month, OffsetUnit.MONTHS, window_days=7, parts=SHORT_PARTS,
            questions=("complaint_stage", "waiting_weight"), content=content,
            reminder_after_days=4, expires_after_days=21))
    stages.append(StageInput(
        "CT_after_decision", _("After the decision"), 7, OffsetUnit.DAYS, window_days=7,
        parts=SHORT_PARTS, content=("looking_back", "support_contacts"),
        reminder_after_days=3, expires_after_days=14, offers_conversation=True,
        on_event="decision"))
    return stages


def _real_event_stages() -> list[StageInput]:
    """After a real clinical event that no scenario is about: the next day, a week on with a
    conversation offered, and a month on."""
    return [
        StageInput("RW_next_day", _("The next day"), 1, OffsetUnit.DAYS, window_days=2,
                   parts=ALL_PARTS, questions=("sleep", "intrusive"),
                   content=("early_reactions", "second_victim", "support_contacts"),
                   reminder_after_days=1, expires_after_days=4),
        StageInput("RW_one_week", _("One week on"), 7, OffsetUnit.DAYS, window_days=3,
                   parts=SHORT_PARTS, content=("many_causes", "ask_for_help"),
                   reminder_after_days=2, expires_after_days=7, offers_conversation=True),
        StageInput("RW_one_month", _("One month on"), 1, OffsetUnit.MONTHS, window_days=7,
                   parts=SHORT_PARTS, questions=("helping_peers",),
                   content=("support_a_colleague", "looking_back", "support_contacts"),
                   reminder_after_days=3, expires_after_days=14),
    ]


def _reactivated_stages() -> list[StageInput]:
    return [
        StageInput("RE_next_day", _("The next day"), 1, OffsetUnit.DAYS, window_days=2,
                   parts=ALL_PARTS, questions=("since_it_came_back", "sleep"),
                   content=("early_reactions", "second_victim", "support_contacts"),
                   reminder_after_days=1, expires_after_days=4),
        StageInput("RE_one_week", _("One week on"), 7, OffsetUnit.DAYS, window_days=3,
                   parts=SHORT_PARTS, questions=("since_it_came_back",),
                   content=("many_causes", "ask_for_help"),
                   reminder_after_days=2, expires_after_days=7),
        StageInput("RE_one_month", _("One month on"), 1, OffsetUnit.MONTHS, window_days=7,
                   parts=SHORT_PARTS, questions=("since_it_came_back", "helping_peers"),
                   content=("support_a_colleague", "looking_back", "support_contacts"),
                   reminder_after_days=3, expires_after_days=14),
    ]


def default_plan(kind: PlanKind) -> tuple[str, str, list[StageInput]]:
    """(name, description, stages) of the plan a centre starts with."""
    kind = PlanKind(kind)
    if kind is PlanKind.SESSION:
        return (_("Standard follow-up after a session"),
                _("Right after the debrief, the day after, and one week, one month and three "
                  "months on."), _session_stages())
    if kind is PlanKind.HIGH_RISK:
        return (_("Follow-up after a high-risk session"),
                _("As after any session, with a check-in three days on that offers a "
                  "conversation with a peer supporter."), _high_risk_stages())
    if kind is PlanKind.REAL_EVENT:
        return (_("After a real clinical event"),
                _("The next day, a week on (with a conversation offered) and a month after the "
                  "learner starts it."), _real_event_stages())
    if kind is PlanKind.COMPLAINT:
        return (_("After a patient complaint"),
                _("A week after the learner starts it, then monthly through the usual waiting "
                  "time for a decision."), _complaint_stages())
    return (_("A real event brought a scenario back"),
            _("The next day, a week and a month after the learner starts it."),
            _reactivated_stages())


def _stage_rows(stages: Iterable[StageInput]) -> list[FollowUpStage]:
    return [FollowUpStage(position=index, key=s.key, title=s.title,
                          offset_amount=s.offset_amount, offset_unit=OffsetUnit(s.offset_unit),
                          window_days=s.window_days, send_hour=s.send_hour,
                          parts=list(s.parts), questions=list(s.questions),
                          content=list(s.content), reminder_after_days=s.reminder_after_days,
                          expires_after_days=s.expires_after_days,
                          offers_conversation=s.offers_conversation, on_event=s.on_event)
            for index, s in enumerate(stages)]


def current_plan(session: Session, centre: Centre, kind: PlanKind | str,
                 now: datetime) -> FollowUpPlan:
    """The centre's current plan of this kind, created from the default on first use."""
    kind = PlanKind(kind)
    query = (select(FollowUpPlan)
             .where(FollowUpPlan.centre_id == centre.id, FollowUpPlan.kind == kind,
                    FollowUpPlan.is_current.is_(True))
             .options(selectinload(FollowUpPlan.stages)))
    plan = session.scalar(query)
    if plan is not None:
        return plan
    with force_locale("en"):  # stored in English; the model shows it in the reader's language
        name, description, stages = default_plan(kind)
    plan = FollowUpPlan(centre_id=centre.id, kind=kind, name=name, description=description,
                        version=1, is_current=True, created_at=now, stages=_stage_rows(stages))
    try:
        with session.begin_nested():
            session.add(plan)
    except IntegrityError:
        # Another request created it at the same moment; use theirs.
        plan = session.scalar(query)
    return plan


def ensure_plans(session: Session, centre: Centre, now: datetime) -> list[FollowUpPlan]:
    return [current_plan(session, centre, kind, now) for kind in PlanKind]


def plans_of(session: Session, centre: Centre) -> list[FollowUpPlan]:
    """Every version of every plan, newest version first within each kind."""
    order = {kind: index for index, kind in enumerate(PlanKind)}
    plans = session.scalars(_plans_with_stages(), {"centre_id": centre.id}).unique().all()
    return sorted(plans, key=lambda p: (order[p.kind], -p.version))


@functools.cache
def _plans_with_stages() -> Select:
    """Built once per process: the admin's overview asks it on every view. The stages are
    joined in: a centre has a few plan versions of a few stages each, and a second round
    trip cost more than the repeated plan columns."""
    return (select(FollowUpPlan).where(FollowUpPlan.centre_id == bindparam("centre_id"))
            .options(joinedload(FollowUpPlan.stages)))


def validate_stages(stages: list[StageInput]) -> None:
    errors: list[str] = []
    keys = [s.key for s in stages]
    if not stages:
        errors.append(_("A plan needs at least one stage."))
    if len(set(keys)) != len(keys):
        errors.append(_("Each stage needs its own key."))
    for s in stages:
        name = s.title or s.key
        if not s.key or len(s.key) > 40 or not all(c.isalnum() or c == "_" for c in s.key):
            errors.append(_("Stage “%(name)s”: the key may contain only letters, digits and "
                            "underscores (at most 40).", name=name))
        if not s.title.strip() or "\x00" in s.title or len(s.title) > 200:
            errors.append(_("Stage “%(name)s”: give it a title of at most 200 characters.",
                            name=name))
        if s.offset_amount < 0:
            errors.append(_("Stage “%(name)s”: the offset cannot be negative.", name=name))
        if s.send_hour not in SEND_HOURS:
            errors.append(_("Stage “%(name)s”: the send hour must be between %(first)d and "
                            "%(last)d, so nothing arrives at night.", name=name,
                            first=SEND_HOURS[0], last=SEND_HOURS[-1]))
        if s.window_days < 0 or s.expires_after_days < 1:
            errors.append(_("Stage “%(name)s”: the window cannot be negative and a stage stays "
                            "open for at least a day.", name=name))
        if s.reminder_after_days is not None and not (
                1 <= s.reminder_after_days < s.expires_after_days):
            errors.append(_("Stage “%(name)s”: the reminder must come at least a day after "
                            "sending and before the stage closes.", name=name))
        if (set(s.parts) - set(PART_CODES) or set(s.questions) - set(QUESTION_CODES)
                or set(s.content) - set(CONTENT_CODES)):
            errors.append(_("Stage “%(name)s”: choose from the options shown.", name=name))
        if s.on_event not in (None, "decision"):
            errors.append(_("Stage “%(name)s”: choose from the options shown.", name=name))
        if not s.parts and not s.questions and not s.offers_conversation:
            errors.append(_("Stage “%(name)s”: ask at least one thing.", name=name))
    if errors:
        raise InvalidInput({"": errors})


@dataclass
class PlanChange:
    plan: FollowUpPlan
    #: Follow-ups not yet sent that now follow the new version.
    moved: int = 0
    #: Not yet sent, but their stage was removed: skipped.
    dropped: int = 0
    #: New stages added to learners whose follow-ups are still running.
    added: int = 0


def revise_plan(session: Session, *, plan: FollowUpPlan, actor: User, name: str,
                description: str, stages: list[StageInput], apply_to_unsent: bool,
                now: datetime) -> PlanChange:
    """Save the edit as the plan's next version.

    Follow-ups already scheduled keep the version they were scheduled with, unless the admin
    chose ``apply_to_unsent``: then every stage not yet sent follows the new version (new
    times from its own anchor), stages removed from the plan are skipped, and new stages are
    added for learners whose follow-ups of this plan are still running.
    """
    validate_stages(stages)
    name = (name or "").strip()
    if not name or "\x00" in name or len(name) > 200:
        raise InvalidInput({"name": [_("Give the plan a name of at most 200 characters.")]})
    versions = session.scalars(select(FollowUpPlan).where(
        FollowUpPlan.centre_id == plan.centre_id, FollowUpPlan.kind == plan.kind)).all()
    for version in versions:
        version.is_current = False
    session.flush()
    # A default text the admin left as shown (in their language) stays the stored English,
    # so every reader keeps getting it in their own language.
    name = plan.stored_name if name == plan.name else name
    description = (description or "").strip()
    description = plan.stored_description if description == plan.description else description
    shown = {stage.key: stage for stage in plan.stages}
    stages = [replace(s, title=shown[s.key].stored_title)
              if s.key in shown and s.title == shown[s.key].title else s for s in stages]
    revised = FollowUpPlan(centre_id=plan.centre_id, kind=plan.kind, name=name,
                           description=description,
                           version=max(v.version for v in versions) + 1, is_current=True,
                           created_at=now, created_by_id=actor.id, stages=_stage_rows(stages))
    session.add(revised)
    session.flush()
    change = PlanChange(revised)
    if apply_to_unsent:
        _apply_to_unsent(session, revised, [v.id for v in versions], change, now)
    audit.record(session, action="follow_up_plan.revised", actor=actor, now=now,
                 object_type="follow_up_plan", object_id=revised.id,
                 detail=f"kind={revised.kind.value} version={revised.version} "
                        f"applied={int(apply_to_unsent)} moved={change.moved} "
                        f"dropped={change.dropped} added={change.added}")
    return change


def _apply_to_unsent(session: Session, plan: FollowUpPlan, old_plan_ids: list[int],
                     change: PlanChange, now: datetime) -> None:
    zone, country = plan.centre.timezone, plan.centre.country
    rows = session.scalars(select(FollowUp).where(
        FollowUp.plan_id.in_(old_plan_ids), FollowUp.status.in_(NOT_YET_SENT))).all()
    for followup in rows:
        stage = plan.stage(followup.stage_key)
        guard = and_(FollowUp.id == followup.id, FollowUp.status.in_(NOT_YET_SENT))
        if stage is None:
            values = {"status": FollowUpStatus.SKIPPED, "status_changed_at": now}
        else:
            due, expires = stage_times(stage, followup.anchor_at, zone, country)
            values = {"plan_id": plan.id, "stage_id": stage.id, "due_at": due,
                      "expires_at": expires}
        # Conditional, so a stage a dispatcher sends at this very moment is left alone.
        result = session.execute(update(FollowUp).where(guard).values(**values)
                                 .execution_options(synchronize_session=False))
        if result.rowcount:
            if stage is None:
                change.dropped += 1
            else:
                change.moved += 1
    # New stages for enrolments still running (a learner per session, or a track).
    running = session.execute(
        select(FollowUp.user_id, FollowUp.session_id, FollowUp.track_id, FollowUp.cohort_id,
               FollowUp.anchor_at, FollowUp.centre_id)
        .where(FollowUp.plan_id.in_([*old_plan_ids, plan.id]),
               FollowUp.status.in_(NOT_YET_SENT))
        .distinct()).all()
    if not running:
        return
    keys = defaultdict(set)
    for user_id, session_id, track_id, stage_key in session.execute(
            select(FollowUp.user_id, FollowUp.session_id, FollowUp.track_id, FollowUp.stage_key)
            .where(FollowUp.plan_id.in_([*old_plan_ids, plan.id]))):
        keys[(user_id, session_id, track_id)].add(stage_key)
    states = preference_states(session, {row.user_id for row in running})
    seen = set()
    for row in running:
        enrolment = (row.user_id, row.session_id, row.track_id)
        if enrolment in seen:
            continue
        seen.add(enrolment)
        for stage in plan.stages:
            if stage.key in keys[enrolment] or stage.on_event:
                continue
            due, expires = stage_times(stage, row.anchor_at, zone, country)
            if due <= now:
                continue
            session.add(new_followup(stage, plan, user_id=row.user_id, centre_id=row.centre_id,
                                  session_id=row.session_id, track_id=row.track_id,
                                  cohort_id=row.cohort_id, anchor=row.anchor_at, due=due,
                                  expires=expires, state=states.get(row.user_id), now=now))
            change.added += 1
    session.flush()
