"""A stage opened by its signed link: answering, skipping, and the learner's timeline."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from simdebrief.errors import InvalidInput, InvalidState, LinkExpired, LinkInvalid
from simdebrief.languages import gettext as _
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import (
    Centre,
    CheckIn,
    CheckInContext,
    EventTrack,
    FollowUp,
    FollowUpStage,
    FollowUpStatus,
    SimSession,
    TrackKind,
    User,
)
from simdebrief.models.base import stored_default_text
from simdebrief.services import checkins, learner_sessions
from simdebrief.services.followups import conversations, track_branches
from simdebrief.services.followups.stage_catalogue import question

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
    once the stage has closed, whatever its state: an answered stage's link dies with it."""
    try:
        payload = _link_serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise LinkInvalid() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("f"), int):
        raise LinkInvalid()
    followup = session.get(FollowUp, payload["f"])
    if followup is None or not followup.user.is_active_account or followup.sent_at is None:
        raise LinkInvalid()
    if (followup.status is FollowUpStatus.EXPIRED or now >= followup.expires_at
            or now.timestamp() > payload.get("e", 0)):
        raise LinkExpired()
    return followup




UNSUBSCRIBE_SALT = "simdebrief.followup-unsubscribe"
#: A stop link in an old email keeps working this long; after that, stopping needs a login.
UNSUBSCRIBE_MAX_AGE = timedelta(days=180)


def make_unsubscribe_token(user: User, *, secret_key: str, now: datetime) -> str:
    """The one-click stop link of a follow-up email (RFC 8058): it can stop follow-ups and
    do nothing else, so it needs no login."""
    expires = int((now + UNSUBSCRIBE_MAX_AGE).timestamp())
    return URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).dumps(
        {"u": user.id, "e": expires})


def read_unsubscribe_token(session: Session, token: str, *, secret_key: str,
                           now: datetime) -> User:
    try:
        payload = URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature as exc:
        raise LinkInvalid() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise LinkInvalid()
    user = session.get(User, payload["u"])
    if user is None or not user.is_active_account:
        raise LinkInvalid()
    if now.timestamp() > payload.get("e", 0):
        raise LinkExpired()
    return user


def is_answered(followup: FollowUp) -> bool:
    """Answered or skipped: its link shows that, and nothing else."""
    return followup.status in (FollowUpStatus.COMPLETED, FollowUpStatus.SKIPPED)


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
    """Store the answers as the learner's own check-in tied to this stage.

    Nobody is told, except that a "yes" to a conversation question asks a peer supporter to
    propose a time (the question says so), and the crisis route of ``submit_checkin``.
    """
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
    conversations.request_from_answer(session, followup, extra, now)
    track_branches.on_stage_answered(session, followup, extra, now)
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




@dataclass(frozen=True, slots=True)
class StageLabel:
    title: str
    offers_conversation: bool


@dataclass(frozen=True, slots=True)
class TimelineStage:
    """One stage as the learner's timeline shows it, read as plain values: a page of them is
    one query, not ORM objects and the loaders of their stage, session and track. It has
    what the pages read of a follow-up (``conversation_of`` included), and nothing more."""
    id: int
    session_id: int | None
    track_id: int | None
    status: FollowUpStatus
    due_at: datetime
    sent_at: datetime | None
    expires_at: datetime
    checkin_id: int | None
    conversation_state: str | None
    stage: StageLabel
    centre: Centre


@dataclass
class TimelineGroup:
    title: str
    followups: list[TimelineStage]
    session_id: int | None = None
    track_id: int | None = None


def followups_of(session: Session, user: User) -> list[FollowUp]:
    return list(session.scalars(
        select(FollowUp).where(FollowUp.user_id == user.id)
        .options(selectinload(FollowUp.stage), selectinload(FollowUp.session),
                 selectinload(FollowUp.track))
        .order_by(FollowUp.due_at, FollowUp.id)))


TRACK_NAMES = {TrackKind.COMPLAINT: _l("After a patient complaint"),
               TrackKind.REACTIVATED: _l("A real event brought a scenario back"),
               TrackKind.REAL_EVENT: _l("After a real clinical event")}


#: Sessions or tracks per page of the learner's timeline. A session brings five or six
#: stages, so a page is some thirty rows: the latest groups, where an open stage is, first,
#: and the pager within reach on a phone. (Ten made sixty rows, half the page's cost.)
TIMELINE_GROUPS_PER_PAGE = 5


