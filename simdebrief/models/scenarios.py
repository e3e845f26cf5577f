"""Scenarios, synced from the reviewed files in scenarios/*.yaml, with every version kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, func, inspect
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship
from sqlalchemy.sql.elements import ColumnElement

from simdebrief.models.base import Base, UTCDateTime
from simdebrief.scenario_translations import (
    SOURCE_LANGUAGE,
    base_language,
    current_language,
    localized,
    localized_title,
)


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
    #: The whole validated document, as loaded from its file, with its ``translations``.
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
    #: The title in one language, read by SQL (``with_expression(…, title_expression(lang))``)
    #: by lists that leave the document unloaded.
    loaded_title: Mapped[str | None] = query_expression()

    @classmethod
    def title_expression(cls, language: str) -> ColumnElement[str]:
        """The title in ``language`` (English where it has none), computed by the database."""
        language = base_language(language)
        if language == SOURCE_LANGUAGE:
            return cls.title
        translated = cls.content[("translations", language, "title")].as_string()
        return func.coalesce(func.nullif(func.trim(translated), ""), cls.title)

    def title_in(self, language: str) -> str:
        if base_language(language) == SOURCE_LANGUAGE:
            return self.title
        if "content" in inspect(self).unloaded and self.loaded_title is not None:
            return self.loaded_title
        return localized_title(self.content, language, self.title)

    @property
    def display_title(self) -> str:
        """The title in the language of the request or email being rendered."""
        return self.title_in(current_language())

    def localized_content(self, language: str | None = None) -> dict[str, Any]:
        """The document in ``language`` (default: the current one), English where untranslated."""
        return localized(self.content or {}, language or current_language())

    @property
    def label(self) -> str:
        return f"{self.display_title} (v{self.number})"
