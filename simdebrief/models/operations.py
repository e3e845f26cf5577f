"""Rows about the installation itself rather than the centre's work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from simdebrief.models.base import Base, UTCDateTime


class Installation(Base):
    """One row, made by the first migration: a random id that tells this installation's
    emails apart from every other's (it is part of each ``Message-ID``)."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchedulerHeartbeat(Base):
    """When each scheduler process last ticked, so /healthz can tell whether one is alive."""

    __tablename__ = "scheduler_heartbeat"

    #: host:pid of the scheduler process.
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ticks: Mapped[int] = mapped_column(Integer, default=0)
