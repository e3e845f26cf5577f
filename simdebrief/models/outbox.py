"""Emails waiting to be sent, written in the same transaction as the change that causes them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from simdebrief.models.base import Base, UTCDateTime, now_utc


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    LOGGED = "logged"
    FAILED = "failed"
    #: Refused for good by the mail server (a 5xx reply such as 550): never retried.
    REJECTED = "rejected"
    #: Not to be sent any more: the learner paused or stopped follow-ups while it waited.
    CANCELLED = "cancelled"


class OutboxEmail(Base):
    __tablename__ = "outbox_email"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_outbox_email_status_next_attempt_at", "status", "next_attempt_at"),
        # The admin's list: a centre's emails, by status, newest first.
        Index("ix_outbox_email_centre_status_id", "centre_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Names the cause ("invite:12:abc", "followup:77"); a second write of the same cause fails.
    idempotency_key: Mapped[str] = mapped_column(String(200))
    #: The centre whose admins may read it; none for mail to an address without an account.
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    #: The text as sent, except that a personal link is stored as ``LINK_PLACEHOLDER``: the
    #: relay builds the live link from ``link_ref`` just before sending, so no usable token
    #: is ever stored here or shown to an admin.
    body_text: Mapped[str] = mapped_column(Text)
    #: Which link to build at send time: "reset:<user>:<stamp>:<expires>",
    #: "invite:<user>:<stamp>:<expires>" or "followup:<follow-up id>" (which also carries
    #: one-click unsubscribe headers).
    link_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    #: When the text of a sent email that carried a link was replaced by a short note.
    body_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What to attach when sending, by reference ("learner_pdf:<session>:<learner>"), never
    #: the bytes: the document is rendered at send time.
    attachment: Mapped[str | None] = mapped_column(String(200))
    #: Stable and derived from the idempotency key, so a resend after a crash is recognisable.
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=20), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: While a sender holds the row; a sender that died leaves it to be picked up after this.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
