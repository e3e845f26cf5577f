"""Staged follow-ups after a session, and tracks a learner starts after a real event.

A learner's needs change over time, and a check-in they do not have to ask for reaches more
of them than an offer they must take up, so follow-ups are opt-out: every learner who was
present gets the plan's stages when the debrief is finalised, and may pause, resume or stop
them with one click and no reason asked.

Reliability rests on the rows, not on the scheduler:

* ``claim_due`` takes due rows in batches (PostgreSQL ``FOR UPDATE SKIP LOCKED``; on every
  engine a conditional ``UPDATE`` that repeats the due condition, with a claim token) and, in
  the same transaction, writes each stage's email into the outbox with the unique key
  ``followup:<id>``. Two dispatchers never send a stage twice; a crash before the commit
  leaves the rows due, and a claim left behind is taken again once its lease runs out.
* Time is computed in the centre's zone: a stage falls due at its local send hour, never at
  night, and day and month offsets keep the wall-clock time across daylight-saving changes.
"""

from __future__ import annotations

import calendar
import secrets
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from simdebrief.errors import InvalidInput, InvalidState, LinkExpired, LinkInvalid
from simdebrief.models import (
    Attendance,
    Centre,
    CheckIn,
    CheckInContext,
    Cohort,
    Debrief,
    EventTrack,
    FollowUp,
    FollowUpChoice,
    FollowUpPlan,
    FollowUpPreference,
    FollowUpStage,
    FollowUpStatus,
    OffsetUnit,
    OutboxEmail,
    OutboxStatus,
    PlanKind,
    PreferenceState,
    SimSession,
    TrackKind,
    TrackStatus,
    User,
)
from simdebrief.models.followups import NOT_YET_SENT
from simdebrief.services import audit, checkins, notifications

# --- what a stage can ask and bring ------------------------------------------------------------

#: Parts of the emotional check-in a stage may show (the codes of checkins.Answers).
PARTS: tuple[tuple[str, LazyString], ...] = (
    ("distress", _l("Distress (0–10)")),
    ("symptoms", _l("Reactions noticed")),
    ("coping", _l("What helps")),
    ("support_wanted", _l("Support wanted")),
    ("free_text", _l("Private notes")),
)
PART_CODES = tuple(code for code, _label in PARTS)


class Question(NamedTuple):
    code: str
    label: str | LazyString
    choices: tuple[tuple[str, str | LazyString], ...]
    hint: str | LazyString = ""


#: Stage-specific questions; answers are stored (encrypted) with the check-in. Codes and the
#: values of their choices must never change.
QUESTIONS: tuple[Question, ...] = (
    Question("takeaways", _l("Are the group's take-home messages clear to you?"),
             (("yes", _l("Yes")), ("partly", _l("Partly")), ("no", _l("Not really")))),
    Question("sleep", _l("How have you been sleeping since the session?"),
             (("well", _l("As usual")), ("disturbed", _l("A little disturbed")),
              ("badly", _l("Badly")))),
    Question("intrusive", _l("Has the scenario come back to you when you did not want it to?"),
             (("no", _l("Not at all")), ("sometimes", _l("Now and then")),
              ("often", _l("Often"))),
             _l("For example pictures, sounds or thoughts of it, or replaying what you did.")),
    Question("open_questions",
             _l("Is anything from the debrief still on your mind or unanswered?"),
             (("no", _l("No")), ("a_little", _l("A little")), ("yes", _l("Yes")))),
    Question("action_plan", _l("How far have you got with what you planned to practise?"),
             (("not_started", _l("Not started yet")), ("started", _l("Started")),
              ("done", _l("Done")), ("no_plan", _l("I did not make a plan")))),
    Question("role_model",
             _l("Would it help to hear from someone more experienced who went through "
                "something similar?"),
             (("yes", _l("Yes")), ("maybe", _l("Maybe")), ("no", _l("No")))),
    Question("transfer", _l("Have you used something from the session in real clinical work?"),
             (("yes", _l("Yes")), ("not_yet", _l("Not yet")),
              ("no_chance", _l("There has been no chance to")))),
    Question("real_event",
             _l("Since the session, has a real event at work brought it back to you?"),
             (("no", _l("No")), ("yes", _l("Yes")), ("rather_not_say", _l("I would rather not "
                                                                         "say")))),
    Question("burden",
             _l("When you need help at work, do you hold back because you feel you would be "
                "a burden?"),
             (("never", _l("Never")), ("sometimes", _l("Sometimes")), ("often", _l("Often")))),
    Question("helping_peers",
             _l("Have you supported a fellow student or colleague after a difficult "
                "experience?"),
             (("yes", _l("Yes")), ("not_needed", _l("It has not come up")),
              ("unsure", _l("I wanted to, but was unsure how")))),
    Question("closing_conversation",
             _l("Would you like a short closing conversation about the session and what "
                "followed?"),
             (("no", _l("No, thank you")), ("yes", _l("Yes, please")))),
    Question("complaint_stage", _l("Where does the complaint stand at the moment?"),
             (("lodged", _l("Just lodged")), ("statement", _l("I have given my statement")),
              ("waiting", _l("Waiting for a decision")), ("decided", _l("A decision has "
                                                                        "come")),
              ("rather_not_say", _l("I would rather not say")))),
    Question("waiting_weight", _l("How much is the waiting weighing on you at the moment?"),
             (("hardly", _l("Hardly")), ("somewhat", _l("Somewhat")), ("a_lot", _l("A lot")))),
    Question("since_it_came_back", _l("Compared with when it came back, how is it now?"),
             (("easier", _l("Easier")), ("same", _l("About the same")),
              ("harder", _l("Harder")))),
)
QUESTION_CODES = tuple(q.code for q in QUESTIONS)


