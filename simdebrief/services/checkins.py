"""Emotional check-ins: private to the learner, offered support never alerts anyone.

Instructors and admins only ever get group figures, and only when at least the centre's
minimum group size answered (``aggregate_for_session``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief import checkin_options as options
from simdebrief.errors import InvalidInput
from simdebrief.models import Centre, CheckIn, CheckInContext, SessionStatus, SimSession, User
from simdebrief.services import audit, support

FREE_TEXT_MAX = 4000


@dataclass(frozen=True)
class Answers:
    """What the learner filled in; every part is optional."""

    distress: int | None = None
    symptoms: tuple[str, ...] = ()
    coping: tuple[str, ...] = ()
    support_wanted: tuple[str, ...] = ()
    free_text: str = ""


@dataclass(frozen=True)
class Aggregate:
    """Group figures for one session; never built for fewer than the minimum group size."""

    answered: int
    #: How many of those gave a distress score; the figures below need the minimum too.
    distress_answered: int
    distress_median: float | None
    distress_low: int | None
    distress_high: int | None
    #: (symptom code, number of learners who ticked it), most frequent first.
    symptom_counts: tuple[tuple[str, int], ...]
    min_group_size: int

    @property
    def symptom_rows(self) -> list[tuple[object, int]]:
        """(label, count) for display, most frequent first."""
        return [(options.label(options.SYMPTOMS, code), count)
                for code, count in self.symptom_counts]


def _clean_codes(values, allowed: tuple[str, ...], field: str, errors: dict) -> list[str]:
    chosen = list(dict.fromkeys(values or ()))
    if any(code not in allowed for code in chosen):
        errors[field] = [_("Choose from the options shown.")]
    return [code for code in allowed if code in chosen]


def validate(answers: Answers) -> dict:
    """The payload to store, or InvalidInput naming the fields that are wrong."""
    errors: dict[str, list[str]] = {}
    distress = answers.distress
    if distress is not None and (isinstance(distress, bool) or not isinstance(distress, int)
                                 or not options.DISTRESS_MIN <= distress
                                 <= options.DISTRESS_MAX):
        errors["distress"] = [_("Choose a number from 0 to 10, or leave it empty.")]
    symptoms = _clean_codes(answers.symptoms, options.codes(options.SYMPTOMS), "symptoms",
                            errors)
    coping = _clean_codes(answers.coping, options.codes(options.COPING), "coping", errors)
    support = _clean_codes(answers.support_wanted, options.codes(options.SUPPORT_WANTED),
                           "support_wanted", errors)
    if options.NO_SUPPORT in support and len(support) > 1:
        errors["support_wanted"] = [
            _("Tick “Nothing right now” or the kinds of support you would like, not both.")]
    free_text = (answers.free_text or "").strip()
    if "\x00" in free_text:
        errors["free_text"] = [_("This field contains a character that is not allowed.")]
    elif len(free_text) > FREE_TEXT_MAX:
        errors["free_text"] = [_("Please keep it under %(count)d characters.",
                                 count=FREE_TEXT_MAX)]
    if errors:
        raise InvalidInput(errors)
    return {"distress": distress, "symptoms": symptoms, "coping": coping,
            "support_wanted": support, "free_text": free_text}


def _context_for(sim_session: SimSession | None) -> CheckInContext:
    if sim_session is not None and sim_session.status is SessionStatus.IN_PROGRESS:
        return CheckInContext.DEBRIEF
    return CheckInContext.SELF


def submit_checkin(
    session: Session, *, user: User, sim_session: SimSession | None, answers: Answers,
    now: datetime, context: CheckInContext | None = None,
) -> CheckIn:
    """Store the learner's answers, encrypted.

    Nobody is told, with one exception the centre chooses (on by default): a self-harm cue in
    the free text raises an urgent request to the on-duty professional, who learns only that
    it waits (``support.alert_on_cue``).
    """
    payload = validate(answers)
    checkin = CheckIn(user_id=user.id, centre_id=user.centre_id,
                      session_id=sim_session.id if sim_session is not None else None,
                      context=context or _context_for(sim_session), created_at=now,
                      skipped=False, payload=payload)
    session.add(checkin)
    session.flush()
    audit.record(session, action="check_in.submitted", actor=user, now=now,
                 object_type="check_in", object_id=checkin.id)
    support.alert_on_cue(session, learner=user, texts=[payload["free_text"]], now=now,
                         sim_session=sim_session)
    return checkin


def skip_checkin(
    session: Session, *, user: User, sim_session: SimSession | None, now: datetime,
    context: CheckInContext | None = None,
) -> CheckIn:
    """Record "not now" with no questions asked; it counts as no answer anywhere."""
    checkin = CheckIn(user_id=user.id, centre_id=user.centre_id,
                      session_id=sim_session.id if sim_session is not None else None,
                      context=context or _context_for(sim_session), created_at=now,
                      skipped=True, payload=None)
    session.add(checkin)
    session.flush()
    audit.record(session, action="check_in.skipped", actor=user, now=now,
                 object_type="check_in", object_id=checkin.id)
    return checkin


def needs_offer(checkin: CheckIn, centre: Centre) -> bool:
    """Whether to offer a conversation prominently. It only changes the learner's own page."""
    if checkin.skipped or not checkin.payload:
        return False
    distress = checkin.distress
    if distress is not None and distress >= centre.distress_threshold:
        return True
    return options.wants_support(checkin.support_wanted)


def checkins_of(session: Session, user: User) -> list[CheckIn]:
    """The learner's own check-ins, newest first."""
    return list(session.scalars(
        select(CheckIn).where(CheckIn.user_id == user.id)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())))


def latest_answer(session: Session, *, user: User, sim_session: SimSession) -> CheckIn | None:
    """The learner's most recent check-in for a session that is not a skip."""
    return session.scalar(
        select(CheckIn)
        .where(CheckIn.user_id == user.id, CheckIn.session_id == sim_session.id,
               CheckIn.skipped.is_(False))
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc()).limit(1))


def aggregate_for_session(session: Session, sim_session: SimSession) -> Aggregate | None:
    """Group figures from each learner's latest answer, or None below the minimum group size.

    Skips do not count. Distress figures also need the minimum number of scores, so a
    range can never be one person's answer.
    """
    rows = session.scalars(
        select(CheckIn)
        .where(CheckIn.session_id == sim_session.id, CheckIn.skipped.is_(False))
        .order_by(CheckIn.created_at, CheckIn.id)).all()
    latest: dict[int, CheckIn] = {}
    for checkin in rows:
        latest[checkin.user_id] = checkin
    minimum = max(1, sim_session.centre.min_group_size)
    if len(latest) < minimum:
        return None
    scores = [c.distress for c in latest.values() if c.distress is not None]
    counts = Counter(code for c in latest.values() for code in set(c.symptoms))
    order = {code: index for index, code in enumerate(options.codes(options.SYMPTOMS))}
    symptom_counts = tuple(sorted(counts.items(),
                                  key=lambda item: (-item[1], order.get(item[0], 99))))
    enough_scores = len(scores) >= minimum
    return Aggregate(
        answered=len(latest),
        distress_answered=len(scores),
        distress_median=statistics.median(scores) if enough_scores else None,
        distress_low=min(scores) if enough_scores else None,
        distress_high=max(scores) if enough_scores else None,
        symptom_counts=symptom_counts,
        min_group_size=minimum,
    )
