"""Every model module, imported so that Alembic autogenerate sees every table."""

from simdebrief.models.audit import AuditEvent
from simdebrief.models.auth import AuthSession, LoginAttempt, RecoveryCode, ThrottleEvent
from simdebrief.models.base import Base, UTCDateTime, now_utc
from simdebrief.models.debriefs import (
    AnalysisItem,
    CareProblem,
    ContributingFactor,
    DashRating,
    Debrief,
    DebriefAmendment,
    DebriefStatus,
    LearnerFeedback,
)
from simdebrief.models.followups import (
    EventTrack,
    FollowUp,
    FollowUpChoice,
    FollowUpPlan,
    FollowUpPreference,
    FollowUpStage,
    FollowUpStatus,
    OffsetUnit,
    PlanKind,
    PreferenceState,
    TrackKind,
    TrackStatus,
)
from simdebrief.models.operations import Installation, SchedulerHeartbeat
from simdebrief.models.outbox import OutboxEmail, OutboxStatus
from simdebrief.models.scenarios import Scenario, ScenarioVersion
from simdebrief.models.sessions import (
    Attendance,
    SessionParticipant,
    SessionStatus,
    SimSession,
    session_instructor,
)
from simdebrief.models.users import Centre, Cohort, Role, Room, SupporterTier, User
from simdebrief.models.wellbeing import (
    CheckIn,
    CheckInContext,
    SupportRequest,
    SupportRequestEvent,
    SupportStatus,
)

__all__ = [
    "AnalysisItem",
    "CareProblem",
    "ContributingFactor",
    "DashRating",
    "Debrief",
    "DebriefAmendment",
    "DebriefStatus",
    "EventTrack",
    "FollowUp",
    "FollowUpChoice",
    "FollowUpPlan",
    "FollowUpPreference",
    "FollowUpStage",
    "FollowUpStatus",
    "OffsetUnit",
    "PlanKind",
    "PreferenceState",
    "TrackKind",
    "TrackStatus",
    "LearnerFeedback",
    "Attendance",
    "AuditEvent",
    "AuthSession",
    "Base",
    "Centre",
    "CheckIn",
    "CheckInContext",
    "Cohort",
    "LoginAttempt",
    "Installation",
    "RecoveryCode",
    "ThrottleEvent",
    "OutboxEmail",
    "OutboxStatus",
    "SchedulerHeartbeat",
    "Role",
    "Room",
    "Scenario",
    "ScenarioVersion",
    "SessionParticipant",
    "SessionStatus",
    "SimSession",
    "SupportRequest",
    "SupportRequestEvent",
    "SupportStatus",
    "SupporterTier",
    "UTCDateTime",
    "User",
    "now_utc",
    "session_instructor",
]