def question(code: str) -> Question | None:
    return next((q for q in QUESTIONS if q.code == code), None)


#: Lessons and resources a stage can bring; their texts are templates
#: (``followups/content/<code>.html``), written for learners in plain words.
CONTENT: tuple[tuple[str, LazyString], ...] = (
    ("support_contacts", _l("Where to find support")),
    ("debrief_summary", _l("Your debrief and feedback")),
    ("early_reactions", _l("Sleep, replaying and other early reactions")),
    ("second_victim", _l("When an event leaves its mark on you")),
    ("many_causes", _l("Why errors almost always have several causes")),
    ("role_model_story", _l("A story from someone who has been there")),
    ("ask_for_help", _l("Asking for help without feeling like a burden")),
    ("support_a_colleague", _l("How to support a colleague")),
    ("after_a_complaint", _l("What happens after a patient complaint")),
    ("waiting_time", _l("Living with the waiting time")),
    ("looking_back", _l("Looking back, looking ahead")),
)
CONTENT_CODES = tuple(code for code, _label in CONTENT)

UNIT_NAMES = {
    OffsetUnit.MINUTES: _l("minutes"),
    OffsetUnit.HOURS: _l("hours"),
    OffsetUnit.DAYS: _l("days"),
    OffsetUnit.MONTHS: _l("months"),
}
PLAN_KIND_NAMES = {
    PlanKind.SESSION: _l("After a simulation session"),
    PlanKind.COMPLAINT: _l("After a patient complaint"),
    PlanKind.REACTIVATED: _l("A real event brought a scenario back"),
}
TRACK_PLAN = {TrackKind.COMPLAINT: PlanKind.COMPLAINT,
              TrackKind.REACTIVATED: PlanKind.REACTIVATED}


def label_of(pairs, code: str):
    return next((label for value, label in pairs if value == code), code)


# --- time -----------------------------------------------------------------------------------

