"""Staged follow-ups: plans and their stages, one row per stage per learner, and the
learner's own choices (pause, resume, stop) and event tracks.

A ``FollowUp`` row is the unit of work: the dispatcher claims due rows and writes their
email into the outbox in the same transaction, so a restart loses nothing and two
dispatchers never send a stage twice. Answers are ordinary check-ins (encrypted, the
learner's alone) that point back at the stage; nothing here holds a score or a word of text.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simdebrief.models.base import Base, UTCDateTime, shown_in_reader_language
from simdebrief.models.sessions import SimSession
from simdebrief.models.users import Centre, User


class PlanKind(enum.StrEnum):
    #: Stages after a simulation session, scheduled when its debrief is finalised.
    SESSION = "session"
    #: Stages after a session with high-risk triggers or scenario risk flags (the centre
    #: chooses which): more and earlier contact, with an offered conversation.
    HIGH_RISK = "high_risk"
    #: A track the learner starts after receiving a patient complaint.
    COMPLAINT = "complaint"
    #: A track the learner starts when a real event brought a scenario back.
    REACTIVATED = "reactivated"
    #: A track the learner starts after a real clinical event, related to no scenario.
    REAL_EVENT = "real_event"


class OffsetUnit(enum.StrEnum):
    #: Elapsed time; moved out of the night to the next send hour.
    MINUTES = "minutes"
    #: Elapsed time, then the first send hour at or after it.
    HOURS = "hours"
    #: Calendar days in the centre's zone, at the send hour.
    DAYS = "days"
    #: Calendar months in the centre's zone (clamped at month end), at the send hour.
    MONTHS = "months"


class FollowUpStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    #: Taken by a dispatcher; a claim older than the lease may be taken again.
    CLAIMED = "claimed"
    #: The stage's email is in the outbox; the learner can answer until it expires.
    SENT = "sent"
    COMPLETED = "completed"
    #: Sent, but not answered before the stage closed.
    EXPIRED = "expired"
    PAUSED = "paused"
    STOPPED = "stopped"
    #: Not sent: its window passed, the stage was removed from the plan, or the learner
    #: chose "skip this one".
    SKIPPED = "skipped"
    #: Sent, but the mail server refused the email for good (e.g. 550 no such mailbox).
    UNDELIVERABLE = "undeliverable"


#: Statuses of a stage that has not gone out yet (a plan edit may still change these).
NOT_YET_SENT = (FollowUpStatus.SCHEDULED, FollowUpStatus.PAUSED)
#: Statuses of a stage the learner's choice holds back; it stays answerable within its window.
HELD = (FollowUpStatus.PAUSED, FollowUpStatus.STOPPED)


class PreferenceState(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class TrackKind(enum.StrEnum):
    COMPLAINT = "complaint"
    REACTIVATED = "reactivated"
    REAL_EVENT = "real_event"


class TrackStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class FollowUpPlan(Base):
    """One version of a centre's plan of a kind; editing creates the next version."""

    __tablename__ = "follow_up_plan"
    __table_args__ = (UniqueConstraint("centre_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    kind: Mapped[PlanKind] = mapped_column(Enum(PlanKind, native_enum=False, length=20))
    #: The default plans store their English texts; ``name``/``description`` read them in the
    #: reader's language.
    stored_name: Mapped[str] = mapped_column("name", String(200))
    stored_description: Mapped[str] = mapped_column("description", Text, default="")
    name = shown_in_reader_language("stored_name")
    description = shown_in_reader_language("stored_description")
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The version new follow-ups are scheduled with; one per centre and kind.
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    centre: Mapped[Centre] = relationship()
    created_by: Mapped[User | None] = relationship()
    stages: Mapped[list[FollowUpStage]] = relationship(
        back_populates="plan", cascade="all, delete-orphan",
        order_by="FollowUpStage.position")

    def stage(self, key: str) -> FollowUpStage | None:
        return next((stage for stage in self.stages if stage.key == key), None)


class FollowUpStage(Base):
    __tablename__ = "follow_up_stage"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("follow_up_plan.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: Stable across plan versions (e.g. ``FU1_early``): follow-ups are unique per key.
    key: Mapped[str] = mapped_column(String(40))
    stored_title: Mapped[str] = mapped_column("title", String(200))
    title = shown_in_reader_language("stored_title")
    offset_amount: Mapped[int] = mapped_column(Integer)
    offset_unit: Mapped[OffsetUnit] = mapped_column(
        Enum(OffsetUnit, native_enum=False, length=10))
    #: How late a stage may still go out (days after it fell due); later, it is skipped.
    window_days: Mapped[int] = mapped_column(Integer, default=2)
    #: Local hour (centre's zone) the stage goes out; daytime hours only.
    send_hour: Mapped[int] = mapped_column(Integer, default=9)
    #: Parts of the check-in it shows (distress, symptoms, coping, support_wanted, free_text).
    parts: Mapped[list] = mapped_column(JSON, default=list)
    #: Stage-specific question codes (services.followups.QUESTIONS).
    questions: Mapped[list] = mapped_column(JSON, default=list)
    #: Lessons and resources it brings (services.followups.CONTENT codes).
    content: Mapped[list] = mapped_column(JSON, default=list)
    #: One reminder this many days after sending, to those who have not answered.
    reminder_after_days: Mapped[int | None] = mapped_column(Integer)
    #: Days after it fell due that the stage closes (the email's link expires with it).
    expires_after_days: Mapped[int] = mapped_column(Integer, default=7)
    #: A conversation stage: when it falls due, a supporter gets a task to propose a time,
    #: unless the learner declined it with one click.
    offers_conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A stage kept back until an event in the learner's track ("decision": the learner
    #: answered that a decision on the complaint has come); counted from that moment.
    on_event: Mapped[str | None] = mapped_column(String(20))

    plan: Mapped[FollowUpPlan] = relationship(back_populates="stages")


class EventTrack(Base):
    """A track of check-ins a learner started themselves after a real event."""

    __tablename__ = "event_track"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[TrackKind] = mapped_column(Enum(TrackKind, native_enum=False, length=20))
    plan_id: Mapped[int] = mapped_column(ForeignKey("follow_up_plan.id"))
    #: The session the event brought back, when the learner chose to name one.
    related_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim_session.id", ondelete="SET NULL"))
    status: Mapped[TrackStatus] = mapped_column(
        Enum(TrackStatus, native_enum=False, length=20), default=TrackStatus.ACTIVE)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    plan: Mapped[FollowUpPlan] = relationship()
    related_session: Mapped[SimSession | None] = relationship()


class FollowUp(Base):
    """One stage for one learner: after a session, or on a track they started."""

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("user_id", "session_id", "stage_key"),
        UniqueConstraint("track_id", "stage_key"),
        # Due stages for the dispatcher; the centre too, so the admin's load ahead is counted
        # from the index alone.
        Index("ix_follow_up_status_due_at", "status", "due_at", "centre_id"),
        Index("ix_follow_up_session_id", "session_id"),
        # The learner's timeline pages through their groups, most recent first.
        Index("ix_follow_up_user_anchor", "user_id", "anchor_at"),
        # The learners per plan version (each counted once), from the index alone. The
        # completion counts come from the tallies (``followup_tallies``).
        Index("ix_follow_up_plan_user", "plan_id", "user_id"),
        # The learner's last follow-up (retention's clock) from the index alone.
        Index("ix_follow_up_user_expires", "user_id", "expires_at"),
        # A deleted answer clears its stage's link (ON DELETE SET NULL): found by index, not
        # by reading every stage of every centre once per answer.
        Index("ix_follow_up_checkin", "checkin_id"),
        # Sent stages by their expiry: those that closed since the distress tallies' last
        # look, and those the expiry job closes, are a narrow range, not every open stage.
        Index("ix_follow_up_status_expires", "status", "expires_at", "centre_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim_session.id", ondelete="CASCADE"))
    track_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_track.id", ondelete="CASCADE"))
    #: The cohort the learner took part through, for the centre's per-cohort figures.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("follow_up_plan.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("follow_up_stage.id"))
    stage_key: Mapped[str] = mapped_column(String(40))
    #: What offsets count from: the end of the debrief, or the start of the track.
    anchor_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[FollowUpStatus] = mapped_column(
        Enum(FollowUpStatus, native_enum=False, length=20), default=FollowUpStatus.SCHEDULED)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the one reminder becomes due (set when the stage is sent, if it has one).
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it became expired, paused, stopped or skipped.
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_in.id", ondelete="SET NULL", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: For a conversation offered or asked for at this stage: "task" once a supporter task
    #: exists, "declined" after the learner's one click; None before either.
    conversation_state: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()
    centre: Mapped[Centre] = relationship()
    session: Mapped[SimSession | None] = relationship()
    track: Mapped[EventTrack | None] = relationship()
    plan: Mapped[FollowUpPlan] = relationship()
    stage: Mapped[FollowUpStage] = relationship()

    @property
    def is_open(self) -> bool:
        """Sent and waiting for an answer."""
        return self.status is FollowUpStatus.SENT


class FollowUpPreference(Base):
    """The learner's current choice; every later stage honours it."""

    __tablename__ = "follow_up_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[PreferenceState] = mapped_column(
        Enum(PreferenceState, native_enum=False, length=20), default=PreferenceState.ACTIVE)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUpChoice(Base):
    """Each pause, resume or stop, with its time: the record of the learner's choices."""

    __tablename__ = "follow_up_choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    #: pause, resume, stop
    action: Mapped[str] = mapped_column(String(20))
    #: "link" (from an email, no login) or "page" (logged in)
    via: Mapped[str] = mapped_column(String(20), default="page")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