@functools.cache
def _page_of_groups() -> Select:
    """One page of the learner's groups with their stages, in one query (built once per
    process: building it cost more than running it).

    The page's groups are the learner's (session, track) pairs, the latest anchor first,
    counted out by ``LIMIT``/``OFFSET`` in SQL over the learner's own stages (their index);
    the stages of those groups are joined back, each group's in due order. A subquery, not a
    CTE: a statement that begins with WITH does not read as a plain read
    (``postgres_connections``), and would begin a transaction on PostgreSQL."""
    latest = func.max(FollowUp.anchor_at)
    groups = (select(FollowUp.session_id, FollowUp.track_id, latest.label("latest"))
              .where(FollowUp.user_id == bindparam("user_id"))
              .group_by(FollowUp.session_id, FollowUp.track_id)
              .order_by(latest.desc(), FollowUp.session_id.desc(), FollowUp.track_id.desc())
              .limit(bindparam("take")).offset(bindparam("skip"))
              .subquery("page_groups"))
    return (select(FollowUp.id, FollowUp.session_id, FollowUp.track_id, FollowUp.status,
                   FollowUp.due_at, FollowUp.sent_at, FollowUp.expires_at, FollowUp.checkin_id,
                   FollowUp.conversation_state, FollowUpStage.title,
                   FollowUpStage.offers_conversation, SimSession.starts_at, EventTrack.kind)
            .join(groups, and_(FollowUp.session_id.is_not_distinct_from(groups.c.session_id),
                               FollowUp.track_id.is_not_distinct_from(groups.c.track_id)))
            .join(FollowUpStage, FollowUpStage.id == FollowUp.stage_id)
            .outerjoin(SimSession, SimSession.id == FollowUp.session_id)
            .outerjoin(EventTrack, EventTrack.id == FollowUp.track_id)
            .where(FollowUp.user_id == bindparam("user_id"))
            .order_by(groups.c.latest.desc(), groups.c.session_id.desc(),
                      groups.c.track_id.desc(), FollowUp.due_at, FollowUp.id))


def timeline_of(session: Session, user: User, *, page: int = 1,
                per_page: int = TIMELINE_GROUPS_PER_PAGE) -> tuple[list[TimelineGroup], bool]:
    """One page of the learner's stages grouped by session or track, the most recent group
    first, and whether older groups follow. The groups are paged in SQL: a learner with years
    of sessions loads one page of them, not all."""
    rows = session.execute(_page_of_groups(), {
        "user_id": user.id, "take": per_page + 1, "skip": (max(page, 1) - 1) * per_page})
    centre = user.centre
    zone = centre.timezone
    labels: dict[tuple, StageLabel] = {}
    groups: dict[tuple, TimelineGroup] = {}
    has_more = False
    for (followup_id, session_id, track_id, status, due_at, sent_at, expires_at, checkin_id,
         conversation_state, title, offers_conversation, starts_at, track_kind) in rows:
        key = (session_id, track_id)
        group = groups.get(key)
        if group is None:
            if len(groups) == per_page:
                # The first row of the group after the page's last: older groups follow.
                has_more = True
                break
            if track_id is not None:
                group = TimelineGroup(str(TRACK_NAMES[track_kind]), [], track_id=track_id)
            elif starts_at is not None:
                # Named by date in the centre's zone, never by the scenario.
                group = TimelineGroup(learner_sessions.neutral_title_at(starts_at, zone), [],
                                      session_id=session_id)
            else:
                group = TimelineGroup(_("A past session"), [])
            groups[key] = group
        label = labels.get((title, offers_conversation))
        if label is None:
            # As the stage's own ``title`` reads it: a default in the reader's language.
            label = labels[title, offers_conversation] = StageLabel(
                stored_default_text(title) if title else title, offers_conversation)
        group.followups.append(TimelineStage(
            followup_id, session_id, track_id, status, due_at, sent_at, expires_at, checkin_id,
            conversation_state, label, centre))
    rows.close()
    return list(groups.values()), has_more


#: Answers the learner's trend reads (and so decrypts) per view: the most recent ones.
TREND_ANSWERS = 60


@functools.cache
def _latest_answers(limit: int) -> Select:
    return (select(CheckIn.id, CheckIn.created_at, CheckIn.payload_sealed)
            .where(CheckIn.user_id == bindparam("user_id"), CheckIn.skipped.is_(False),
                   CheckIn.payload_sealed.is_not(None))
            .order_by(CheckIn.created_at.desc(), CheckIn.id.desc()).limit(limit))


def distress_points(session: Session, user: User,
                    limit: int = TREND_ANSWERS) -> list[tuple[datetime, int]]:
    """(when, distress) of the learner's latest ``limit`` answers that have a score, oldest
    first. Each answer is sealed, so only the latest ones are read and opened: the cost of a
    view stays the same however long the learner's history grows. Read as plain rows (their
    id, time and sealed answer), not as check-ins: the score is all the trend needs."""
    sealed = CheckIn.payload
    points = []
    for checkin_id, created_at, stored in session.execute(_latest_answers(limit),
                                                          {"user_id": user.id}):
        distress = sealed.open(stored, checkin_id).get("distress")
        if distress is not None:
            points.append((created_at, distress))
    return points[::-1]
