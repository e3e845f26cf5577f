"""The learner's rights over their data: a copy of everything, deleting the emotional part
now, and erasure of the account (asked for by the learner, confirmed by an admin).

Erasure keeps debrief records whole: the account row stays as a "former participant" (no
name, no address, no login), so sessions, attendance and the feedback given in a debrief keep
their meaning without saying who it was.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from simdebrief.errors import InvalidState
from simdebrief.languages import gettext as _
from simdebrief.models import (
    AuditEvent,
    AuthSession,
    CheckIn,
    DashRating,
    EventTrack,
    FollowUp,
    FollowUpChoice,
    FollowUpPreference,
    LearnerFeedback,
    LoginAttempt,
    OutboxEmail,
    OutboxStatus,
    SessionParticipant,
    SupportRequest,
    User,
)
from simdebrief.models.users import new_security_stamp
from simdebrief.services import accounts, audit


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export(session: Session, user: User, now: datetime) -> dict[str, Any]:
    """Everything SimDebrief holds about the learner, as plain JSON-ready data."""
    participations = session.scalars(
        select(SessionParticipant).where(SessionParticipant.user_id == user.id)
        .order_by(SessionParticipant.id)).all()
    checkins = session.scalars(select(CheckIn).where(CheckIn.user_id == user.id)
                               .order_by(CheckIn.created_at, CheckIn.id)).all()
    requests = session.scalars(select(SupportRequest).where(SupportRequest.learner_id == user.id)
                               .order_by(SupportRequest.created_at)).all()
    feedback = session.scalars(select(LearnerFeedback)
                               .where(LearnerFeedback.learner_id == user.id)).all()
    ratings = session.scalars(select(DashRating).where(DashRating.learner_id == user.id)).all()
    followups = session.scalars(select(FollowUp).where(FollowUp.user_id == user.id)
                                .order_by(FollowUp.due_at)).all()
    choices = session.scalars(select(FollowUpChoice).where(FollowUpChoice.user_id == user.id)
                              .order_by(FollowUpChoice.at)).all()
    tracks = session.scalars(select(EventTrack).where(EventTrack.user_id == user.id)).all()
    logins = session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)
                             .order_by(AuthSession.created_at)).all()
    events = session.scalars(
        select(AuditEvent).where(or_(AuditEvent.actor_id == user.id,
                                     (AuditEvent.object_type == "user")
                                     & (AuditEvent.object_id == str(user.id))))
        .order_by(AuditEvent.at, AuditEvent.id)).all()
    return {
        "exported_at": _iso(now),
        "account": {
            "name": user.name, "email": user.email, "role": user.role.value,
            "centre": user.centre.name, "language": user.locale,
            "created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at),
            "cohorts": [cohort.name for cohort in user.cohorts],
            "erasure_requested_at": _iso(user.erasure_requested_at),
        },
        "sessions": [{
            "session_id": p.session_id, "scenario": p.session.title,
            "starts_at": _iso(p.session.starts_at), "ends_at": _iso(p.session.ends_at),
            "status": p.session.status.value, "attendance": p.attendance.value,
        } for p in participations],
        "feedback_to_you": [{
            "session_id": f.debrief.session_id, "strengths": f.strengths,
            "to_improve": f.to_improve, "learning_goals": f.learning_goals,
            "updated_at": _iso(f.updated_at),
        } for f in feedback],
        "your_debrief_ratings": [{
            "session_id": r.debrief_id, "scores": r.scores, "created_at": _iso(r.created_at),
        } for r in ratings],
        "check_ins": [{
            "id": c.id, "session_id": c.session_id, "context": c.context.value,
            "created_at": _iso(c.created_at), "skipped": c.skipped,
            "answers": c.payload or {},
        } for c in checkins],
        "requests_for_a_conversation": [{
            "id": r.id, "session_id": r.session_id, "tier": r.tier.value,
            "status": r.status.value, "message": r.message,
            "instructors_informed": r.instructors_informed,
            "shared_check_in_id": r.shared_checkin_id,
            "created_at": _iso(r.created_at), "closed_at": _iso(r.closed_at),
            "history": [{"at": _iso(e.at), "action": e.action} for e in r.events],
        } for r in requests],
        "follow_ups": [{
            "stage": f.stage_key, "session_id": f.session_id, "status": f.status.value,
            "due_at": _iso(f.due_at), "expires_at": _iso(f.expires_at),
            "completed_at": _iso(f.completed_at), "check_in_id": f.checkin_id,
        } for f in followups],
        "follow_up_choices": [{"action": c.action, "via": c.via, "at": _iso(c.at)}
                              for c in choices],
        "event_tracks": [{"kind": t.kind.value, "status": t.status.value,
                          "started_at": _iso(t.started_at), "ended_at": _iso(t.ended_at)}
                         for t in tracks],
        "logins": [{"at": _iso(s.created_at), "last_seen_at": _iso(s.last_seen_at),
                    "ip_address": s.ip_address} for s in logins],
        "audit_events": [{"at": _iso(e.at), "action": e.action, "object_type": e.object_type,
                          "object_id": e.object_id, "outcome": e.outcome}
                         for e in events],
    }


def delete_emotional_data(session: Session, *, user: User, now: datetime,
                          ip_address: str = "") -> dict[str, int]:
    """Delete the learner's check-ins (follow-up answers among them) and the texts of their
    requests for a conversation, now. Requests, stages and sessions stay as bare structure."""
    checkins = session.execute(
        delete(CheckIn).where(CheckIn.user_id == user.id)
        .execution_options(synchronize_session=False)).rowcount
    messages = session.execute(
        update(SupportRequest)
        .where(SupportRequest.learner_id == user.id, SupportRequest.message_sealed.isnot(None))
        .values(message_sealed=None, shared_checkin_id=None)
        .execution_options(synchronize_session=False)).rowcount
    session.flush()
    session.expire_all()
    audit.record(session, action="learner.emotional_data_deleted", actor=user, now=now,
                 object_type="user", object_id=user.id, ip_address=ip_address,
                 detail=f"check_ins={checkins} request_texts={messages}")
    return {"check_ins": checkins, "request_texts": messages}


def request_erasure(session: Session, *, user: User, now: datetime,
                    ip_address: str = "") -> None:
    if user.erasure_requested_at is not None:
        raise InvalidState(_("Erasure of this account has already been requested."))
    user.erasure_requested_at = now
    audit.record(session, action="user.erasure_requested", actor=user, now=now,
                 object_type="user", object_id=user.id, ip_address=ip_address)


def withdraw_erasure_request(session: Session, *, user: User, now: datetime,
                             ip_address: str = "") -> None:
    user.erasure_requested_at = None
    audit.record(session, action="user.erasure_withdrawn", actor=user, now=now,
                 object_type="user", object_id=user.id, ip_address=ip_address)


def erasure_requests(session: Session, centre_id: int) -> list[User]:
    return list(session.scalars(
        select(User).where(User.centre_id == centre_id, User.erasure_requested_at.isnot(None),
                           User.erased_at.is_(None))
        .order_by(User.erasure_requested_at)).all())


def erase_account(session: Session, *, actor: User, user: User, now: datetime,
                  ip_address: str = "") -> None:
    """Erase a learner's account on their request. The row stays, anonymous and unable to log
    in; everything personal that is not part of a debrief record goes."""
    if user.erasure_requested_at is None:
        raise InvalidState(_("This person has not asked for their account to be erased."))
    if user.erased_at is not None:
        raise InvalidState(_("This account has already been erased."))
    old_address = user.email
    delete_emotional_data(session, user=user, now=now, ip_address=ip_address)
    for statement in (
        delete(SupportRequest).where(SupportRequest.learner_id == user.id),
        delete(FollowUp).where(FollowUp.user_id == user.id),
        delete(EventTrack).where(EventTrack.user_id == user.id),
        delete(FollowUpChoice).where(FollowUpChoice.user_id == user.id),
        delete(FollowUpPreference).where(FollowUpPreference.user_id == user.id),
        delete(LoginAttempt).where(LoginAttempt.email == old_address),
        delete(OutboxEmail).where(OutboxEmail.to_address == old_address,
                                  OutboxEmail.status != OutboxStatus.SENDING),
    ):
        session.execute(statement.execution_options(synchronize_session=False))
    session.expire_all()
    accounts.revoke_all_sessions(session, user)
    user.cohorts.clear()  # no longer offered when sessions are planned
    user.stored_name = ""  # User.name reads "Former participant" in the reader's language
    user.email = f"erased-{user.id}-{secrets.token_hex(4)}@invalid"
    user.password_hash = None
    user.is_active_account = False
    user.security_stamp = new_security_stamp()
    user.calendar_token = new_security_stamp()
    user.locale = None
    user.erased_at = now
    audit.record(session, action="user.erased", actor=actor, now=now, object_type="user",
                 object_id=user.id, ip_address=ip_address)
    session.flush()
