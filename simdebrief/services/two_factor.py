"""The second factor: TOTP codes (RFC 6238, 30-second steps) and single-use recovery codes.

Required for admins, instructors and supporters when their centre says so (the default);
optional for students. A login session records whether its second factor has passed.

Recovery codes are stored as HMAC-SHA256 of the code keyed with a key derived from the
app's secret key, not with argon2: each code carries 50 random bits, so a slow hash adds
nothing against guessing (the keyed hash cannot even be computed without the secret key),
while checking a typed code against ten argon2 hashes would cost ten deliberate slowdowns
on every use.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import AuthSession, RecoveryCode, Role, User
from simdebrief.services import audit
from simdebrief.services.accounts import RequestLimit, revoke_all_sessions

STEP_SECONDS = 30
#: Codes of the neighbouring steps are accepted too, for clocks a little apart.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ISSUER = "SimDebrief"
#: Wrong codes tolerated per account (and per address) before a pause.
CODE_LIMIT = RequestLimit(per_account=5, per_address=20, window=timedelta(minutes=5))


def is_required(user: User) -> bool:
    return user.role is not Role.STUDENT and user.centre.require_two_factor


def needs_second_factor(user: User) -> bool:
    """Whether a new login of this user must pass a code (or enrol) before anything else."""
    return user.has_two_factor or is_required(user)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri: str, title: str) -> str:
    """The enrolment QR code as inline SVG (no image request, nothing leaves the server)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, title=title, dark="#000",
                                                 light="#fff")


def _normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = _normalise_code(code)
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def check_code(user: User, code: str, now: datetime) -> bool:
    """A current TOTP code, never one whose step was already used (no replay)."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def _code_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"simdebrief.recovery-code:" + secret_key.encode()).digest()


def _hash_recovery_code(user_id: int, code: str, secret_key: str) -> str:
    message = f"{user_id}:{_normalise_code(code)}".encode()
    return hmac.new(_code_key(secret_key), message, hashlib.sha256).hexdigest()


def new_recovery_codes(session: Session, user: User, *, now: datetime,
                       secret_key: str) -> list[str]:
    """Replace the user's recovery codes with ten new ones, returned once in plain text."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _number in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _char in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all(RecoveryCode(user_id=user.id, created_at=now,
                                 code_hash=_hash_recovery_code(user.id, code, secret_key))
                    for code in codes)
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str, *, now: datetime,
                      secret_key: str) -> bool:
    wanted = _hash_recovery_code(user.id, code, secret_key)
    for stored in session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))):
        if hmac.compare_digest(stored.code_hash, wanted):
            stored.used_at = now
            audit.record(session, action="two_factor.recovery_code_used", actor=user, now=now)
            return True
    return False


def recovery_codes_left(session: Session, user: User) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def enrol(session: Session, user: User, *, secret: str, code: str, now: datetime,
          secret_key: str) -> list[str]:
    """Turn the second factor on once the app shows a matching code; returns recovery codes."""
    step = _matching_step(secret, code, now)
    if step is None:
        raise InvalidInput({"code": [_(
            "This code does not match. Check that your phone's time is right and type the "
            "six digits the app shows now.")]})
    user.totp_secret = secret
    user.totp_enabled_at = now
    user.totp_last_step = step
    audit.record(session, action="two_factor.enrolled", actor=user, now=now)
    return new_recovery_codes(session, user, now=now, secret_key=secret_key)


def _clear(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable(session: Session, user: User, *, code: str, now: datetime) -> None:
    """A student (or anyone whose centre does not require it) turns the second factor off."""
    if is_required(user):
        raise InvalidInput(_("Your centre requires a second factor for your role."))
    if not check_code(user, code, now):
        raise InvalidInput({"code": [_("This code does not match.")]})
    _clear(session, user)
    audit.record(session, action="two_factor.disabled", actor=user, now=now)


def reset_by_admin(session: Session, *, actor: User, user: User, now: datetime) -> None:
    """For a lost phone and lost codes: the person enrols again at their next login."""
    _clear(session, user)
    revoke_all_sessions(session, user)
    audit.record(session, action="two_factor.reset", actor=actor, object_type="user",
                 object_id=user.id, now=now)


def mark_passed(session: Session, session_id: str | None) -> None:
    auth_session = session.get(AuthSession, session_id) if session_id else None
    if auth_session is not None:
        auth_session.second_factor_passed = True
