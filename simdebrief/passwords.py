"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from simdebrief.languages import gettext as _

MIN_LENGTH = 10
MAX_LENGTH = 256

#: A short list of passwords that appear at the top of every breach corpus.
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password12", "password123", "passw0rd", "1234567890", "123456789",
    "12345678", "qwertyuiop", "qwerty1234", "qwerty12345", "iloveyou12", "letmein123",
    "welcome123", "admin12345", "abc1234567", "1q2w3e4r5t", "1qaz2wsx3edc", "simulation",
    "simulation1", "sommer2024", "sommer2025", "sommer2026", "vinter2025", "vinter2026",
    "velkommen1", "velkommen123", "hejmeddig1", "kodeord123", "adgangskode", "changeme123",
    "trustno1234", "football12", "monkey1234", "dragon1234",
})

_hasher = PasswordHasher()


def configure(profile: str) -> None:
    """Tests use argon2's cheapest profile; everything else the library's RFC 9106 default."""
    global _hasher
    if profile == "test":
        _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    else:
        _hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _hasher.hash(password)  # spend the same time as a real check, so timing says nothing
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Why a new password is not acceptable, in words for the person choosing it."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(count)d characters.", count=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(count)d characters.", count=MAX_LENGTH))
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append(_("This password is too easy to guess. A few unrelated words work well."))
    local_part = email.split("@")[0].lower()
    if (local_part and len(local_part) >= 4 and local_part in lowered) or (
        name and name.strip().lower() == lowered
    ):
        problems.append(_("Do not use your name or email address in the password."))
    if "\x00" in password:
        problems.append(_("The password contains a character that is not allowed."))
    return problems
