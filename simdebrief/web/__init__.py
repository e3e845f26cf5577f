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
    from simdebrief.web.auth.routes import bp as auth_bp
    from simdebrief.web.main.routes import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")

    from simdebrief.web.navigation import template_helpers

    app.context_processor(template_helpers)

    @app.before_request
    def _login_required_by_default():
        if is_public_endpoint(request.endpoint) or current_user.is_authenticated:
            return None
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
