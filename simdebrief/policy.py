"""Who may do what to which object: the one place access rules live.

Each rule is a predicate ``may_…(user, obj=None) -> bool``. Views call ``require`` (wrong
role → 403) or ``require_object`` (someone else's object → 404, so its existence stays hidden).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask_login import current_user, login_required

from simdebrief.errors import NotAllowed, NotFound
from simdebrief.models import Cohort, Role, Room, SessionStatus, SimSession, User


def _is(user: User, *roles: Role) -> bool:
    return bool(user and user.is_authenticated and user.role in roles)


def same_centre(user: User, obj) -> bool:
    return obj is not None and getattr(obj, "centre_id", None) == user.centre_id


# --- administration -----------------------------------------------------------------------


def may_administer(user: User) -> bool:
    return _is(user, Role.ADMIN)


def may_manage_user(user: User, target: User) -> bool:
    return may_administer(user) and same_centre(user, target)


def may_manage_cohort(user: User, cohort: Cohort) -> bool:
    return may_administer(user) and same_centre(user, cohort)


def may_manage_room(user: User, room: Room) -> bool:
    return may_administer(user) and same_centre(user, room)


def may_browse_audit(user: User) -> bool:
    """Admins read the audit log of their centre; nobody can change it from the app."""
    return may_administer(user)


def may_erase_account(user: User, target: User) -> bool:
    """An admin of the learner's centre, once the learner asked, and only once."""
    return (may_manage_user(user, target) and target.erasure_requested_at is not None
            and target.erased_at is None)


def may_view_outbox(user: User) -> bool:
    return may_administer(user)


def may_view_outbox_email(user: User, email) -> bool:
    return may_administer(user) and email.centre_id == user.centre_id


# --- scenarios and sessions -----------------------------------------------------------------


def may_use_scenario_library(user: User) -> bool:
    """Scenario files contain the confederate script: learners must not read them beforehand."""
    return _is(user, Role.ADMIN, Role.INSTRUCTOR)


def may_plan_sessions(user: User) -> bool:
    return _is(user, Role.ADMIN, Role.INSTRUCTOR)


def may_see_centre_calendar(user: User) -> bool:
    return _is(user, Role.ADMIN, Role.INSTRUCTOR)


def may_see_own_sessions(user: User) -> bool:
    return _is(user, Role.STUDENT)


def is_session_instructor(user: User, sim_session: SimSession) -> bool:
    return any(i.id == user.id for i in sim_session.instructors)


def may_view_session(user: User, sim_session: SimSession) -> bool:
    """Staff see every session of their centre; a learner only sessions they take part in."""
    if not same_centre(user, sim_session):
        return False
    if _is(user, Role.ADMIN, Role.INSTRUCTOR):
        return True
    if _is(user, Role.STUDENT):
        return sim_session.participant_for(user) is not None
    return False


def may_view_session_plan(user: User, sim_session: SimSession) -> bool:
    """The instructor's view: scenario details, participants and attendance."""
    return same_centre(user, sim_session) and _is(user, Role.ADMIN, Role.INSTRUCTOR)


def may_manage_session(user: User, sim_session: SimSession) -> bool:
    """Change, start or cancel: the session's own instructors and the centre's admins."""
    return same_centre(user, sim_session) and (
        may_administer(user) or (_is(user, Role.INSTRUCTOR)
                                 and is_session_instructor(user, sim_session)))


def may_edit_session(user: User, sim_session: SimSession) -> bool:
    return may_manage_session(user, sim_session) and \
        sim_session.status is SessionStatus.SCHEDULED


# --- debriefs ---------------------------------------------------------------------------------


def may_run_debrief(user: User, sim_session: SimSession) -> bool:
    """The debrief, its notes and every learner's feedback: the session's instructors only."""
    return same_centre(user, sim_session) and _is(user, Role.INSTRUCTOR, Role.ADMIN) and \
        is_session_instructor(user, sim_session)


def may_edit_debrief(user: User, sim_session: SimSession, debrief) -> bool:
    """The lead and co-debriefers write the debrief; an observer only reads it."""
    from simdebrief.models import DebriefRole

    return may_run_debrief(user, sim_session) and (
        debrief is None or debrief.role_of(user.id) is not DebriefRole.OBSERVER)


def may_assign_debrief_roles(user: User, sim_session: SimSession, debrief) -> bool:
    """Only the lead debriefer hands out the roles."""
    from simdebrief.models import DebriefRole

    return may_run_debrief(user, sim_session) and debrief is not None and \
        debrief.role_of(user.id) is DebriefRole.LEAD


def may_read_own_debrief(user: User, sim_session: SimSession, debrief) -> bool:
    """A learner who attended reads the finalised debrief's group part and their own feedback."""
    from simdebrief.models import Attendance

    participant = sim_session.participant_for(user) if _is(user, Role.STUDENT) else None
    return (participant is not None and participant.attendance is Attendance.PRESENT
            and debrief is not None and debrief.is_final)


def may_rate_debrief(user: User, sim_session: SimSession, debrief) -> bool:
    return may_read_own_debrief(user, sim_session, debrief)


# --- enforcement ----------------------------------------------------------------------------


def require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()


