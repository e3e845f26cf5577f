"""The structured debrief of a session, written by its instructors.

Ordinary personal data (not health data): notes, analysis, contributing factors and each
learner's feedback. The learner's emotional check-in lives apart, encrypted, in wellbeing.py.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simdebrief.models.base import Base, UTCDateTime
from simdebrief.models.sessions import SimSession
from simdebrief.models.users import User


class DebriefStatus(enum.StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class DebriefRole(enum.StrEnum):
    """What an instructor does in a debrief: the lead and co-debriefers write, an observer
    reads."""

    LEAD = "lead"
    CO_DEBRIEFER = "co_debriefer"
    OBSERVER = "observer"


class Debrief(Base):
    __tablename__ = "debrief"
    __table_args__ = (UniqueConstraint("session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sim_session.id", ondelete="CASCADE"))
    framework: Mapped[str] = mapped_column(String(20))
    status: Mapped[DebriefStatus] = mapped_column(
        Enum(DebriefStatus, native_enum=False, length=20), default=DebriefStatus.DRAFT)
    #: Pre-brief items as run: {item code: true/false}.
    prebrief: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Notes per phase of the framework: {phase code: text}.
    phase_notes: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Error-culture messages that were given: {point code: true/false}.
    framing: Mapped[dict] = mapped_column(JSON, default=dict)
    role_model_story_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Second-victim trigger types that arose in the session (taxonomy.TRIGGER_TYPES codes).
    triggers: Mapped[list] = mapped_column(JSON, default=list)
    take_home_messages: Mapped[str] = mapped_column(Text, default="")
    #: Raised by every save of the notes form; a save based on an older number is refused,
    #: never merged (checked with a conditional UPDATE, so two saves cannot both pass).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    session: Mapped[SimSession] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    finalised_by: Mapped[User | None] = relationship(foreign_keys=[finalised_by_id])
    analysis_items: Mapped[list[AnalysisItem]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="AnalysisItem.id")
    problems: Mapped[list[CareProblem]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="CareProblem.id")
    feedback: Mapped[list[LearnerFeedback]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="LearnerFeedback.id")
    amendments: Mapped[list[DebriefAmendment]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan",
        order_by="DebriefAmendment.at")
    debriefers: Mapped[list[DebriefInstructor]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan",
        order_by="DebriefInstructor.id")
    objective_outcomes: Mapped[list[ObjectiveOutcome]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan",
        order_by="ObjectiveOutcome.position")
    phase_times: Mapped[list[PhaseTime]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="PhaseTime.id")

    @property
    def is_final(self) -> bool:
        return self.status is DebriefStatus.FINAL

    def feedback_for(self, user_id: int) -> LearnerFeedback | None:
        return next((f for f in self.feedback if f.learner_id == user_id), None)

    def role_of(self, user_id: int) -> DebriefRole:
        """The instructor's role here; one added to the session later is a co-debriefer."""
        row = next((d for d in self.debriefers if d.user_id == user_id), None)
        return row.role if row is not None else DebriefRole.CO_DEBRIEFER

    def outcome_for(self, position: int) -> ObjectiveOutcome | None:
        return next((o for o in self.objective_outcomes if o.position == position), None)

    def phase_time(self, phase: str) -> PhaseTime | None:
        return next((t for t in self.phase_times if t.phase == phase), None)


class DebriefInstructor(Base):
    """An instructor's role in one debrief."""

    __tablename__ = "debrief_instructor"
    __table_args__ = (UniqueConstraint("debrief_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    role: Mapped[DebriefRole] = mapped_column(Enum(DebriefRole, native_enum=False, length=20))

    debrief: Mapped[Debrief] = relationship(back_populates="debriefers")
    user: Mapped[User] = relationship()


class ObjectiveOutcome(Base):
    """Whether the group met one learning objective of the session's scenario."""

    __tablename__ = "objective_outcome"
    __table_args__ = (
        UniqueConstraint("debrief_id", "position"),
        CheckConstraint("outcome in ('met', 'partly', 'not_met')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"))
    #: Index of the objective in the scenario version's list (versions never change).
    position: Mapped[int] = mapped_column(Integer)
    #: The objective's text as it was recorded, so the record reads on its own.
    objective: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    debrief: Mapped[Debrief] = relationship(back_populates="objective_outcomes")


class PhaseTime(Base):
    """When a phase of the debrief framework started and ended."""

    __tablename__ = "debrief_phase_time"
    __table_args__ = (UniqueConstraint("debrief_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    debrief: Mapped[Debrief] = relationship(back_populates="phase_times")


class AnalysisItem(Base):
    """A plus, delta, gap or strength from the analysis phase."""

    __tablename__ = "analysis_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(20))
    domain: Mapped[str] = mapped_column(String(30))
    strategy: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    #: Advocacy-inquiry: what the instructor saw and thought, the question, the learner's frame.
    observation: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text, default="")
    learner_frame: Mapped[str] = mapped_column(Text, default="")

    debrief: Mapped[Debrief] = relationship(back_populates="analysis_items")


class CareProblem(Base):
    """A care-delivery problem: care that went beyond safe limits (London Protocol step 1)."""

    __tablename__ = "care_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"),
                                            index=True)
    description: Mapped[str] = mapped_column(Text)
    #: Just Culture classification of the behaviour (taxonomy.JUST_CULTURE_BEHAVIOURS code).
    just_culture: Mapped[str | None] = mapped_column(String(20))

    debrief: Mapped[Debrief] = relationship(back_populates="problems")
    factors: Mapped[list[ContributingFactor]] = relationship(
        back_populates="problem", cascade="all, delete-orphan",
        order_by="ContributingFactor.id")


class ContributingFactor(Base):
    __tablename__ = "contributing_factor"
    __table_args__ = (
        CheckConstraint("attribution in ('system', 'individual', 'both')",
                        name="attribution_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("care_problem.id", ondelete="CASCADE"),
                                            index=True)
    #: London Protocol code, e.g. "LP.TEAM.verbal_comm" (level "LP.TEAM").
    code: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    attribution: Mapped[str] = mapped_column(String(20), default="system")
    changeable: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Imported from the scenario's expected factors and not yet marked discussed or edited.
    suggested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    problem: Mapped[CareProblem] = relationship(back_populates="factors")


class LearnerFeedback(Base):
    """Feedback to one learner: visible to that learner and the session's instructors only."""

    __tablename__ = "learner_feedback"
    __table_args__ = (UniqueConstraint("debrief_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                            index=True)
    strengths: Mapped[str] = mapped_column(Text, default="")
    to_improve: Mapped[str] = mapped_column(Text, default="")
    learning_goals: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    debrief: Mapped[Debrief] = relationship(back_populates="feedback")
    learner: Mapped[User] = relationship()


class DebriefAmendment(Base):
    """A change after finalising: who, when, what (before and after) and why."""

    __tablename__ = "debrief_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"),
                                            index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    #: What was changed, e.g. "take_home_messages" or "feedback:12:strengths".
    target: Mapped[str] = mapped_column(String(120))
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)

    debrief: Mapped[Debrief] = relationship(back_populates="amendments")
    author: Mapped[User | None] = relationship()


class DashRating(Base):
    """A learner's rating of the debrief on the six DASH elements (1–7; None = skipped)."""

    __tablename__ = "dash_rating"
    __table_args__ = (UniqueConstraint("debrief_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    scores: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
