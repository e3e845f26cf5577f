"""People and their credentials: creation, invitations, passwords, logins and sessions."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, contains_eager

from simdebrief import passwords
from simdebrief.errors import (
    InvalidInput,
    LinkExpired,
    LinkInvalid,
    LoginFailed,
    LoginThrottled,
    RequestThrottled,
)
from simdebrief.languages import gettext as _
from simdebrief.models import (
    AuthSession,
    Centre,
    LoginAttempt,
    Role,
    SupporterTier,
    ThrottleEvent,
    User,
)
from simdebrief.models.users import new_security_stamp
from simdebrief.services import audit

INVITE = "invite"
RESET = "reset"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    role: Role
    supporter_tier: SupporterTier | None = None


def create_user(
    session: Session,
    *,
    centre: Centre,
    data: NewUser,
    now: datetime,
    password: str | None = None,
) -> User:
    """Create an account; with no password the person sets one through an invitation.

    The account starts in the centre's default language; its owner can change it.
    """
    email = normalise_email(data.email)
    errors: dict[str, list[str]] = {}
    if find_user_by_email(session, email) is not None:
        errors["email"] = [_("An account with this email address already exists.")]
    if data.role is Role.SUPPORTER and data.supporter_tier is None:
        errors["supporter_tier"] = [_("Choose whether the supporter is a peer or a professional.")]
    if password is not None:
        problems = passwords.password_problems(password, email=email, name=data.name)
        if problems:
            errors["password"] = problems
    if errors:
        raise InvalidInput(errors)
    user = User(
        centre=centre,
        email=email,
        name=data.name.strip(),
        role=data.role,
        supporter_tier=data.supporter_tier if data.role is Role.SUPPORTER else None,
        created_at=now,
        password_hash=passwords.hash_password(password) if password is not None else None,
        locale=centre.default_locale,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    problems = passwords.password_problems(password, email=user.email, name=user.name)
    if problems:
        raise InvalidInput({"password": problems})
    user.password_hash = passwords.hash_password(password)
    user.security_stamp = new_security_stamp()


def change_role(
    session: Session, *, actor: User, user: User, role: Role,
    supporter_tier: SupporterTier | None, now: datetime,
) -> None:
    if user.id == actor.id and role is not Role.ADMIN:
        raise InvalidInput({"role": [_("You cannot remove your own administrator role.")]})
    if role is Role.SUPPORTER and supporter_tier is None:
        raise InvalidInput(
            {"supporter_tier": [_("Choose whether the supporter is a peer or a professional.")]}
        )
    before = user.role.value
    user.role = role
    user.supporter_tier = supporter_tier if role is Role.SUPPORTER else None
    audit.record(session, action="user.role_changed", actor=actor, object_type="user",
                 object_id=user.id, now=now, detail=f"{before} -> {role.value}")


def set_active(session: Session, *, actor: User, user: User, active: bool, now: datetime) -> None:
    if user.id == actor.id and not active:
        raise InvalidInput(_("You cannot deactivate your own account."))
    if active and user.erased_at is not None:
        raise InvalidInput(_("This account was erased at the person's request and cannot be "
                             "used again."))
    user.is_active_account = active
    if not active:
        revoke_all_sessions(session, user)
    audit.record(session, action="user.activated" if active else "user.deactivated",
                 actor=actor, object_type="user", object_id=user.id, now=now)


# --- signed links -------------------------------------------------------------------------


def _link_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="simdebrief.account-link")


def make_account_link_token(
    user: User, *, purpose: str, secret_key: str, now: datetime, max_age: timedelta
) -> str:
    """A token for one purpose that works once: it dies when the user's security stamp changes."""
    return account_link_token(user.id, purpose=purpose, stamp=user.security_stamp,
                              expires=int((now + max_age).timestamp()), secret_key=secret_key)


def account_link_ref(user: User, *, purpose: str, now: datetime, max_age: timedelta) -> str:
    """What the outbox stores instead of the token: enough to sign it when the email goes,
    useless without the secret key. The stamp in it is the one of the moment of asking, so a
    password set in between still kills the link."""
    return f"{purpose}:{user.id}:{user.security_stamp}:{int((now + max_age).timestamp())}"


def token_for_link_ref(link_ref: str, *, secret_key: str) -> str:
    purpose, user_id, stamp, expires = link_ref.split(":")
    return account_link_token(int(user_id), purpose=purpose, stamp=stamp,
                              expires=int(expires), secret_key=secret_key)


