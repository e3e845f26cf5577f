"""SimDebrief: a debrief manager for healthcare simulation centres."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_babel import format_datetime
from flask_login import current_user
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from simdebrief import (
    crypto,
    key_rotation,
    passwords,
    sqlite_locking,
)
from simdebrief.clock import SystemClock, current_now
from simdebrief.config import load_settings, validate_config
from simdebrief.extensions import babel, csrf, db, login_manager
from simdebrief.languages import lazy_gettext as _l
from simdebrief.schema import CommandsWithLazyMigrations, schema_is_current

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__, instance_path=str(PROJECT_ROOT / "instance"), template_folder=str(TEMPLATES_DIR)
    )
    app.cli = CommandsWithLazyMigrations(app)
    from simdebrief.web.url_rules import LazyBuildRule

    app.url_rule_class = LazyBuildRule
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)

    app.config.update(load_settings(instance_path))
    if config:
        app.config.update(config)
    validate_config(app.config, instance_path)
    passwords.configure(app.config["SIMDEBRIEF_PASSWORD_HASH_PROFILE"])
    crypto.configure(crypto.keyring_from_config(app.config, instance_path))
    proxies = app.config["SIMDEBRIEF_TRUSTED_PROXIES"]
    if proxies:
        # Trust exactly that many X-Forwarded-* hops; a client cannot forge more than those.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.extensions["simdebrief.clock"] = app.config.get("SIMDEBRIEF_CLOCK") or SystemClock()

    register_extensions(app)
    register_templating(app)
    register_security_headers(app)
    from simdebrief.errors import register_error_handlers
    from simdebrief.web import register_blueprints
    from simdebrief.web.ids import IdConverter

    app.url_map.converters["int"] = IdConverter
    register_blueprints(app)
    register_error_handlers(app)
    register_calendar_sources()
    from simdebrief.emails import connect_signals

    connect_signals()
    from simdebrief.cli import register_commands

    register_commands(app)
    check_encryption_keys(app)
    return app


def check_encryption_keys(app: Flask) -> None:
    """Refuse to start when the key ring cannot read the stored emotional data.

    Without this, a missing key would surface later as a 500 on every page that reads it.
    An empty database (e.g. before ``flask db upgrade``) has nothing to check.
    """
    with app.app_context(), db.engine.connect() as connection:
        if schema_is_current(connection):
            key_rotation.check_stored_values(connection)


def register_calendar_sources() -> None:
    """Personal calendar feeds show follow-up dates too; the calendar knows no other area."""
    from simdebrief.services import calendar
    from simdebrief.services.followups.calendar_events import followup_events

    calendar.register_feed_source(followup_events)


def centre_timezone() -> str:
    from flask import current_app

    if getattr(current_user, "is_authenticated", False):
        return current_user.centre.timezone
    return current_app.config["SIMDEBRIEF_TIMEZONE"]


def register_extensions(app: Flask) -> None:
    import simdebrief.models  # noqa: F401  (every table known to the metadata)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            install_connection_hooks(engine)
    csrf.init_app(app)
    from simdebrief import languages

    babel.init_app(app, locale_selector=languages.select_locale,
                   timezone_selector=centre_timezone)
    app.before_request(languages.forget_request_locale)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session row is the protection

    @login_manager.user_loader
    def load_user(session_id: str):
        from simdebrief.services import accounts

        user = accounts.resume_session(
            db.session,
            session_id=session_id,
            now=current_now(),
            idle=timedelta(minutes=app.config["SIMDEBRIEF_SESSION_IDLE_MINUTES"]),
            absolute=timedelta(hours=app.config["SIMDEBRIEF_SESSION_MAX_HOURS"]),
        )
        if db.session.dirty:
            # Only the session's last-seen time or its expiry changed; nothing of the view's.
            db.session.commit()
        return user


def install_connection_hooks(engine: Engine) -> None:
    """How the engine's connections take locks and begin transactions (``sqlite_locking``,
    ``postgres_connections``); psycopg is imported only for a PostgreSQL engine."""
    if engine.dialect.name == "sqlite":
        sqlite_locking.install(engine)
    elif engine.dialect.driver == "psycopg":
        from simdebrief import postgres_connections

        postgres_connections.install(engine)


def register_templating(app: Flask) -> None:
    from simdebrief import languages, policy, timefmt
    from simdebrief.web.url_rules import id_links

    app.jinja_env.globals.update(policy=policy, format_datetime=format_datetime,
                                 date_text=timefmt.date_text, number_text=timefmt.number_text,
                                 percent_text=timefmt.percent_text, html_lang=languages.html_lang,
                                 local_text=timefmt.local_text, span_text=timefmt.span_text,
                                 reader_text=timefmt.reader_text, id_links=id_links)
    languages.install_domain(babel, app.jinja_env)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        return {"now": current_now()}


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if getattr(current_user, "is_authenticated", False) or g.get("no_store"):
            response.headers["Cache-Control"] = "no-store"
        return response