def require_object(obj, allowed: Callable[[object], bool]):
    """Return ``obj`` if the rule allows it, else NotFound: missing and forbidden look alike."""
    if obj is None or not allowed(obj):
        raise NotFound()
    return obj


def role_required(rule: Callable[[User], bool]):
    """View decorator: login required, then the role rule (403 when it fails)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            require(rule(current_user))
            return view(*args, **kwargs)

        wrapped.access_rule = rule
        return wrapped

    return decorator


# --- check-ins and support ------------------------------------------------------------------
# Emotional data is the learner's: instructors and admins never pass these rules, whatever
# their role elsewhere; they see group figures only, through the services.

#: Sessions a learner can check in for: under way (the debrief) or finished.
CHECK_IN_STATUSES = (SessionStatus.IN_PROGRESS, SessionStatus.DEBRIEFED)


def may_keep_checkins(user: User) -> bool:
    """The learner's own check-in pages."""
    return _is(user, Role.STUDENT)


def may_check_in(user: User, sim_session: SimSession) -> bool:
    """A learner who was there (attendance present), once the session is under way."""
    if not (may_keep_checkins(user) and same_centre(user, sim_session)):
        return False
    participant = sim_session.participant_for(user)
    return participant is not None and participant.attendance == "present" and \
        sim_session.status in CHECK_IN_STATUSES


def may_view_checkin(user: User, checkin) -> bool:
    """Only the learner who wrote it; a supporter sees a check-in only through a request."""
    return may_keep_checkins(user) and checkin is not None and checkin.user_id == user.id


def may_ask_for_support(user: User) -> bool:
    return _is(user, Role.STUDENT)


def may_work_support_queue(user: User) -> bool:
    return _is(user, Role.SUPPORTER) and user.supporter_tier is not None


def may_view_support_request(user: User, request) -> bool:
    """The learner who sent it; the supporter it is assigned to (also once closed); and, while
    nobody has it, the centre's supporters of its tier. A colleague's case stays theirs."""
    if request is None or not user or not user.is_authenticated:
        return False
    if _is(user, Role.STUDENT):
        return request.learner_id == user.id
    if not (may_work_support_queue(user) and same_centre(user, request)):
        return False
    if request.assignee_id is not None:
        return request.assignee_id == user.id
    return request.tier == user.supporter_tier and request.status != "closed"


def may_work_support_request(user: User, request) -> bool:
    """Take, record contact, refer or close: the supporters who may view it."""
    return may_work_support_queue(user) and may_view_support_request(user, request)


def may_withdraw_support_request(user: User, request) -> bool:
    return _is(user, Role.STUDENT) and request.learner_id == user.id and \
        request.status == "open"


# --- reports --------------------------------------------------------------------------------
# A learner's feedback document is for that learner and the session's instructors, and only
# once the debrief is finalised; anyone else gets "not found", other learners included.


def may_read_learner_report(user: User, sim_session: SimSession, debrief,
                            learner_id: int) -> bool:
    """The learner (who attended) themself, or an instructor of the session."""
    from simdebrief.models import Attendance

    if debrief is None or not debrief.is_final or not same_centre(user, sim_session):
        return False
    participant = next((p for p in sim_session.participants if p.user_id == learner_id), None)
    if participant is None or participant.attendance is not Attendance.PRESENT:
        return False
    if user.id == learner_id:
        return _is(user, Role.STUDENT)
    return may_run_debrief(user, sim_session)


def may_include_own_checkin(user: User, learner_id: int) -> bool:
    """Check-in data goes into a document only when the learner downloads it themself."""
    return _is(user, Role.STUDENT) and user.id == learner_id


def may_read_session_summary(user: User, sim_session: SimSession, debrief) -> bool:
    """The instructors' summary of a finalised debrief: the session's instructors only."""
    return debrief is not None and debrief.is_final and may_run_debrief(user, sim_session)


def may_read_own_progress(user: User) -> bool:
    """The progress report shows a learner's own check-ins: the learner alone."""
    return may_keep_checkins(user)


# --- follow-ups ---
# A learner's stages, answers, choices and tracks are theirs alone. Instructors see counts
# per stage for the sessions they teach; admins see plans and centre figures (aggregates,
# distress only from the minimum group size). Nobody else ever sees a learner's answers.


def may_follow_up(user: User) -> bool:
    """The learner's own follow-up pages: timeline, pause/resume/stop, tracks."""
    return _is(user, Role.STUDENT)


def may_answer_followup(user: User, followup) -> bool:
    return may_follow_up(user) and followup is not None and followup.user_id == user.id


def may_view_track(user: User, track) -> bool:
    return may_follow_up(user) and track is not None and track.user_id == user.id


def may_see_followup_completion(user: User) -> bool:
    """Completion per stage for the sessions one teaches."""
    return _is(user, Role.INSTRUCTOR, Role.ADMIN)


def may_see_session_followups(user: User, sim_session: SimSession) -> bool:
    return may_see_followup_completion(user) and same_centre(user, sim_session) and \
        is_session_instructor(user, sim_session)


def may_manage_followup_plans(user: User) -> bool:
    return may_administer(user)


def may_edit_followup_plan(user: User, plan) -> bool:
    return may_manage_followup_plans(user) and same_centre(user, plan)


def may_view_followup_analytics(user: User) -> bool:
    return may_administer(user)