def account_link_token(user_id: int, *, purpose: str, stamp: str, expires: int,
                       secret_key: str) -> str:
    return _link_serializer(secret_key).dumps(
        {"u": user_id, "p": purpose, "s": stamp, "e": expires})


def read_account_link_token(
    session: Session, token: str, *, purpose: str, secret_key: str, now: datetime
) -> User:
    try:
        payload = _link_serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise LinkInvalid() from exc
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        raise LinkInvalid()
    user = session.get(User, payload.get("u"))
    if user is None or not user.is_active_account or user.security_stamp != payload.get("s"):
        raise LinkInvalid()
    if now.timestamp() > payload.get("e", 0):
        raise LinkExpired()
    return user


# --- logins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginLimits:
    """How many failed logins are tolerated.

    Failures count per (account, address) pair, so one person's typos never block another
    person's correct password, even behind the same NAT or proxy. An address has a higher
    ceiling across all accounts (password spraying). Nothing locks an account as such: a
    pair that keeps failing waits twice as long after each further ``per_pair`` failures,
    so strangers guessing at an account slow themselves down, not its owner.
    """

    per_pair_per_minute: int = 10
    per_address_per_minute: int = 50
    #: Failures of a pair are remembered this long for the growing delay.
    memory: timedelta = timedelta(hours=24)
    max_delay: timedelta = timedelta(hours=1)


def _failures_since(session: Session, since: datetime, *conditions) -> list[datetime]:
    return list(session.scalars(
        select(LoginAttempt.attempted_at).where(LoginAttempt.attempted_at > since, *conditions)
        .order_by(LoginAttempt.attempted_at.desc())
    ))


def login_delay(
    session: Session, *, email: str, ip_address: str, now: datetime, limits: LoginLimits
) -> timedelta | None:
    """How long this address must still wait before trying this account, or None."""
    per_address = session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.ip_address == ip_address,
            LoginAttempt.attempted_at > now - timedelta(minutes=1))
    ) or 0
    if per_address >= limits.per_address_per_minute:
        return timedelta(minutes=1)
    pair = _failures_since(session, now - limits.memory, LoginAttempt.email == email,
                           LoginAttempt.ip_address == ip_address)
    batches = len(pair) // limits.per_pair_per_minute
    if batches == 0:
        return None
    delay = min(timedelta(minutes=1) * 2 ** (batches - 1), limits.max_delay)
    remaining = pair[0] + delay - now
    return remaining if remaining > timedelta(0) else None


def authenticate(
    session: Session, *, email: str, password: str, ip_address: str, now: datetime,
    limits: LoginLimits | None = None,
) -> User:
    """Check credentials, counting failures per account and address pair in the database.

    The count lives in the database so that it holds across several app instances.
    """
    limits = limits or LoginLimits()
    email = normalise_email(email)
    ip_address = ip_address[:64]
    delay = login_delay(session, email=email, ip_address=ip_address, now=now, limits=limits)
    if delay is not None:
        audit.record(session, action="login.throttled", outcome="refused", now=now,
                     ip_address=ip_address, detail=f"email={email}")
        raise LoginThrottled(retry_after=delay)
    user = find_user_by_email(session, email)
    valid = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active_account:
        session.add(LoginAttempt(email=email, ip_address=ip_address, attempted_at=now))
        audit.record(session, action="login.failed", outcome="refused", now=now,
                     actor=user, ip_address=ip_address)
        session.flush()
        raise LoginFailed()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email,
                                               LoginAttempt.ip_address == ip_address))
    return user


# --- reset and invitation requests ----------------------------------------------------------


@dataclass(frozen=True)
class RequestLimit:
    """At most ``per_account`` requests about one address and ``per_address`` requests from
    one client address within ``window``."""

    per_account: int
    per_address: int
    window: timedelta = timedelta(hours=1)


RESET_LIMIT = RequestLimit(per_account=3, per_address=10)
INVITE_LIMIT = RequestLimit(per_account=3, per_address=60)


