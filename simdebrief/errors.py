"""Domain exceptions, and the error pages they map to.

Services raise these; views turn them into form errors or status codes. A wrong role is a
403, an object that is not yours a 404 (so its existence is not revealed).
"""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from simdebrief.languages import gettext as _


class SimDebriefError(Exception):
    """Base class for errors the application expects and explains."""


class NotFound(SimDebriefError):
    """The object does not exist, or the user may not know that it does."""


class NotAllowed(SimDebriefError):
    """The user's role does not permit this action."""


class InvalidState(SimDebriefError):
    """The action does not fit the object's current state (e.g. editing a cancelled session)."""


class InvalidInput(SimDebriefError):
    """Input failed a rule only the service can check; ``errors`` maps field name to messages."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"": [errors]}
        self.errors = errors
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))


class LinkInvalid(SimDebriefError):
    """A signed link was tampered with, already used, or meant for another purpose."""


class LinkExpired(SimDebriefError):
    """A signed link was genuine but is past its expiry time."""


class LoginThrottled(SimDebriefError):
    """Too many failed logins from this address (for this account); try again later."""

    def __init__(self, retry_after=None):
        super().__init__("throttled")
        #: A timedelta: how long until another try is accepted.
        self.retry_after = retry_after


class RequestThrottled(LoginThrottled):
    """Too many reset or invitation requests for this account or from this address."""


class LoginFailed(SimDebriefError):
    """Email or password is wrong (deliberately not saying which)."""


ERROR_TITLES = {
    400: lambda: _("The request could not be understood"),
    403: lambda: _("You do not have access to this page"),
    404: lambda: _("Page not found"),
    405: lambda: _("That action is not possible here"),
    413: lambda: _("The upload is too large"),
    429: lambda: _("Too many attempts"),
    500: lambda: _("Something went wrong on our side"),
}

ERROR_EXPLANATIONS = {
    400: lambda: _("Please go back, reload the page and try again. If the form was open for a "
                   "long time, its security token may have expired."),
    403: lambda: _("Your role does not include this page. If you think you need it, ask an "
                   "administrator of your centre."),
    404: lambda: _("The page does not exist, or it belongs to someone else."),
    405: lambda: _("Please use the links and buttons on the page."),
    413: lambda: _("Please upload a smaller file."),
    429: lambda: _("Please wait a minute and try again."),
    500: lambda: _("The error has been logged. Please try again in a moment."),
}


def render_error(code: int, message: str | None = None):
    title = ERROR_TITLES.get(code, ERROR_TITLES[500])()
    explanation = message or ERROR_EXPLANATIONS.get(code, ERROR_EXPLANATIONS[500])()
    return render_template("errors/error.html", code=code, title=title,
                           explanation=explanation), code


def _exists_for_another_method(methods) -> bool:
    """Werkzeug answers 405 when a rule's pattern matched but the method did not, even if
    that rule's converter would have refused the URL (an id beyond 64 bits); that is a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in methods:
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


def register_error_handlers(app: Flask) -> None:
    from simdebrief.extensions import db

    @app.errorhandler(NotFound)
    def not_found(_error):
        return render_error(404)

    @app.errorhandler(NotAllowed)
    def not_allowed(_error):
        return render_error(403)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code == 405 and not _exists_for_another_method(error.valid_methods or ()):
            return render_error(404)
        response = render_error(error.code, None)
        if error.code == 405 and error.valid_methods:
            return response[0], 405, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        return render_error(500)
