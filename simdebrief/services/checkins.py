"""Emotional check-ins: private to the learner, offered support never alerts anyone.

Instructors and admins only ever get group figures of the debrief check-in, once it is
closed and only when at least k learners answered it (``aggregate_for_session``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simdebrief import checkin_options as options
from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import Centre, CheckIn, CheckInContext, SessionStatus, SimSession, User
from simdebrief.services import audit, group_figures, support
from simdebrief.services.group_figures import Count

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
    """Group figures from a session's debrief check-ins; never built for fewer than k
    learners, never with a minimum, maximum or range (``services.group_figures``)."""

    answered: int
    #: The middle distress score, when at least k learners gave one.
    distress_median: float | None
    #: (symptom code, cell) for every reaction, in the check-in's order.
    symptom_cells: tuple[tuple[str, Count], ...]
    min_group_size: int

    @property
    def symptom_rows(self) -> list[tuple[object, Count]]:
        """(label, cell) for display."""
        return [(options.label(options.SYMPTOMS, code), cell)
                for code, cell in self.symptom_cells]


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


def checkin_closed(sim_session: SimSession) -> bool:
    """The debrief check-in closes when the session leaves "in progress" (the debrief is
    finalised); only then are its group figures shown, so they never change afterwards."""
    return sim_session.status is SessionStatus.DEBRIEFED


def _debrief_checkins(sim_session: SimSession):
    """Each learner's one debrief check-in: the last they gave during the debrief."""
    last = (select(func.max(CheckIn.id))
            .where(CheckIn.session_id == sim_session.id,
                   CheckIn.context == CheckInContext.DEBRIEF)
            .group_by(CheckIn.user_id))
    return select(CheckIn).where(CheckIn.id.in_(last), CheckIn.skipped.is_(False))


def aggregate_for_session(session: Session, sim_session: SimSession) -> Aggregate | None:
    """Group figures from each learner's debrief check-in, or None while the check-in is open
    or when fewer than k learners answered it.

    A later follow-up or self check-in never changes them. The learners are counted in SQL;
    only when there are enough are their payloads decrypted, once, for the figures.
    """
    if not checkin_closed(sim_session):
        return None
    k = group_figures.k_for(sim_session.centre.min_group_size)
    answered = session.scalar(select(func.count()).select_from(
        _debrief_checkins(sim_session).subquery())) or 0
    if answered < k:
        return None
    payloads = [checkin.payload or {} for checkin in session.scalars(
        _debrief_checkins(sim_session))]
    scores = [p["distress"] for p in payloads if p.get("distress") is not None]
    ticked = Counter(code for p in payloads for code in set(p.get("symptoms") or ()))
    return Aggregate(
        answered=len(payloads),
        distress_median=group_figures.median_of(scores, k),
        symptom_cells=tuple((code, group_figures.suppress_choice(ticked[code], len(payloads),
                                                                  k))
                            for code in options.codes(options.SYMPTOMS)),
        min_group_size=k,
    )
