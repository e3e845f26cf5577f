"""Simulation sessions: when, where, which scenario version, who teaches and who takes part.

The class is ``SimSession`` so it never clashes with the database or the Flask session.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simdebrief.models.base import Base, UTCDateTime
from simdebrief.models.scenarios import ScenarioVersion
from simdebrief.models.users import Centre, Cohort, Room, User


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    DEBRIEFED = "debriefed"
    CANCELLED = "cancelled"


class Attendance(enum.StrEnum):
    EXPECTED = "expected"
    PRESENT = "present"
    ABSENT = "absent"


session_instructor = Table(
    "session_instructor",
    Base.metadata,
    Column("session_id", ForeignKey("sim_session.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


#: No session runs longer: scheduling refuses a longer one. So a session not over yet started
#: at most this long ago, which lets lists of them walk the start-time index in order.
MAX_SESSION_LENGTH = timedelta(hours=12)


def new_calendar_uid() -> str:
    return uuid.uuid4().hex


class SimSession(Base):
    __tablename__ = "sim_session"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_sim_session_centre_starts", "centre_id", "starts_at"),
        Index("ix_sim_session_room_starts", "room_id", "starts_at"),
        # Sessions in one state (the instructor's debriefs to write: in progress), in order.
        Index("ix_sim_session_centre_status_starts", "centre_id", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    #: The exact version the session runs; later edits of the scenario file do not change it.
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_version.id"),
                                                     index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[SessionStatus] = mapped_column(
        Enum(SessionStatus, native_enum=False, length=20), default=SessionStatus.SCHEDULED
    )
    note: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    #: Stable across edits so calendar clients update the entry instead of adding another.
    calendar_uid: Mapped[str] = mapped_column(String(64), default=new_calendar_uid, unique=True)
    #: Raised on every change the participants are told about (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    centre: Mapped[Centre] = relationship()
    scenario_version: Mapped[ScenarioVersion] = relationship(lazy="joined")
    room: Mapped[Room] = relationship(lazy="joined")
    instructors: Mapped[list[User]] = relationship(secondary=session_instructor,
                                                   order_by=User.name)
    participants: Mapped[list[SessionParticipant]] = relationship(
        back_populates="session", cascade="all, delete-orphan",
        order_by="SessionParticipant.id",
    )

    @classmethod
    def not_over(cls, now: datetime | None = None):
        """Running or still to come. The bound on the start (implied by the end and the
        longest session) lets SQL read the (centre, start) index from now, in order.

        Without ``now`` (in a statement built once), both bounds are bound parameters whose
        values ``not_over_values`` gives."""
        if now is None:
            return and_(cls.ends_at >= bindparam("now"),
                        cls.starts_at >= bindparam("earliest_start"))
        return and_(cls.ends_at >= now, cls.starts_at >= now - MAX_SESSION_LENGTH)

    @staticmethod
    def not_over_values(now: datetime) -> dict[str, datetime]:
        return {"now": now, "earliest_start": now - MAX_SESSION_LENGTH}

    @classmethod
    def over(cls, now: datetime | None = None):
        """Ended. A session that ended had started: the start bound serves the index.
        Without ``now``, it is the bound parameter "now"."""
        if now is None:
            return and_(cls.ends_at < bindparam("now"), cls.starts_at < bindparam("now"))
        return and_(cls.ends_at < now, cls.starts_at < now)

    @classmethod
    def ends_after(cls, moment: datetime | None = None):
        """Ending after ``moment``, bounded on the start too, for the index (as in
        ``not_over``; without ``moment``, the values of ``ends_after_values`` are bound)."""
        if moment is None:
            return and_(cls.ends_at > bindparam("ends_after"),
                        cls.starts_at > bindparam("ends_after_start"))
        return and_(cls.ends_at > moment, cls.starts_at > moment - MAX_SESSION_LENGTH)

    @staticmethod
    def ends_after_values(moment: datetime) -> dict[str, datetime]:
        return {"ends_after": moment, "ends_after_start": moment - MAX_SESSION_LENGTH}

    @classmethod
    def overlapping(cls, start: datetime, end: datetime):
        """Running at some moment between ``start`` and ``end``."""
        return and_(cls.starts_at < end, cls.ends_after(start))

    @property
    def title(self) -> str:
        """The scenario's title in the viewer's (or the email recipient's) language."""
        return self.scenario_version.display_title

    @property
    def is_open_for_changes(self) -> bool:
        return self.status is SessionStatus.SCHEDULED

    def participant_for(self, user: User) -> SessionParticipant | None:
        return next((p for p in self.participants if p.user_id == user.id), None)


class SessionParticipant(Base):
    __tablename__ = "session_participant"
    __table_args__ = (
        Index("ix_session_participant_user", "user_id"),
        # Every page of a session, and every list of sessions, loads its learners by session.
        Index("ix_session_participant_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sim_session.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: The cohort the learner was added through, if any (for the instructor's overview).
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    attendance: Mapped[Attendance] = mapped_column(
        Enum(Attendance, native_enum=False, length=20), default=Attendance.EXPECTED
    )
    #: The start time the reminder was sent for; a rescheduled session is reminded again.
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[SimSession] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(lazy="joined")
    cohort: Mapped[Cohort | None] = relationship()


class Tier1Check(Base):
    """An instructor's "checked in with them" after a high-risk session (Scott's tier 1):
    only that it happened and when, never what was said or how the learner is."""

    __tablename__ = "tier1_check"
    __table_args__ = (UniqueConstraint("session_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sim_session.id", ondelete="CASCADE"),
                                            index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    checked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
