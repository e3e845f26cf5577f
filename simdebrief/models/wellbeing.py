"""Emotional check-ins and requests for a conversation: the learner's own data.

Everything a learner says about how they feel is in encrypted columns; the plain columns hold
only ids, times and the state of a request, never a score, a tick or a word of text.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simdebrief.crypto import Sealed, listen_for_inserts
from simdebrief.models.base import Base, UTCDateTime
from simdebrief.models.sessions import SimSession
from simdebrief.models.users import SupporterTier, User


class CheckInContext(enum.StrEnum):
    #: Filled in at the end of the session's debrief.
    DEBRIEF = "debrief"
    #: Filled in later, on the learner's own initiative.
    SELF = "self"
    #: Answer to a scheduled follow-up.
    FOLLOWUP = "followup"


class SupportStatus(enum.StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    CONTACTED = "contacted"
    #: Passed from a peer supporter to the professional tier, waiting to be taken there.
    REFERRED = "referred"
    CLOSED = "closed"


#: Every status but closed, named, so the queue reads its index for these and never walks
#: the centre's closed history (``!= CLOSED`` cannot narrow an index).
STILL_OPEN = tuple(status for status in SupportStatus if status is not SupportStatus.CLOSED)


class CheckIn(Base):
    __tablename__ = "check_in"
    __table_args__ = (Index("ix_check_in_session_user", "session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim_session.id", ondelete="SET NULL"))
    context: Mapped[CheckInContext] = mapped_column(
        Enum(CheckInContext, native_enum=False, length=20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The learner chose "Skip for now"; such rows have no payload and count as no answer.
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    #: distress (0–10 or None), symptoms, coping, support_wanted (lists of codes), free_text.
    payload_sealed: Mapped[str | None] = mapped_column("payload", Text)
    payload = Sealed("payload_sealed", table="check_in", column="payload", as_json=True)
    #: The follow-up stage this check-in answers, if any.
    followup_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_up.id", ondelete="SET NULL"), index=True)

    user: Mapped[User] = relationship()
    session: Mapped[SimSession | None] = relationship()

    @property
    def distress(self) -> int | None:
        return (self.payload or {}).get("distress")

    @property
    def symptoms(self) -> list[str]:
        return list((self.payload or {}).get("symptoms") or ())

    @property
    def coping(self) -> list[str]:
        return list((self.payload or {}).get("coping") or ())

    @property
    def support_wanted(self) -> list[str]:
        return list((self.payload or {}).get("support_wanted") or ())

    @property
    def free_text(self) -> str:
        return (self.payload or {}).get("free_text") or ""


class SupportRequest(Base):
    """A learner asked for a conversation with a peer supporter or a professional."""

    __tablename__ = "support_request"
    __table_args__ = (
        # The supporters' queue: a tier's requests still open, and one supporter's own.
        Index("ix_support_request_queue", "centre_id", "tier", "status"),
        Index("ix_support_request_assignee", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                            index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim_session.id", ondelete="SET NULL"), index=True)
    tier: Mapped[SupporterTier] = mapped_column(
        Enum(SupporterTier, native_enum=False, length=20))
    status: Mapped[SupportStatus] = mapped_column(
        Enum(SupportStatus, native_enum=False, length=20), default=SupportStatus.OPEN)
    #: The learner agreed that the session's instructors may see that they asked (never what
    #: they shared); without it the request is invisible to them.
    instructors_informed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The check-in the learner chose to share with the supporter, if any.
    shared_checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_in.id", ondelete="SET NULL"))
    message_sealed: Mapped[str | None] = mapped_column("message", Text)
    message = Sealed("message_sealed", table="support_request", column="message")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Urgent requests go to the on-duty professional and have their own response target.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How the request came about: learner (asked), urgent (the one-click urgent button),
    #: cue_alert (the centre's crisis route), offered (a conversation stage), answer (a "yes"
    #: to a follow-up question).
    origin: Mapped[str] = mapped_column(String(20), default="learner")
    #: How the learner prefers to be reached: email, phone, text or in_person.
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    phone_sealed: Mapped[str | None] = mapped_column("phone", Text)
    phone = Sealed("phone_sealed", table="support_request", column="phone")
    good_times_sealed: Mapped[str | None] = mapped_column("good_times", Text)
    good_times = Sealed("good_times_sealed", table="support_request", column="good_times")
    #: A time the centre proposes for an offered conversation.
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set once, when the request waited past its response target and was passed up.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    session: Mapped[SimSession | None] = relationship()
    shared_checkin: Mapped[CheckIn | None] = relationship()
    events: Mapped[list[SupportRequestEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan",
        order_by=lambda: (SupportRequestEvent.at, SupportRequestEvent.id),
    )

    @property
    def is_active(self) -> bool:
        return self.status is not SupportStatus.CLOSED

    @property
    def was_withdrawn(self) -> bool:
        return any(event.action == "withdrawn" for event in self.events)


class SupportRequestEvent(Base):
    """One step in a request's history; a supporter's note about it is encrypted."""

    __tablename__ = "support_request_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("support_request.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    #: created, taken, contacted, referred, closed, withdrawn
    action: Mapped[str] = mapped_column(String(40))
    note_sealed: Mapped[str | None] = mapped_column("note", Text)
    note = Sealed("note_sealed", table="support_request_event", column="note")

    request: Mapped[SupportRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ConversationTask(Base):
    """Links a supporter task (a request) to the follow-up stage that offered or asked for it.

    A table of its own rather than a column: the request table is not rebuilt to add a
    reference (on SQLite that would copy and drop a table others point at).
    """

    __tablename__ = "conversation_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"),
                                             index=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("support_request.id", ondelete="CASCADE"), unique=True)

    request: Mapped[SupportRequest] = relationship()


for _model in (CheckIn, SupportRequest, SupportRequestEvent):
    listen_for_inserts(_model)