#: Local daytime: stages go out between these hours and never at night.
DAY_STARTS = 8
NIGHT_STARTS = 21
SEND_HOURS = tuple(range(DAY_STARTS, NIGHT_STARTS))


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped at the end of a shorter month (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _at_local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``hour``:00 on ``day`` in ``zone``, as UTC. A time skipped by a DST change comes out
    after the gap, never before it."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def is_night(moment: datetime, zone: ZoneInfo) -> bool:
    hour = moment.astimezone(zone).hour
    return hour < DAY_STARTS or hour >= NIGHT_STARTS


def next_send_time(moment: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """The first local ``hour``:00 at or after ``moment``."""
    local_day = moment.astimezone(zone).date()
    candidate = _at_local(local_day, hour, zone)
    if candidate < moment:
        candidate = _at_local(local_day + timedelta(days=1), hour, zone)
    return candidate


def due_time(anchor: datetime, *, amount: int, unit: OffsetUnit | str, send_hour: int,
             zone: str) -> datetime:
    """When a stage falls due, in UTC.

    * minutes: that long after the anchor, moved to the next send hour if it falls at night;
    * hours: the first send hour at least that long after the anchor;
    * days and months: that many calendar days or months after the anchor's local date
      (months clamped at month end), at the send hour, so 09:00 stays 09:00 across DST.
    """
    tz = ZoneInfo(zone)
    unit = OffsetUnit(unit)
    # Elapsed time is counted in UTC: adding hours to a zoned datetime adds wall-clock time.
    anchor = anchor.astimezone(UTC)
    if unit is OffsetUnit.MINUTES:
        moment = anchor + timedelta(minutes=amount)
        return next_send_time(moment, send_hour, tz) if is_night(moment, tz) else moment
    if unit is OffsetUnit.HOURS:
        return next_send_time(anchor + timedelta(hours=amount), send_hour, tz)
    local_day = anchor.astimezone(tz).date()
    day = (local_day + timedelta(days=amount) if unit is OffsetUnit.DAYS
           else add_months(local_day, amount))
    return _at_local(day, send_hour, tz)


def stage_times(stage: FollowUpStage, anchor: datetime, zone: str) -> tuple[datetime, datetime]:
    """(due, expires) of a stage counted from ``anchor``."""
    due = due_time(anchor, amount=stage.offset_amount, unit=stage.offset_unit,
                   send_hour=stage.send_hour, zone=zone)
    return due, due + timedelta(days=stage.expires_after_days)


# --- plans ------------------------------------------------------------------------------------


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

    @classmethod
    def of(cls, stage: FollowUpStage) -> StageInput:
        return cls(stage.key, stage.title, stage.offset_amount, OffsetUnit(stage.offset_unit),
                   stage.window_days, tuple(stage.parts or ()), tuple(stage.questions or ()),
                   tuple(stage.content or ()), stage.reminder_after_days,
                   stage.expires_after_days, stage.send_hour)


ALL_PARTS = PART_CODES
SHORT_PARTS = ("distress", "support_wanted", "free_text")


def _session_stages() -> list[StageInput]:
    """domain.md §5.6: end of debrief, +24 h, +7 d, +30 d, +90 d."""
    return [
        StageInput("FU0_end_of_debrief", _("Right after the debrief"), 0, OffsetUnit.MINUTES,
                   window_days=1, parts=ALL_PARTS, questions=("takeaways",),
                   content=("support_contacts", "debrief_summary"), expires_after_days=3),
        StageInput("FU1_early", _("The day after"), 24, OffsetUnit.HOURS, window_days=2,
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
        StageInput("FU4_three_months", _("Three months on"), 90, OffsetUnit.DAYS,
                   window_days=14, parts=SHORT_PARTS, questions=("closing_conversation",),
                   content=("looking_back", "support_contacts"),
                   reminder_after_days=4, expires_after_days=21),
    ]


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
    return stages


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
                          expires_after_days=s.expires_after_days)
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
    plans = session.scalars(select(FollowUpPlan).where(FollowUpPlan.centre_id == centre.id)
                            .options(selectinload(FollowUpPlan.stages))).all()
    return sorted(plans, key=lambda p: (order[p.kind], -p.version))


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
        if not s.parts and not s.questions:
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
    revised = FollowUpPlan(centre_id=plan.centre_id, kind=plan.kind, name=name,
                           description=(description or "").strip(),
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
    zone = plan.centre.timezone
    rows = session.scalars(select(FollowUp).where(
        FollowUp.plan_id.in_(old_plan_ids), FollowUp.status.in_(NOT_YET_SENT))).all()
    for followup in rows:
        stage = plan.stage(followup.stage_key)
        guard = and_(FollowUp.id == followup.id, FollowUp.status.in_(NOT_YET_SENT))
        if stage is None:
            values = {"status": FollowUpStatus.SKIPPED, "status_changed_at": now}
        else:
            due, expires = stage_times(stage, followup.anchor_at, zone)
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
            if stage.key in keys[enrolment]:
                continue
            due, expires = stage_times(stage, row.anchor_at, zone)
            if due <= now:
                continue
            session.add(_followup(stage, plan, user_id=row.user_id, centre_id=row.centre_id,
                                  session_id=row.session_id, track_id=row.track_id,
                                  cohort_id=row.cohort_id, anchor=row.anchor_at, due=due,
                                  expires=expires, state=states.get(row.user_id), now=now))
            change.added += 1
    session.flush()


# --- scheduling -----------------------------------------------------------------------------

_STATUS_FOR_STATE = {
    None: FollowUpStatus.SCHEDULED,
    PreferenceState.ACTIVE: FollowUpStatus.SCHEDULED,
    PreferenceState.PAUSED: FollowUpStatus.PAUSED,
    PreferenceState.STOPPED: FollowUpStatus.STOPPED,
}


def _followup(stage: FollowUpStage, plan: FollowUpPlan, *, user_id: int, centre_id: int,
              anchor: datetime, due: datetime, expires: datetime,
              state: PreferenceState | None, now: datetime, session_id: int | None = None,
              track_id: int | None = None, cohort_id: int | None = None) -> FollowUp:
    status = _STATUS_FOR_STATE[state]
    return FollowUp(centre_id=centre_id, user_id=user_id, session_id=session_id,
                    track_id=track_id, cohort_id=cohort_id, plan_id=plan.id, stage_id=stage.id,
                    stage_key=stage.key, anchor_at=anchor, due_at=due, expires_at=expires,
                    status=status, created_at=now,
                    status_changed_at=None if status is FollowUpStatus.SCHEDULED else now)


def schedule_for_debrief(session: Session, debrief: Debrief, now: datetime, *,
                         anchor: datetime | None = None) -> list[FollowUp]:
    """The plan's stages for every learner who was present; idempotent.

    Offsets count from the end of the debrief (the moment it is finalised). Learners marked
    absent, or never marked, get none. A learner who paused or stopped follow-ups gets the
    stages paused or stopped, so the choice holds for every later stage too.
    """
    sim_session: SimSession = debrief.session
    centre = sim_session.centre
    plan = current_plan(session, centre, PlanKind.SESSION, now)
    anchor = anchor or debrief.finalised_at or now
    present = [p for p in sim_session.participants
               if p.attendance is Attendance.PRESENT and p.user.is_active_account]
    if not present:
        return []
    existing = set(session.execute(
        select(FollowUp.user_id, FollowUp.stage_key)
        .where(FollowUp.session_id == sim_session.id)))
    states = preference_states(session, {p.user_id for p in present})
    times = {stage.key: stage_times(stage, anchor, centre.timezone) for stage in plan.stages}
    created = []
    for participant in present:
        for stage in plan.stages:
            if (participant.user_id, stage.key) in existing:
                continue
            due, expires = times[stage.key]
            created.append(_followup(stage, plan, user_id=participant.user_id,
                                     centre_id=centre.id, session_id=sim_session.id,
                                     cohort_id=participant.cohort_id, anchor=anchor, due=due,
                                     expires=expires, state=states.get(participant.user_id),
                                     now=now))
    if created:
        session.add_all(created)
        session.flush()
        audit.record(session, action="follow_ups.scheduled", now=now,
                     object_type="sim_session", object_id=sim_session.id,
                     detail=f"plan={plan.id} learners={len(present)} rows={len(created)}")
    return created


# --- the learner's choices -------------------------------------------------------------------


def preference_states(session: Session, user_ids: Iterable[int]) -> dict[int, PreferenceState]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    return dict(session.execute(select(FollowUpPreference.user_id, FollowUpPreference.state)
                                .where(FollowUpPreference.user_id.in_(ids))).all())


def preference_of(session: Session, user: User) -> FollowUpPreference | None:
    return session.get(FollowUpPreference, user.id)


def state_of(session: Session, user: User) -> PreferenceState:
    preference = preference_of(session, user)
    return preference.state if preference is not None else PreferenceState.ACTIVE


ACTIONS = {"pause": PreferenceState.PAUSED, "resume": PreferenceState.ACTIVE,
           "stop": PreferenceState.STOPPED}


def set_choice(session: Session, *, user: User, action: str, now: datetime,
               via: str = "page") -> PreferenceState:
    """Pause, resume or stop all of the learner's follow-ups: one click, no reason asked.

    The choice is recorded with its time. Pausing holds every stage not yet sent; stopping
    ends them; resuming brings held stages back, except those whose window has passed.
    """
    if action not in ACTIONS:
        raise InvalidInput(_("Unknown choice."))
    state = ACTIONS[action]
    preference = preference_of(session, user)
    if preference is None:
        preference = FollowUpPreference(user_id=user.id, state=PreferenceState.ACTIVE,
                                        changed_at=now)
        session.add(preference)
    if preference.state is state:
        return state
    preference.state = state
    preference.changed_at = now
    session.add(FollowUpChoice(user_id=user.id, action=action, via=via, at=now))
    mine = FollowUp.user_id == user.id
    if state is PreferenceState.PAUSED:
        session.execute(update(FollowUp)
                        .where(mine, FollowUp.status == FollowUpStatus.SCHEDULED)
                        .values(status=FollowUpStatus.PAUSED, status_changed_at=now)
                        .execution_options(synchronize_session=False))
    elif state is PreferenceState.STOPPED:
        session.execute(update(FollowUp)
                        .where(mine, FollowUp.status.in_(NOT_YET_SENT))
                        .values(status=FollowUpStatus.STOPPED, status_changed_at=now)
                        .execution_options(synchronize_session=False))
    else:
        held = session.scalars(
            select(FollowUp).where(mine, FollowUp.status.in_(
                (FollowUpStatus.PAUSED, FollowUpStatus.STOPPED)))
            .options(selectinload(FollowUp.stage), selectinload(FollowUp.track))
            .execution_options(populate_existing=True)).all()
        for followup in held:
            if followup.track is not None and followup.track.status is TrackStatus.ENDED:
                continue
            late = now > followup.due_at + timedelta(days=followup.stage.window_days)
            followup.status = FollowUpStatus.SKIPPED if late else FollowUpStatus.SCHEDULED
            followup.status_changed_at = now
    session.flush()
    audit.record(session, action=f"follow_ups.{action}", actor=user, now=now,
                 object_type="user", object_id=user.id, detail=f"via={via}")
    return state


def choices_of(session: Session, user: User) -> list[FollowUpChoice]:
    return list(session.scalars(select(FollowUpChoice).where(FollowUpChoice.user_id == user.id)
                                .order_by(FollowUpChoice.at.desc(), FollowUpChoice.id.desc())))


# --- event tracks -----------------------------------------------------------------------------


def start_track(session: Session, *, user: User, kind: TrackKind | str, now: datetime,
                related_session: SimSession | None = None) -> EventTrack:
    """A learner starts a track; it is their clear wish for check-ins, so held follow-ups
    are turned back on (the page says so before they click)."""
    kind = TrackKind(kind)
    if session.scalar(select(EventTrack.id).where(
            EventTrack.user_id == user.id, EventTrack.kind == kind,
            EventTrack.status == TrackStatus.ACTIVE)) is not None:
        raise InvalidState(_("You already have this track running. You can end it from its "
                             "page and start a new one."))
    if related_session is not None and related_session.participant_for(user) is None:
        raise InvalidInput({"session_id": [_("Choose a session you took part in.")]})
    if state_of(session, user) is not PreferenceState.ACTIVE:
        set_choice(session, user=user, action="resume", now=now, via="track")
    plan = current_plan(session, user.centre, TRACK_PLAN[kind], now)
    track = EventTrack(centre_id=user.centre_id, user_id=user.id, kind=kind, plan_id=plan.id,
                       related_session_id=related_session.id if related_session else None,
                       status=TrackStatus.ACTIVE, started_at=now)
    session.add(track)
    session.flush()
    for stage in plan.stages:
        due, expires = stage_times(stage, now, user.centre.timezone)
        session.add(_followup(stage, plan, user_id=user.id, centre_id=user.centre_id,
                              track_id=track.id, anchor=now, due=due, expires=expires,
                              state=PreferenceState.ACTIVE, now=now))
    session.flush()
    audit.record(session, action="event_track.started", actor=user, now=now,
                 object_type="event_track", object_id=track.id)
    return track


def end_track(session: Session, *, track: EventTrack, user: User, now: datetime) -> None:
    if track.user_id != user.id:
        raise InvalidState(_("Only the learner who started a track can end it."))
    if track.status is TrackStatus.ENDED:
        return
    track.status = TrackStatus.ENDED
    track.ended_at = now
    session.execute(update(FollowUp)
                    .where(FollowUp.track_id == track.id, FollowUp.status.in_(NOT_YET_SENT))
                    .values(status=FollowUpStatus.STOPPED, status_changed_at=now)
                    .execution_options(synchronize_session=False))
    session.flush()
    audit.record(session, action="event_track.ended", actor=user, now=now,
                 object_type="event_track", object_id=track.id)


def tracks_of(session: Session, user: User) -> list[EventTrack]:
    return list(session.scalars(select(EventTrack).where(EventTrack.user_id == user.id)
                                .order_by(EventTrack.started_at.desc(), EventTrack.id.desc())))


# --- dispatching --------------------------------------------------------------------------------

#: A claim older than this is taken to be from a dispatcher that died, and is taken again.
CLAIM_LEASE = timedelta(minutes=5)

#: (follow-up, now) -> (subject, body); written by the caller, which knows the templates.
Composer = Callable[[FollowUp, datetime], tuple[str, str]]


@dataclass
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    #: Not sent: the window passed, or the account was deactivated.
    skipped: int = 0
    paused: int = 0
    stopped: int = 0
    reminders: int = 0
    expired: int = 0

    def add(self, other: DispatchResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _due_clause(now: datetime):
    return or_(
        and_(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.due_at <= now),
        # A dispatcher that died after committing a claim but before sending leaves it here.
        and_(FollowUp.status == FollowUpStatus.CLAIMED, FollowUp.claimed_at < now - CLAIM_LEASE),
    )


def _claim_ids(session: Session, clause, order, batch: int) -> list[int]:
    candidates = select(FollowUp.id).where(clause).order_by(*order).limit(batch)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    return list(session.scalars(candidates))


def _claimed(session: Session, token: str) -> list[FollowUp]:
    return list(session.scalars(
        select(FollowUp).where(FollowUp.claim_token == token)
        .options(joinedload(FollowUp.user), joinedload(FollowUp.stage),
                 joinedload(FollowUp.track), joinedload(FollowUp.centre))
        .order_by(FollowUp.due_at, FollowUp.id)
        .execution_options(populate_existing=True)))


def _set_status(session: Session, token: str, groups: dict[tuple, list[int]],
                now: datetime) -> None:
    """One UPDATE per outcome instead of one per row: a batch is written in a few statements."""
    for (status, reminder_days), ids in groups.items():
        values: dict = {"status": status}
        if status is FollowUpStatus.SENT:
            values.update(sent_at=now, remind_at=now + timedelta(days=reminder_days)
                          if reminder_days else None)
        else:
            values["status_changed_at"] = now
        session.execute(update(FollowUp)
                        .where(FollowUp.id.in_(ids), FollowUp.claim_token == token)
                        .values(**values).execution_options(synchronize_session=False))


def _outbox_rows(session: Session, drafts: list[tuple[FollowUp, str]], compose: Composer,
                 now: datetime, mail_from: str) -> list[dict]:
    """Outbox rows for (follow-up, key) pairs whose key is not in the outbox yet."""
    if not drafts:
        return []
    existing = set(session.scalars(select(OutboxEmail.idempotency_key).where(
        OutboxEmail.idempotency_key.in_([key for _f, key in drafts]))))
    rows = []
    for followup, key in drafts:
        if key in existing:
            continue
        subject, body = compose(followup, now)
        rows.append({
            "idempotency_key": key, "centre_id": followup.centre_id,
            "to_address": followup.user.email,
            "subject": subject.replace("\n", " ").replace("\r", " ")[:300],
            "body_text": body, "message_id": notifications.message_id_for(key, mail_from),
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
            "created_at": now,
        })
    return rows


def claim_due(session: Session, *, now: datetime, batch: int = 200, compose: Composer,
              mail_from: str) -> DispatchResult:
    """Claim up to ``batch`` due stages and write their emails; the caller commits.

    The claim and the outbox rows belong to one transaction, so either both are stored or
    neither: a dispatcher that dies mid-batch leaves its rows due for the next one.
    """
    result = DispatchResult()
    ids = _claim_ids(session, _due_clause(now), (FollowUp.due_at, FollowUp.id), batch)
    if not ids:
        return result
    token = secrets.token_hex(16)
    session.execute(update(FollowUp).where(FollowUp.id.in_(ids), _due_clause(now))
                    .values(status=FollowUpStatus.CLAIMED, claim_token=token, claimed_at=now)
                    .execution_options(synchronize_session=False))
    claimed = _claimed(session, token)
    states = preference_states(session, {f.user_id for f in claimed})
    drafts = []
    groups: dict[tuple, list[int]] = defaultdict(list)
    counters = {FollowUpStatus.SENT: "sent", FollowUpStatus.PAUSED: "paused",
                FollowUpStatus.STOPPED: "stopped", FollowUpStatus.SKIPPED: "skipped"}
    for followup in claimed:
        result.claimed += 1
        outcome = _outcome(followup, states.get(followup.user_id), now)
        setattr(result, counters[outcome], getattr(result, counters[outcome]) + 1)
        if outcome is FollowUpStatus.SENT:
            drafts.append((followup, f"followup:{followup.id}"))
            groups[(outcome, followup.stage.reminder_after_days)].append(followup.id)
        else:
            groups[(outcome, None)].append(followup.id)
    rows = _outbox_rows(session, drafts, compose, now, mail_from)
    if rows:
        session.execute(insert(OutboxEmail), rows)
    _set_status(session, token, groups, now)
    return result


def _outcome(followup: FollowUp, state: PreferenceState | None,
             now: datetime) -> FollowUpStatus:
    if not followup.user.is_active_account:
        return FollowUpStatus.SKIPPED
    if state is PreferenceState.STOPPED:
        return FollowUpStatus.STOPPED
    if state is PreferenceState.PAUSED:
        return FollowUpStatus.PAUSED
    if followup.track is not None and followup.track.status is TrackStatus.ENDED:
        return FollowUpStatus.STOPPED
    if now > followup.due_at + timedelta(days=followup.stage.window_days):
        return FollowUpStatus.SKIPPED
    return FollowUpStatus.SENT


def _reminder_clause(now: datetime):
    held = select(FollowUpPreference.user_id).where(
        FollowUpPreference.state != PreferenceState.ACTIVE)
    return and_(FollowUp.status == FollowUpStatus.SENT, FollowUp.remind_at <= now,
                FollowUp.reminder_sent_at.is_(None), FollowUp.expires_at > now,
                FollowUp.user_id.not_in(held))


def claim_reminders(session: Session, *, now: datetime, batch: int = 200, compose: Composer,
                    mail_from: str) -> int:
    """One reminder per sent stage nobody answered yet; the caller commits."""
    ids = _claim_ids(session, _reminder_clause(now), (FollowUp.remind_at, FollowUp.id), batch)
    if not ids:
        return 0
    token = secrets.token_hex(16)
    session.execute(update(FollowUp).where(FollowUp.id.in_(ids), _reminder_clause(now))
                    .values(reminder_sent_at=now, claim_token=token)
                    .execution_options(synchronize_session=False))
    claimed = _claimed(session, token)
    rows = _outbox_rows(session, [(f, f"followup:{f.id}:reminder") for f in claimed], compose,
                        now, mail_from)
    if rows:
        session.execute(insert(OutboxEmail), rows)
    session.flush()
    return len(claimed)


def expire_unanswered(session: Session, *, now: datetime) -> int:
    """Sent stages past their closing time become expired; the caller commits."""
    result = session.execute(
        update(FollowUp).where(FollowUp.status == FollowUpStatus.SENT,
                               FollowUp.expires_at <= now)
        .values(status=FollowUpStatus.EXPIRED, status_changed_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- signed links ---------------------------------------------------------------------------

LINK_SALT = "simdebrief.followup-stage-link"


def _link_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=LINK_SALT)


def make_link_token(followup: FollowUp, *, secret_key: str, now: datetime) -> str:
    """A link that opens this one stage's form, without a password, until the stage closes."""
    expires = max(followup.expires_at, now)
    return _link_serializer(secret_key).dumps({"f": followup.id, "e": int(expires.timestamp())})


def read_link_token(session: Session, token: str, *, secret_key: str,
                    now: datetime) -> FollowUp:
    """The follow-up a link opens; LinkInvalid for anything forged or not sent, LinkExpired
    once the stage has closed."""
    try:
        payload = _link_serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise LinkInvalid() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("f"), int):
        raise LinkInvalid()
    followup = session.get(FollowUp, payload["f"])
    if followup is None or not followup.user.is_active_account or followup.sent_at is None:
        raise LinkInvalid()
    if followup.status is FollowUpStatus.COMPLETED:
        return followup
    if (followup.status is FollowUpStatus.EXPIRED or now >= followup.expires_at
            or now.timestamp() > payload.get("e", 0)):
        raise LinkExpired()
    return followup


# --- answering ------------------------------------------------------------------------------


def is_answerable(followup: FollowUp, now: datetime) -> bool:
    return followup.status is FollowUpStatus.SENT and now < followup.expires_at


def clean_stage_answers(stage: FollowUpStage, answers: dict[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for code in stage.questions or ():
        value = (answers or {}).get(code)
        if value in (None, ""):
            continue
        known = question(code)
        if known is None or value not in {v for v, _label in known.choices}:
            raise InvalidInput({f"q_{code}": [_("Choose from the options shown.")]})
        cleaned[code] = value
    return cleaned


def complete_stage(session: Session, *, followup: FollowUp, answers: checkins.Answers,
                   stage_answers: dict[str, str], now: datetime) -> CheckIn:
    """Store the answers as the learner's own check-in tied to this stage. Nobody is told."""
    if not is_answerable(followup, now):
        raise InvalidState(_("This check-in is closed."))
    extra = clean_stage_answers(followup.stage, stage_answers)
    checkin = checkins.submit_checkin(
        session, user=followup.user, sim_session=followup.session, answers=answers, now=now,
        context=CheckInContext.FOLLOWUP)
    _close(session, followup, checkin, FollowUpStatus.COMPLETED, now)
    if extra:
        checkin.payload = {**(checkin.payload or {}), "stage": extra}
    session.flush()
    return checkin


def skip_stage(session: Session, *, followup: FollowUp, now: datetime) -> CheckIn:
    """"Not this one": one click, counted as no answer."""
    if not is_answerable(followup, now):
        raise InvalidState(_("This check-in is closed."))
    checkin = checkins.skip_checkin(session, user=followup.user, sim_session=followup.session,
                                    now=now, context=CheckInContext.FOLLOWUP)
    _close(session, followup, checkin, FollowUpStatus.SKIPPED, now)
    return checkin


def _close(session: Session, followup: FollowUp, checkin: CheckIn, status: FollowUpStatus,
           now: datetime) -> None:
    # Conditional, so a double submission (two tabs, a retried POST) stores one answer.
    result = session.execute(
        update(FollowUp).where(FollowUp.id == followup.id,
                               FollowUp.status == FollowUpStatus.SENT)
        .values(status=status, checkin_id=checkin.id,
                completed_at=now if status is FollowUpStatus.COMPLETED else None,
                status_changed_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidState(_("This check-in has already been answered."))
    checkin.followup_id = followup.id
    session.refresh(followup)


def answered_checkin(session: Session, followup: FollowUp) -> CheckIn | None:
    return session.get(CheckIn, followup.checkin_id) if followup.checkin_id else None


# --- the learner's timeline -------------------------------------------------------------------


@dataclass
class TimelineGroup:
    title: str
    followups: list[FollowUp]
    sim_session: SimSession | None = None
    track: EventTrack | None = None


def followups_of(session: Session, user: User) -> list[FollowUp]:
    return list(session.scalars(
        select(FollowUp).where(FollowUp.user_id == user.id)
        .options(selectinload(FollowUp.stage), selectinload(FollowUp.session),
                 selectinload(FollowUp.track))
        .order_by(FollowUp.due_at, FollowUp.id)))


TRACK_NAMES = {TrackKind.COMPLAINT: _l("After a patient complaint"),
               TrackKind.REACTIVATED: _l("A real event brought a scenario back")}


def timeline_of(session: Session, user: User) -> list[TimelineGroup]:
    """The learner's stages grouped by session or track, the most recent group first."""
    groups: dict[tuple, TimelineGroup] = {}
    for followup in followups_of(session, user):
        if followup.track is not None:
            key = ("track", followup.track_id)
            if key not in groups:
                groups[key] = TimelineGroup(str(TRACK_NAMES[followup.track.kind]), [],
                                            track=followup.track)
        else:
            key = ("session", followup.session_id)
            if key not in groups:
                title = followup.session.title if followup.session else _("A past session")
                groups[key] = TimelineGroup(title, [], sim_session=followup.session)
        groups[key].followups.append(followup)
    return sorted(groups.values(), key=lambda g: g.followups[0].anchor_at, reverse=True)


def distress_points(session: Session, user: User) -> list[tuple[datetime, int]]:
    """(when, distress) of each of the learner's own answers that has a score, oldest first."""
    points = []
    for checkin in session.scalars(select(CheckIn).where(CheckIn.user_id == user.id,
                                                         CheckIn.skipped.is_(False))
                                   .order_by(CheckIn.created_at, CheckIn.id)):
        if checkin.distress is not None:
            points.append((checkin.created_at, checkin.distress))
    return points


# --- figures for instructors and admins ----------------------------------------------------------

STATUS_GROUPS = {
    FollowUpStatus.SCHEDULED: "waiting", FollowUpStatus.CLAIMED: "waiting",
    FollowUpStatus.SENT: "open", FollowUpStatus.COMPLETED: "completed",
    FollowUpStatus.EXPIRED: "expired", FollowUpStatus.PAUSED: "held",
    FollowUpStatus.STOPPED: "held", FollowUpStatus.SKIPPED: "skipped",
}


@dataclass
class StageFigures:
    """Counts for one stage; never a name, never an answer."""

    key: str
    title: str
    position: int
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        return self.counts["open"] + self.counts["completed"] + self.counts["expired"]

    @property
    def completion_rate(self) -> float | None:
        return self.counts["completed"] / self.sent if self.sent else None

    @property
    def expiry_rate(self) -> float | None:
        return self.counts["expired"] / self.sent if self.sent else None

    def __getitem__(self, name: str) -> int:
        return self.counts[name]


def _figures(session: Session, query) -> list[StageFigures]:
    """query yields (stage_id, status, count); figures per stage key, in plan order."""
    rows = list(session.execute(query))
    ids = {stage_id for stage_id, _status, _count in rows}
    stages = {s.id: s for s in session.scalars(
        select(FollowUpStage).where(FollowUpStage.id.in_(ids)))} if ids else {}
    figures: dict[str, StageFigures] = {}
    for stage_id, status, count in rows:
        stage = stages[stage_id]
        entry = figures.setdefault(stage.key, StageFigures(stage.key, stage.title,
                                                           stage.position))
        entry.counts[STATUS_GROUPS[FollowUpStatus(status)]] += count
    return sorted(figures.values(), key=lambda f: (f.position, f.key))


def completion_for_session(session: Session, sim_session: SimSession) -> list[StageFigures]:
    """How many of the session's learners answered each stage (counts only)."""
    return _figures(session, select(FollowUp.stage_id, FollowUp.status, func.count(FollowUp.id))
                    .where(FollowUp.session_id == sim_session.id)
                    .group_by(FollowUp.stage_id, FollowUp.status))


def sessions_with_followups_taught_by(session: Session, user: User) -> list[SimSession]:
    from simdebrief.models import session_instructor

    return list(session.scalars(
        select(SimSession).where(
            SimSession.id.in_(select(FollowUp.session_id).where(
                FollowUp.centre_id == user.centre_id)),
            SimSession.id.in_(select(session_instructor.c.session_id)
                              .where(session_instructor.c.user_id == user.id)))
        .order_by(SimSession.starts_at.desc())))


@dataclass
class WeekLoad:
    week_start: date
    count: int


def weekly_load(session: Session, centre: Centre, now: datetime,
                weeks: int = 12) -> tuple[int, list[WeekLoad]]:
    """(stages overdue and still waiting, stages falling due per local week ahead)."""
    zone = ZoneInfo(centre.timezone)
    waiting = (FollowUpStatus.SCHEDULED, FollowUpStatus.CLAIMED)
    overdue = session.scalar(select(func.count(FollowUp.id)).where(
        FollowUp.centre_id == centre.id, FollowUp.status.in_(waiting),
        FollowUp.due_at <= now)) or 0
    today = now.astimezone(zone).date()
    first_monday = today - timedelta(days=today.weekday())
    end = _at_local(first_monday + timedelta(weeks=weeks), 0, zone)
    per_week: Counter = Counter()
    for (due_at,) in session.execute(select(FollowUp.due_at).where(
            FollowUp.centre_id == centre.id, FollowUp.status.in_(waiting),
            FollowUp.due_at > now, FollowUp.due_at < end)):
        day = due_at.astimezone(zone).date()
        per_week[day - timedelta(days=day.weekday())] += 1
    return overdue, [WeekLoad(first_monday + timedelta(weeks=n),
                              per_week[first_monday + timedelta(weeks=n)])
                     for n in range(weeks)]


@dataclass
class FigureGroup:
    label: str
    stages: list[StageFigures]
    plan_kind: PlanKind | None = None


def _learner_counts(session: Session, centre: Centre, column) -> dict:
    return dict(session.execute(
        select(column, func.count(func.distinct(FollowUp.user_id)))
        .where(FollowUp.centre_id == centre.id).group_by(column)).all())


def completion_per_plan(session: Session, centre: Centre) -> list[FigureGroup]:
    """Per plan version. Plans of learner-started tracks appear only when at least the
    minimum group size of learners started one: a single complaint track is nobody's
    business but the learner's."""
    minimum = max(1, centre.min_group_size)
    learners = _learner_counts(session, centre, FollowUp.plan_id)
    groups = []
    for plan in plans_of(session, centre):
        if plan.id not in learners:
            continue
        if plan.kind is not PlanKind.SESSION and learners[plan.id] < minimum:
            continue
        stages = _figures(session, select(FollowUp.stage_id, FollowUp.status,
                                          func.count(FollowUp.id))
                          .where(FollowUp.plan_id == plan.id)
                          .group_by(FollowUp.stage_id, FollowUp.status))
        groups.append(FigureGroup(_("%(name)s, version %(version)d", name=plan.name,
                                    version=plan.version), stages, plan.kind))
    return groups


def completion_per_stage(session: Session, centre: Centre) -> list[FigureGroup]:
    """Per stage across every version of each kind of plan (same k-rule for tracks)."""
    minimum = max(1, centre.min_group_size)
    kinds = dict(session.execute(
        select(FollowUpPlan.kind, func.count(func.distinct(FollowUp.user_id)))
        .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
        .where(FollowUp.centre_id == centre.id).group_by(FollowUpPlan.kind)).all())
    groups = []
    for kind in PlanKind:
        count = kinds.get(kind, 0)
        if not count or (kind is not PlanKind.SESSION and count < minimum):
            continue
        stages = _figures(session, select(FollowUp.stage_id, FollowUp.status,
                                          func.count(FollowUp.id))
                          .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
                          .where(FollowUp.centre_id == centre.id, FollowUpPlan.kind == kind)
                          .group_by(FollowUp.stage_id, FollowUp.status))
        groups.append(FigureGroup(str(PLAN_KIND_NAMES[kind]), stages, kind))
    return groups


def completion_per_cohort(session: Session, centre: Centre) -> list[FigureGroup]:
    cohorts = session.scalars(select(Cohort).where(Cohort.centre_id == centre.id,
                                                   Cohort.id.in_(select(FollowUp.cohort_id)))
                              .order_by(Cohort.name)).all()
    groups = []
    for cohort in cohorts:
        stages = _figures(session, select(FollowUp.stage_id, FollowUp.status,
                                          func.count(FollowUp.id))
                          .where(FollowUp.cohort_id == cohort.id)
                          .group_by(FollowUp.stage_id, FollowUp.status))
        groups.append(FigureGroup(cohort.name, stages, PlanKind.SESSION))
    return groups


@dataclass
class StageDistress:
    key: str
    title: str
    position: int
    plan_kind: PlanKind
    #: None when fewer than the minimum group size gave a score: nothing else is shown.
    answered: int | None
    median: float | None
    low: int | None
    high: int | None


def distress_per_stage(session: Session, centre: Centre) -> list[StageDistress]:
    """Distress per stage, from each learner's answer to it; figures only where at least the
    centre's minimum group size of learners gave a score."""
    minimum = max(1, centre.min_group_size)
    rows = session.execute(
        select(FollowUp.stage_key, FollowUp.user_id, FollowUpPlan.kind, CheckIn)
        .join(CheckIn, CheckIn.id == FollowUp.checkin_id)
        .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
        .where(FollowUp.centre_id == centre.id, FollowUp.status == FollowUpStatus.COMPLETED,
               CheckIn.skipped.is_(False))
        .order_by(CheckIn.created_at)).all()
    scores: dict[tuple[PlanKind, str], dict[int, int]] = defaultdict(dict)
    for stage_key, user_id, kind, checkin in rows:
        if checkin.distress is not None:
            # A learner counts once per stage (their latest answer), whatever the session.
            scores[(PlanKind(kind), stage_key)][(user_id, checkin.session_id)] = \
                checkin.distress
    stage_info = {}
    for plan in plans_of(session, centre):
        for stage in plan.stages:
            stage_info.setdefault((plan.kind, stage.key), stage)
    result = []
    for (kind, key), by_learner in scores.items():
        stage = stage_info.get((kind, key))
        values = list(by_learner.values())
        learners = len({user_id for user_id, _s in by_learner})
        enough = learners >= minimum and len(values) >= minimum
        result.append(StageDistress(
            key, stage.title if stage else key, stage.position if stage else 99, kind,
            len(values) if enough else None,
            statistics.median(values) if enough else None,
            min(values) if enough else None, max(values) if enough else None))
    order = {kind: index for index, kind in enumerate(PlanKind)}
    return sorted(result, key=lambda r: (order[r.plan_kind], r.position, r.key))


# --- calendar ---------------------------------------------------------------------------------


def followup_events(session: Session, user: User, now: datetime) -> list:
    """The learner's follow-up dates for their calendar feed, named neutrally (a shared
    calendar must not tell anyone about a complaint or a difficult session)."""
    from icalendar import Event

    from simdebrief.models import Role
    from simdebrief.services.calendar import FEED_FUTURE, FEED_PAST

    if user.role is not Role.STUDENT:
        return []
    zone = ZoneInfo(user.centre.timezone)
    rows = session.scalars(select(FollowUp).where(
        FollowUp.user_id == user.id,
        FollowUp.status.in_((FollowUpStatus.SCHEDULED, FollowUpStatus.CLAIMED,
                             FollowUpStatus.SENT, FollowUpStatus.COMPLETED)),
        FollowUp.due_at >= now - FEED_PAST, FollowUp.due_at < now + FEED_FUTURE)
        .order_by(FollowUp.due_at))
    events = []
    for followup in rows:
        start = followup.due_at.astimezone(zone)
        events.append(Event.new(
            uid=f"followup-{followup.id}@simdebrief", stamp=now, start=start,
            end=start + timedelta(minutes=15), summary=_("SimDebrief check-in"),
            description=_("A short follow-up check-in. The link arrives by email, and your "
                          "follow-ups page lists it too. You can pause or stop follow-ups "
                          "there with one click."),
            status="CONFIRMED"))
    return events
