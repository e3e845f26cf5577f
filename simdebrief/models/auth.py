"""Server-side login sessions, login attempts and request counts (for throttling), and
recovery codes for the second factor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simdebrief.models.base import Base, UTCDateTime
from simdebrief.models.users import User


class AuthSession(Base):
    """One login. The cookie carries only this row's random id, so logout really ends it."""

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    #: False while the login waits for its TOTP or recovery code (or for enrolment).
    second_factor_passed: Mapped[bool] = mapped_column(Boolean, default=True,
                                                       server_default=true())

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """A failed login, counted per account and per address over a sliding minute."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "attempted_at"),
        Index("ix_login_attempt_ip_at", "ip_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip_address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThrottleEvent(Base):
    """A password reset or invitation request, counted per account and per address."""

    __tablename__ = "throttle_event"
    __table_args__ = (
        Index("ix_throttle_event_kind_account_at", "kind", "account", "at"),
        Index("ix_throttle_event_kind_ip_at", "kind", "ip_address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: The normalised email address asked about, whether or not an account has it.
    account: Mapped[str] = mapped_column(String(254))
    ip_address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    """One single-use recovery code, stored only as a keyed hash (see services/two_factor)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
