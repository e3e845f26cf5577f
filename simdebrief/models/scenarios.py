"""Scenarios, synced from the reviewed files in scenarios/*.yaml, with every version kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from simdebrief.models.base import Base, UTCDateTime


class Scenario(Base):
    __tablename__ = "scenario"
    __table_args__ = (UniqueConstraint("slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100))
    #: The version new sessions use; older versions stay for the sessions that ran them.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("scenario_version.id", use_alter=True, ondelete="SET NULL")
    )
    #: Set when the file disappears from the library; sessions that used it keep working.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    current_version: Mapped[ScenarioVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="joined"
    )
    versions: Mapped[list[ScenarioVersion]] = relationship(
        back_populates="scenario", foreign_keys="ScenarioVersion.scenario_id",
        order_by="ScenarioVersion.number",
    )


class ScenarioVersion(Base):
    """One reviewed text of a scenario. Never changed after it is written."""

    __tablename__ = "scenario_version"
    __table_args__ = (UniqueConstraint("scenario_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenario.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The whole validated document, as loaded from its file.
    #: Deferred: every session loads its version joined, and only a few pages need this.
    content: Mapped[dict] = mapped_column(JSON, deferred=True)
    source_file: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    clinical_setting: Mapped[str] = mapped_column(String(60))
    adverse_event_type: Mapped[str] = mapped_column(String(60))
    trigger_types: Mapped[list] = mapped_column(JSON)
    risk_flags: Mapped[list] = mapped_column(JSON)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    #: Total learner places across the scenario's roles.
    role_places: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)

    scenario: Mapped[Scenario] = relationship(back_populates="versions",
                                              foreign_keys=[scenario_id])

    @property
    def label(self) -> str:
        return f"{self.title} (v{self.number})"
