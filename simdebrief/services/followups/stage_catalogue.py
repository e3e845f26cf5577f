"""What a follow-up stage can ask and bring, and the maths of when it falls due.

Time is computed in the centre's zone: a stage falls due at its local send hour, never at
night, and day and month offsets keep the wall-clock time across daylight-saving changes.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays
from flask_babel.speaklater import LazyString

from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import (
    FollowUpStage,
    OffsetUnit,
    PlanKind,
    TrackKind,
)

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
             (("yes", _l("Yes")), ("maybe", _l("Maybe")), ("no", _l("No"))),
             _l("If you answer yes, a peer supporter is asked to contact you and propose a "
                "time. Only that you said yes is passed on.")),
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
             (("no", _l("No, thank you")), ("yes", _l("Yes, please"))),
             _l("If you answer yes, a peer supporter is asked to contact you and propose a "
                "time. Only that you said yes is passed on.")),
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
    ("role_model_story", _l("Stories from people who have been there")),
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
    PlanKind.HIGH_RISK: _l("After a high-risk session"),
    PlanKind.REAL_EVENT: _l("After a real clinical event"),
    PlanKind.COMPLAINT: _l("After a patient complaint"),
    PlanKind.REACTIVATED: _l("A real event brought a scenario back"),
}
TRACK_PLAN = {TrackKind.COMPLAINT: PlanKind.COMPLAINT,
              TrackKind.REACTIVATED: PlanKind.REACTIVATED,
              TrackKind.REAL_EVENT: PlanKind.REAL_EVENT}


def label_of(pairs, code: str):
    return next((label for value, label in pairs if value == code), code)



#: Local daytime: stages go out between these hours and never at night.
DAY_STARTS = 8
NIGHT_STARTS = 21
SEND_HOURS = tuple(range(DAY_STARTS, NIGHT_STARTS))


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped at the end of a shorter month (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def at_local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``hour``:00 on ``day`` in ``zone``, as UTC. A time skipped by a DST change comes out
    after the gap, never before it."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def is_night(moment: datetime, zone: ZoneInfo) -> bool:
    hour = moment.astimezone(zone).hour
    return hour < DAY_STARTS or hour >= NIGHT_STARTS


def next_send_time(moment: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """The first local ``hour``:00 at or after ``moment``."""
    local_day = moment.astimezone(zone).date()
    candidate = at_local(local_day, hour, zone)
    if candidate < moment:
        candidate = at_local(local_day + timedelta(days=1), hour, zone)
    return candidate


@cache
def _public_holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


def is_working_day(day: date, country: str | None) -> bool:
    """Monday to Friday and not a public holiday of ``country`` (ISO code, e.g. DK); without a
    country every day counts (no calendar to follow)."""
    if not country:
        return True
    return day.weekday() < 5 and day not in _public_holidays(country, day.year)


def next_working_day(day: date, country: str | None) -> date:
    while not is_working_day(day, country):
        day += timedelta(days=1)
    return day


def due_time(anchor: datetime, *, amount: int, unit: OffsetUnit | str, send_hour: int,
             zone: str, country: str | None = None) -> datetime:
    """When a stage falls due, in UTC.

    * minutes: that long after the anchor, moved to the next send hour if it falls at night;
      never moved off a weekend (it belongs to the session itself);
    * hours: the first send hour at least that long after the anchor;
    * days and months: that many calendar days or months after the anchor's local date
      (months clamped at month end), at the send hour, so 09:00 stays 09:00 across DST;
      "1 day" is the next day at the send hour, whatever the time of the anchor.

    With a ``country``, hour, day and month stages that fall on a weekend or one of its public
    holidays move to the next working day at the send hour.
    """
    tz = ZoneInfo(zone)
    unit = OffsetUnit(unit)
    # Elapsed time is counted in UTC: adding hours to a zoned datetime adds wall-clock time.
    anchor = anchor.astimezone(UTC)
    if unit is OffsetUnit.MINUTES:
        moment = anchor + timedelta(minutes=amount)
        return next_send_time(moment, send_hour, tz) if is_night(moment, tz) else moment
    if unit is OffsetUnit.HOURS:
        due = next_send_time(anchor + timedelta(hours=amount), send_hour, tz)
    else:
        local_day = anchor.astimezone(tz).date()
        day = (local_day + timedelta(days=amount) if unit is OffsetUnit.DAYS
               else add_months(local_day, amount))
        due = at_local(day, send_hour, tz)
    if country:
        local = due.astimezone(tz)
        working = next_working_day(local.date(), country)
        if working != local.date():
            due = at_local(working, send_hour, tz)
    return due


def stage_times(stage: FollowUpStage, anchor: datetime, zone: str,
                country: str | None = None) -> tuple[datetime, datetime]:
    """(due, expires) of a stage counted from ``anchor``."""
    due = due_time(anchor, amount=stage.offset_amount, unit=stage.offset_unit,
                   send_hour=stage.send_hour, zone=zone, country=country)
    return due, due + timedelta(days=stage.expires_after_days)


def plan_times(stages, anchors: dict[str, datetime], zone: str,
               country: str | None = None) -> dict[str, tuple[datetime, datetime]]:
    """(due, expires) of each stage of a plan, by key.

    Two stages of one plan never arrive together: after an evening debrief, "right after the
    debrief" waits for the morning, so "the day after" moves on to the next working day. A
    stage whose time lies well before the previous one (a debrief finalised days after the
    session) keeps it; the dispatcher skips it once its window has passed.
    """
    tz = ZoneInfo(zone)
    times: dict[str, tuple[datetime, datetime]] = {}
    previous: datetime | None = None
    for stage in stages:
        due, _expires = stage_times(stage, anchors[stage.key], zone, country)
        if previous is not None and previous - timedelta(hours=12) < due <= previous:
            day = next_working_day(previous.astimezone(tz).date() + timedelta(days=1), country)
            due = at_local(day, stage.send_hour, tz)
        times[stage.key] = (due, due + timedelta(days=stage.expires_after_days))
        previous = due
    return times