def count_request(
    session: Session, *, kind: str, account: str, ip_address: str, now: datetime,
    limit: RequestLimit,
) -> None:
    """Record a reset or invitation request, or refuse it when over either limit.

    The account is the normalised email asked about, existing or not, so that a refusal
    says nothing about whether the account exists.
    """
    account, ip_address = normalise_email(account)[:254], ip_address[:64]
    since = now - limit.window

    def recent(*conditions) -> int:
        return session.scalar(select(func.count(ThrottleEvent.id)).where(
            ThrottleEvent.kind == kind, ThrottleEvent.at > since, *conditions)) or 0

    if (recent(ThrottleEvent.account == account) >= limit.per_account
            or recent(ThrottleEvent.ip_address == ip_address) >= limit.per_address):
        audit.record(session, action=f"{kind}.throttled", outcome="refused", now=now,
                     ip_address=ip_address)
        raise RequestThrottled(retry_after=limit.window)
    session.add(ThrottleEvent(kind=kind, account=account, ip_address=ip_address, at=now))
    session.flush()


def forget_old_throttling(session: Session, now: datetime,
                          limits: LoginLimits | None = None) -> dict[str, int]:
    """Delete failed logins and counted requests that no limit looks at any more.

    Failed logins are remembered for the growing delay (24 hours), requests for the longest
    request window; beyond that they only make the tables grow under an attack. (The
    audit log keeps its own record of refused logins.)"""
    limits = limits or LoginLimits()
    window = max(RESET_LIMIT.window, INVITE_LIMIT.window)
    logins = session.execute(
        delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - limits.memory)
        .execution_options(synchronize_session=False)).rowcount
    requests = session.execute(
        delete(ThrottleEvent).where(ThrottleEvent.at <= now - window)
        .execution_options(synchronize_session=False)).rowcount
    return {"login_attempts": logins, "throttle_events": requests}


def clear_requests(session: Session, *, kind: str, account: str) -> None:
    """Forget an account's counted requests of one kind (after a code finally worked)."""
    session.execute(delete(ThrottleEvent).where(
        ThrottleEvent.kind == kind, ThrottleEvent.account == normalise_email(account)[:254]))


def start_session(
    session: Session, *, user: User, ip_address: str, now: datetime,
    second_factor_passed: bool = True,
) -> AuthSession:
    """A fresh random id at every login, so a session id seen before login is worthless.

    With ``second_factor_passed`` False the session may only reach the code pages.
    """
    auth_session = AuthSession(
        second_factor_passed=second_factor_passed,
        id=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
        user=user,
        created_at=now,
        last_seen_at=now,
        ip_address=ip_address[:64],
    )
    session.add(auth_session)
    user.last_login_at = now
    audit.record(session, action="login.succeeded", actor=user, now=now, ip_address=ip_address)
    session.flush()
    user.auth_session_id = auth_session.id
    user.second_factor_passed = second_factor_passed
    return auth_session


@functools.cache
def _session_with_user():
    """Every page asks this, so it is built once: building it cost about as much as the
    login check's whole query. The session's id comes as a bound parameter.

    The user and the centre are joined by hand and read into the relationships
    (``contains_eager``): ``joinedload`` wrote the same joins with eager loaders of its own,
    about a sixth of the query's cost, on every request."""
    return (select(AuthSession)
            .join(AuthSession.user).join(User.centre, isouter=True)
            .where(AuthSession.id == bindparam("session_id"))
            .options(contains_eager(AuthSession.user).contains_eager(User.centre)))


def resume_session(
    session: Session, *, session_id: str, now: datetime, idle: timedelta, absolute: timedelta
) -> User | None:
    auth_session = session.scalars(_session_with_user(), {"session_id": session_id}).first()
    if auth_session is None or auth_session.revoked:
        return None
    if now - auth_session.last_seen_at > idle or now - auth_session.created_at > absolute:
        auth_session.revoked = True
        return None
    user = auth_session.user
    if not user.is_active_account:
        return None
    # Touch at most once a minute, so reading pages does not turn every request into a write.
    if now - auth_session.last_seen_at > timedelta(minutes=1):
        auth_session.last_seen_at = now
    user.auth_session_id = auth_session.id
    user.second_factor_passed = auth_session.second_factor_passed
    return user


def end_session(session: Session, session_id: str | None) -> None:
    if session_id:
        auth_session = session.get(AuthSession, session_id)
        if auth_session is not None:
            auth_session.revoked = True


def revoke_all_sessions(session: Session, user: User) -> None:
    for auth_session in session.scalars(
        select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked.is_(False))
    ):
        auth_session.revoked = True
