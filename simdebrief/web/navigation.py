"""Role-aware navigation and display names used by every template."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import g, request, url_for
from flask_login import current_user

from simdebrief import policy
from simdebrief.languages import lazy_gettext as _l
from simdebrief.languages import locale_in_force
from simdebrief.models import Attendance, OutboxStatus, Role, SessionStatus, SupporterTier, User
from simdebrief.services.group_figures import count_text
from simdebrief.services.learner_sessions import neutral_title
from simdebrief.timefmt import local_text, span_text

ROLE_NAMES = {
    Role.ADMIN: _l("Administrator"),
    Role.INSTRUCTOR: _l("Instructor"),
    Role.STUDENT: _l("Student"),
    Role.SUPPORTER: _l("Supporter"),
}
TIER_NAMES = {SupporterTier.PEER: _l("peer supporter"),
              SupporterTier.PROFESSIONAL: _l("professional supporter")}
#: What each tier of supporter is, for learners choosing whom to ask.
TIER_HINTS = {
    SupporterTier.PEER.value: _l("A trained colleague who listens in confidence. Often a good "
                                 "first step."),
    SupporterTier.PROFESSIONAL.value: _l("A psychologist or counsellor, for when it weighs "
                                         "heavily, keeps coming back or does not ease."),
}
OUTBOX_STATUS_NAMES = {
    OutboxStatus.PENDING: _l("Waiting"),
    OutboxStatus.SENDING: _l("Sending"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.LOGGED: _l("Logged"),
    OutboxStatus.FAILED: _l("Failed"),
    OutboxStatus.REJECTED: _l("Refused by the mail server"),
    OutboxStatus.CANCELLED: _l("Cancelled"),
}


SESSION_STATUS_NAMES = {
    SessionStatus.SCHEDULED: _l("Scheduled"),
    SessionStatus.IN_PROGRESS: _l("In progress"),
    SessionStatus.DEBRIEFED: _l("Debriefed"),
    SessionStatus.CANCELLED: _l("Cancelled"),
}
ATTENDANCE_NAMES = {
    Attendance.EXPECTED: _l("Expected"),
    Attendance.PRESENT: _l("Present"),
    Attendance.ABSENT: _l("Absent"),
}


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool
    #: A count shown next to the label (requests waiting to be taken), or None.
    count: int | None = None


def _count_for(target: str, user: User) -> int | None:
    if target == "support.queue":
        counted = g.get("support_waiting_counted")
        if counted is not None:
            return counted
        from simdebrief.extensions import db
        from simdebrief.services import support_triage

        return support_triage.waiting_count(db.session, user)
    return None


def waiting_counted(count: int) -> None:
    """A page that has counted the reader's queue's waiting requests (the supporter's home,
    through ``dashboards.request_counts``) hands the count to the navigation, which would
    otherwise ask the database the same question again."""
    g.support_waiting_counted = count


def role_name(role: Role) -> str:
    return str(ROLE_NAMES[role])


def role_label(user: User) -> str:
    if user.role is Role.SUPPORTER and user.supporter_tier:
        return f"{ROLE_NAMES[user.role]}, {TIER_NAMES[user.supporter_tier]}"
    return str(ROLE_NAMES[user.role])


def outbox_status(status: OutboxStatus) -> str:
    return str(OUTBOX_STATUS_NAMES[status])


#: (label, endpoint, rule, endpoint prefix that marks the item as current)
NAVIGATION = [
    (_l("Sessions"), "sessions.index", policy.may_plan_sessions, "sessions."),
    (_l("Calendar"), "calendar.week", policy.may_see_centre_calendar, "calendar.week"),
    (_l("Scenarios"), "scenarios.index", policy.may_use_scenario_library, "scenarios."),
    (_l("Follow-ups"), "followups.completion", policy.may_see_followup_completion,
     "followups.completion"),
    (_l("Follow-up plans"), "followups.plans", policy.may_manage_followup_plans,
     "followups.plans"),
    (_l("Follow-up overview"), "followups.analytics", policy.may_view_followup_analytics,
     "followups.analytics"),
    (_l("My sessions"), "calendar.my_sessions", policy.may_see_own_sessions, "calendar.my"),
    (_l("My follow-ups"), "followups.mine", policy.may_follow_up, "followups.mine"),
    (_l("My check-ins"), "learner.check_ins", policy.may_keep_checkins, "learner.check_in"),
    (_l("My progress"), "reports.progress", policy.may_read_own_progress, "reports.progress"),
    (_l("Talk to someone"), "learner.support_requests", policy.may_keep_checkins,
     "learner.support"),
    (_l("My data"), "learner.my_data", policy.may_keep_checkins, "learner.my_data"),
    (_l("Conversation requests"), "support.queue", policy.may_work_support_queue, "support."),
    (_l("People"), "admin.users", policy.may_administer, "admin.user"),
    (_l("Cohorts"), "admin.cohorts", policy.may_administer, "admin.cohort"),
    (_l("Rooms"), "admin.rooms", policy.may_administer, "admin.room"),
    (_l("Centre"), "admin.centre_settings", policy.may_administer, "admin.centre"),
    (_l("Outgoing email"), "admin.outbox", policy.may_view_outbox, "admin.outbox"),
    (_l("Erasure requests"), "admin.erasure_requests", policy.may_administer,
     "admin.erasure"),
    (_l("Audit log"), "admin.audit_log", policy.may_browse_audit, "admin.audit"),
]


def nav_items() -> list[NavItem]:
    endpoint = request.endpoint or ""
    # The user itself, not the login proxy: each rule reads it several times.
    user = current_user._get_current_object()
    items = []
    for (_label, target, rule, prefix), label, url in zip(
            NAVIGATION, _labels(str(locale_in_force())), _links(request.script_root), strict=True):
        if rule(user):
            items.append(NavItem(label, url, endpoint == target or endpoint.startswith(prefix),
                                 _count_for(target, user)))
    return items


@functools.lru_cache(maxsize=16)
def _labels(locale: str) -> tuple[str, ...]:
    """The items' labels in a language, translated once per process rather than on every
    page (the layout shows up to a dozen)."""
    return tuple(str(label) for label, _target, _rule, _prefix in NAVIGATION)


@functools.lru_cache(maxsize=16)
def _links(script_root: str) -> tuple[str, ...]:
    """The items' addresses, built once per mount point rather than on every page."""
    return tuple(url_for(target) for _label, target, _rule, _prefix in NAVIGATION)


def session_status(status: SessionStatus) -> str:
    return str(SESSION_STATUS_NAMES[status])


def attendance_label(attendance: Attendance) -> str:
    return str(ATTENDANCE_NAMES[attendance])


def template_helpers() -> dict:
    return {"nav_items": nav_items, "role_label": role_label, "role_name": role_name,
            "outbox_status": outbox_status, "session_status": session_status,
            "attendance_label": attendance_label, "local_text": local_text,
            "span_text": span_text, "count_text": count_text,
            # How a learner's pages name a session: by date, never by the scenario.
            "session_name": neutral_title}
