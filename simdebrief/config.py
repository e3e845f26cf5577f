"""Settings from environment variables, in one place.

Precedence: built-in defaults, then ``SIMDEBRIEF_*`` environment variables, then the
mapping passed to ``create_app(config=...)`` (tests). ``validate_config`` refuses to start a
production instance with unsafe settings.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simdebrief.crypto import KeyRing, KeyRingError

ENV_PREFIX = "SIMDEBRIEF_"


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says which variable to fix."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, got {value!r}") from exc


def development_secret_key(instance_path: Path) -> str:
    """A key generated once per checkout and kept in instance/, so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_settings(instance_path: Path) -> dict:
    """Read every setting from the environment, with safe defaults for development."""
    env = _env("ENV", "development")
    database_url = _env("DATABASE_URL", f"sqlite:///{instance_path / 'simdebrief.sqlite3'}")
    secure_cookies = _env_bool("SECURE_COOKIES", env == "production")
    return {
        "SIMDEBRIEF_ENV": env,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": _env("SECRET_KEY"),
        "SIMDEBRIEF_TIMEZONE": _env("TIMEZONE", "Europe/Copenhagen"),
        "SIMDEBRIEF_SMTP_HOST": _env("SMTP_HOST"),
        "SIMDEBRIEF_SMTP_PORT": _env_int("SMTP_PORT", 25),
        "SIMDEBRIEF_SMTP_USERNAME": _env("SMTP_USERNAME"),
        "SIMDEBRIEF_SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SIMDEBRIEF_SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "SIMDEBRIEF_SMTP_TIMEOUT": _env_int("SMTP_TIMEOUT", 20),
        # A sender's hold on the emails it claimed (renewed while it sends) and how long one
        # relay run may send before it gives the rest back for the next tick.
        "SIMDEBRIEF_OUTBOX_LEASE_SECONDS": _env_int("OUTBOX_LEASE_SECONDS", 300),
        "SIMDEBRIEF_OUTBOX_BUDGET_SECONDS": _env_int("OUTBOX_BUDGET_SECONDS", 120),
        # After this many connection failures in a row, rest the mail server this long.
        "SIMDEBRIEF_SMTP_BREAKER_FAILURES": _env_int("SMTP_BREAKER_FAILURES", 5),
        "SIMDEBRIEF_SMTP_BREAKER_SECONDS": _env_int("SMTP_BREAKER_SECONDS", 120),
        "SIMDEBRIEF_MAIL_FROM": _env("MAIL_FROM", "SimDebrief <no-reply@simdebrief.localhost>"),
        "SIMDEBRIEF_BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000"),
        # Unset: `flask serve` points links at the host and port it serves on.
        "SIMDEBRIEF_BASE_URL_FROM_SERVER": _env("BASE_URL") is None,
        "SIMDEBRIEF_SCHEDULER": _env_bool("SCHEDULER", True),
        "SIMDEBRIEF_CHECKIN_KEYS": _env("CHECKIN_KEYS"),
        "SIMDEBRIEF_LOGIN_LIMIT_PER_MINUTE": _env_int("LOGIN_LIMIT_PER_MINUTE", 10),
        "SIMDEBRIEF_LOGIN_ADDRESS_LIMIT_PER_MINUTE": _env_int("LOGIN_ADDRESS_LIMIT_PER_MINUTE",
                                                              50),
        #: Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host.
        "SIMDEBRIEF_TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        "SIMDEBRIEF_INVITE_MAX_AGE_HOURS": _env_int("INVITE_MAX_AGE_HOURS", 7 * 24),
        "SIMDEBRIEF_RESET_MAX_AGE_MINUTES": _env_int("RESET_MAX_AGE_MINUTES", 60),
        "SIMDEBRIEF_SESSION_IDLE_MINUTES": _env_int("SESSION_IDLE_MINUTES", 8 * 60),
        "SIMDEBRIEF_SESSION_MAX_HOURS": _env_int("SESSION_MAX_HOURS", 7 * 24),
        "SIMDEBRIEF_PASSWORD_HASH_PROFILE": "default",
        "SIMDEBRIEF_AUTOSAVE_SECONDS": _env_int("AUTOSAVE_SECONDS", 15),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_NAME": "__Host-simdebrief" if secure_cookies else "simdebrief",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        #: No ping at every checkout: PostgreSQL's connections are pinged after they sat
        #: idle (``postgres_connections``); SQLite's are files.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "en",
        #: The compiled catalogues (``make install`` and ``make translations`` build the .mo).
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        #: The CLI's language when no centre sets one (messages for the person at the terminal).
        "SIMDEBRIEF_LANGUAGE": _env("LANGUAGE"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "SIMDEBRIEF_LANGUAGES": ("en", "da"),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    }


def validate_config(config: dict, instance_path: Path) -> None:
    """Fill development defaults and fail fast on settings that are unsafe or unusable."""
    production = config["SIMDEBRIEF_ENV"] == "production"
    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "SIMDEBRIEF_SECRET_KEY must be set in production "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        config["SECRET_KEY"] = development_secret_key(instance_path)
    if production and len(config["SECRET_KEY"]) < 32:
        raise ConfigError("SIMDEBRIEF_SECRET_KEY must be at least 32 characters long")
    try:
        ZoneInfo(config["SIMDEBRIEF_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"SIMDEBRIEF_TIMEZONE {config['SIMDEBRIEF_TIMEZONE']!r} is not a known time zone"
        ) from exc
    if not 0 <= config["SIMDEBRIEF_TRUSTED_PROXIES"] <= 10:
        raise ConfigError("SIMDEBRIEF_TRUSTED_PROXIES must be the number of proxies (0 to 10)")
    if not config["SIMDEBRIEF_BASE_URL"].startswith(("http://", "https://")):
        raise ConfigError("SIMDEBRIEF_BASE_URL must start with http:// or https://")
    checkin_keys = config.get("SIMDEBRIEF_CHECKIN_KEYS")
    if checkin_keys:
        try:
            KeyRing.parse(checkin_keys)
        except KeyRingError as exc:
            raise ConfigError(f"SIMDEBRIEF_CHECKIN_KEYS {exc}") from None
    elif production:
        raise ConfigError(
            "SIMDEBRIEF_CHECKIN_KEYS must be set in production: it encrypts the learners' "
            "check-ins (generate a key with: python -c \"import base64, os; "
            "print('1:' + base64.urlsafe_b64encode(os.urandom(32)).decode())\")"
        )
