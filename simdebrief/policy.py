"""Who may do what to which object: the one place access rules live.

Each rule is a predicate ``may_…(user, obj=None) -> bool``. Views call ``require`` (wrong
role → 403) or ``require_object`` (someone else's object → 404, so its existence stays hidden).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask_login import current_user, login_required

from simdebrief.errors import NotAllowed, NotFound
from simdebrief.models import Cohort, Role, Room, User


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


def may_view_outbox(user: User) -> bool:
    return may_administer(user)


def may_view_outbox_email(user: User, email) -> bool:
    return may_administer(user) and email.centre_id == user.centre_id


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
