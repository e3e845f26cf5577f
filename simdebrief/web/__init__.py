"""Blueprints. Views parse input, call services, commit, and render.

Every view needs a login unless it is marked ``@public``; the check runs before any view, so
a forgotten decorator fails closed.
"""

from __future__ import annotations

from flask import Flask, current_app, redirect, request, url_for
from flask_login import current_user


def public(view):
    view.is_public = True
    return view


def client_ip() -> str:
    return request.remote_addr or "unknown"


def is_public_endpoint(endpoint: str | None) -> bool:
    if endpoint is None or endpoint == "static":
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "is_public", False))


def register_blueprints(app: Flask) -> None:
    from simdebrief.web.admin.routes import bp as admin_bp
    from simdebrief.web.auth.routes import PENDING_ENDPOINTS
    from simdebrief.web.auth.routes import bp as auth_bp
    from simdebrief.web.calendar.routes import bp as calendar_bp
    from simdebrief.web.debriefs.routes import bp as debriefs_bp
    from simdebrief.web.followups.routes import bp as followups_bp
    from simdebrief.web.learner.routes import bp as learner_bp
    from simdebrief.web.main.routes import bp as main_bp
    from simdebrief.web.reports.routes import bp as reports_bp
    from simdebrief.web.scenarios.routes import bp as scenarios_bp
    from simdebrief.web.sessions.routes import bp as sessions_bp
    from simdebrief.web.support.routes import bp as support_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(scenarios_bp, url_prefix="/scenarios")
    app.register_blueprint(sessions_bp, url_prefix="/sessions")
    app.register_blueprint(calendar_bp)
    app.register_blueprint(debriefs_bp, url_prefix="/sessions")
    app.register_blueprint(learner_bp, url_prefix="/me")
    app.register_blueprint(support_bp, url_prefix="/support")
    app.register_blueprint(followups_bp)
    app.register_blueprint(reports_bp)

    from simdebrief.web.navigation import template_helpers

    app.context_processor(template_helpers)

    @app.before_request
    def _login_required_by_default():
        if is_public_endpoint(request.endpoint):
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not current_user.second_factor_passed and request.endpoint not in PENDING_ENDPOINTS:
            # Password right, code still due: nothing but the code (or enrolment) page.
            return redirect(url_for("auth.second_factor", next=request.full_path.rstrip("?")))
        return None
