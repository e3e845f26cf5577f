"""Centres, people, cohorts and rooms."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simdebrief.crypto import Sealed, listen_for_inserts
from simdebrief.languages import gettext
from simdebrief.models.base import Base, UTCDateTime, now_utc


class Role(enum.StrEnum):
    ADMIN = "admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"
    SUPPORTER = "supporter"


class SupporterTier(enum.StrEnum):
    PEER = "peer"
    PROFESSIONAL = "professional"


#: Known high-risk circumstances (domain.md §3.2): a first death, a child, a patient like
#: someone close, a complaint; and scenarios in which the patient dies.
DEFAULT_HIGH_RISK_TRIGGERS = ("first_patient_death", "paediatric_event", "personal_connection",
                              "patient_complaint_or_litigation")
DEFAULT_HIGH_RISK_FLAGS = ("death", "first_death", "paediatric", "personal_connection")


class Centre(Base):
    __tablename__ = "centre"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: IANA zone the centre's times are shown in; stored times are UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Copenhagen")
    #: The language of pages and emails for users who have not chosen one (and for new users).
    default_locale: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    #: The centre's own basic-assumption statement read out in every pre-brief.
    basic_assumption: Mapped[str] = mapped_column(Text, default="")
    #: Who learners can contact for support, shown in reminders, PDFs and check-ins.
    support_contacts: Mapped[str] = mapped_column(Text, default="")
    #: How long before a session its participants get a reminder email.
    reminder_hours: Mapped[int] = mapped_column(Integer, default=24)
    #: The debrief structure instructors follow: PEARLS, GAS or 3D.
    debrief_framework: Mapped[str] = mapped_column(String(20), default="PEARLS")
    #: Distress (0–10) from which the check-in offers support prominently; nobody is alerted.
    distress_threshold: Mapped[int] = mapped_column(Integer, default=4)
    #: Aggregates of check-ins and ratings are shown only when at least this many answered.
    min_group_size: Mapped[int] = mapped_column(Integer, default=5)
    #: Whether the Just Culture "reckless behaviour" category appears in the framing checklist.
    reckless_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Whether the "feedback ready" email carries the learner's PDF (never their check-in).
    attach_feedback_pdf: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Retention (the longest each kind is kept; simdebrief.services.retention purges daily).
    #: Emotional data: months after the learner's last follow-up stage or check-in.
    retention_emotional_months: Mapped[int] = mapped_column(Integer, default=6)
    #: Closed requests for a conversation: months after they were closed.
    retention_support_months: Mapped[int] = mapped_column(Integer, default=12)
    #: Bodies of sent emails: days after sending.
    retention_outbox_days: Mapped[int] = mapped_column(Integer, default=30)
    #: Audit events: years.
    retention_audit_years: Mapped[int] = mapped_column(Integer, default=5)
    #: Whether admins, instructors and supporters must log in with a second factor (TOTP).
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=True,
                                                     server_default=true())
    #: Distress (0–10) from which the response page leads with the urgent contacts.
    urgent_distress_threshold: Mapped[int] = mapped_column(Integer, default=8)
    #: Whether a self-harm cue in free text also alerts the on-duty professional at once.
    alert_on_self_harm_cue: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Hours within which a waiting peer request should be taken.
    peer_response_hours: Mapped[int] = mapped_column(Integer, default=48)
    #: Hours within which a waiting professional request should be taken.
    professional_response_hours: Mapped[int] = mapped_column(Integer, default=24)
    #: Minutes within which an urgent request should be taken.
    urgent_response_minutes: Mapped[int] = mapped_column(Integer, default=60)
    #: ISO country code whose public holidays follow-ups skip (with weekends).
    country: Mapped[str] = mapped_column(String(2), default="DK")
    #: Debrief trigger types that put a session's learners on the high-risk plan.
    high_risk_triggers: Mapped[list] = mapped_column(JSON, default=lambda: list(
        DEFAULT_HIGH_RISK_TRIGGERS))
    #: Scenario risk flags that put a session's learners on the high-risk plan.
    high_risk_flags: Mapped[list] = mapped_column(JSON, default=lambda: list(
        DEFAULT_HIGH_RISK_FLAGS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


cohort_membership = Table(
    "cohort_membership",
    Base.metadata,
    Column("cohort_id", ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


def new_security_stamp() -> str:
    return secrets.token_urlsafe(16)


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    #: Lower-cased on the way in so that logins and invitations match whatever case is typed.
    email: Mapped[str] = mapped_column(String(254))
    #: The name as stored; read ``name``, which shows erased accounts in the reader's language.
    stored_name: Mapped[str] = mapped_column("name", String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    supporter_tier: Mapped[SupporterTier | None] = mapped_column(
        Enum(SupporterTier, native_enum=False, length=20)
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Changed whenever the password is set; invitation and reset links carry it, so each link
    #: works once and every older link dies with the change.
    security_stamp: Mapped[str] = mapped_column(String(64), default=new_security_stamp)
    locale: Mapped[str | None] = mapped_column(String(10))
    #: Secret part of the personal calendar feed URL; the user can reset it.
    calendar_token: Mapped[str] = mapped_column(String(64), default=new_security_stamp,
                                                unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The learner asked for their account to be erased; an admin confirms.
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The account was erased: name and address replaced, no login, debrief records kept.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The purge date the learner was last told about (14 days ahead), so they are told once.
    retention_notice_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The TOTP secret (base32), encrypted at rest; None until enrolment is confirmed.
    totp_secret_sealed: Mapped[str | None] = mapped_column("totp_secret", Text)
    totp_secret = Sealed("totp_secret_sealed", table="user_account", column="totp_secret")
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The 30-second step of the last accepted code, so a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: A supporter's own switch: unavailable supporters are not emailed about new requests.
    supporter_available: Mapped[bool] = mapped_column(Boolean, default=True)

    #: Loaded on first use, from the identity map when the centre is already there (it is
    #: for every logged-in request: the login session loads it with the user). Joining it to
    #: every user of a list parsed the centre's JSON settings once per row.
    centre: Mapped[Centre] = relationship()
    cohorts: Mapped[list[Cohort]] = relationship(
        secondary=cohort_membership, back_populates="students", order_by="Cohort.name"
    )

    #: Set by the login manager to the server-side session this request belongs to.
    auth_session_id = None
    #: Set by the login manager: whether this login session has passed its second factor.
    second_factor_passed = True

    # Flask-Login's interface, written out: its UserMixin compares users by get_id(), which
    # here is the login session, so two users outside a request would compare equal.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.auth_session_id

    @hybrid_property
    def name(self) -> str:
        """The person's name; an erased account reads "Former participant" in every language."""
        if self.erased_at is not None:
            return gettext("Former participant")
        return self.stored_name

    @name.inplace.setter
    def _name_setter(self, value: str) -> None:
        self.stored_name = value

    @name.inplace.expression
    @classmethod
    def _name_expression(cls):
        return cls.stored_name

    @property
    def language(self) -> str:
        """The language this person reads: their own choice, else their centre's default."""
        return self.locale or self.centre.default_locale

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class Cohort(Base):
    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    centre: Mapped[Centre] = relationship()
    students: Mapped[list[User]] = relationship(
        secondary=cohort_membership, back_populates="cohorts", order_by=func.lower(User.name)
    )


class Room(Base):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Secret part of the room's calendar feed URL.
    calendar_token: Mapped[str] = mapped_column(String(64), default=new_security_stamp,
                                                unique=True)

    centre: Mapped[Centre] = relationship()


class UrgentContact(Base):
    """A number a learner can call when things are bad, kept current by the centre."""

    __tablename__ = "urgent_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    #: In the centre's words, e.g. "Open all day and all night" or "Mon–Fri 11–23".
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    #: The emergency number (112): shown first, for danger to life right now.
    is_emergency: Mapped[bool] = mapped_column(Boolean, default=False)


class OnDutyShift(Base):
    """A professional supporter on duty for urgent requests between two moments."""

    __tablename__ = "on_duty_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"),
                                           index=True)
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    supporter: Mapped[User] = relationship()


listen_for_inserts(User)
