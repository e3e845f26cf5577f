"""Every model module, imported so that Alembic autogenerate sees every table."""

from simdebrief.models.audit import AuditEvent
from simdebrief.models.auth import AuthSession, LoginAttempt
from simdebrief.models.base import Base, UTCDateTime, now_utc
from simdebrief.models.outbox import OutboxEmail, OutboxStatus
from simdebrief.models.users import Centre, Cohort, Role, Room, SupporterTier, User

__all__ = [
    "AuditEvent",
    "AuthSession",
    "Base",
    "Centre",
    "Cohort",
    "LoginAttempt",
    "OutboxEmail",
    "OutboxStatus",
    "Role",
    "Room",
    "SupporterTier",
    "UTCDateTime",
    "User",
    "now_utc",
]
