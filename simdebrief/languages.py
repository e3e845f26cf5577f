"""Which language a page, an email, a document or a CLI message is written in.

Pages: the user's own choice, else their centre's default; anonymous pages follow the
browser's ``Accept-Language``. Emails and documents: the language of the person who will
read them (``locale_of``), whatever the language of the request that made them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from babel import Locale
from flask import current_app, g, has_request_context, request
from flask.globals import _cv_app
from flask_babel import Domain, force_locale
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

#: Each language in its own name, as a person looking for their language reads it.
LANGUAGE_NAMES = {"en": "English", "da": "Dansk"}


def available() -> tuple[str, ...]:
    return tuple(current_app.config["SIMDEBRIEF_LANGUAGES"])


def language_choices() -> list[tuple[str, str]]:
    """(code, own name) for every language this installation offers."""
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in available()]


def _known(code: str | None) -> str | None:
    return code if code in available() else None


def locale_of(user=None, centre=None) -> str:
    """The language ``user`` reads: their choice, else their centre's default, else the app's."""
    if user is not None:
        centre = centre or getattr(user, "centre", None)
        chosen = _known(getattr(user, "locale", None))
        if chosen:
            return chosen
    centre_default = _known(getattr(centre, "default_locale", None))
    if centre_default:
        return centre_default
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_locale() -> Locale | None:
    """Flask-Babel's selector for the current request, worked out once per request.

    The result is kept on ``g`` so the user and their centre are read once, however often
    Babel asks; ``forget_request_locale`` clears it at the start of each request.
    """
    if not has_request_context():
        return None
    if "_simdebrief_locale" not in g:
        if getattr(current_user, "is_authenticated", False):
            code = locale_of(current_user)
        else:
            code = request.accept_languages.best_match(available())
        g._simdebrief_locale = shared_locale(code) if code else None
    return g._simdebrief_locale


@functools.lru_cache(maxsize=16)
def shared_locale(code: str) -> Locale:
    """One ``Locale`` per language for the process, which Flask-Babel keeps as it is. The
    texts kept per locale (dates, spans, percentages) then find theirs by identity; with a
    new ``Locale`` each request, every lookup compared two field by field."""
    return Locale.parse(code)


def forget_request_locale() -> None:
    """Start each request with no locale worked out (tests reuse one app context)."""
    g.pop("_simdebrief_locale", None)
    g.pop("_flask_babel", None)


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the translations kept beside the locale in force.

    Flask-Babel finds the translations through its request context on every string, three
    times over; a page has a hundred strings. Here they are found once per request and
    locale: ``force_locale`` (an email in its reader's language) and ``refresh`` replace the
    locale object, and the next string looks the translations up again.
    """

    def get_translations(self):
        babel_context = _babel_context()
        known = getattr(babel_context, "simdebrief_translations", None)
        if known is not None and known[0] is getattr(babel_context, "babel_locale", None):
            return known[1]
        found = super().get_translations()
        babel_context = _babel_context()
        locale = getattr(babel_context, "babel_locale", None)
        if locale is not None:
            babel_context.simdebrief_translations = (locale, found)
        return found


def _babel_context():
    """Flask-Babel's per-context namespace (locale, translations), or None outside an app
    context or before Babel made it. Read from the app context itself rather than through
    ``g``: a page asks for it with every string and every date, and each pass through the
    context-local proxy cost as much as the rest of the lookup."""
    app_context = _cv_app.get(None)
    return None if app_context is None else app_context.g.get("_flask_babel")


def locale_in_force() -> Locale | None:
    """Flask-Babel's ``get_locale``, read from its namespace once the request's locale is
    worked out: every date a page writes asks for it, and ``get_locale`` reaches the
    namespace through three passes of the ``g`` proxy. ``force_locale`` and ``refresh``
    change the same namespace, so the answer is always the one ``get_locale`` gives."""
    locale = getattr(_babel_context(), "babel_locale", None)
    if locale is not None:
        return locale
    from flask_babel import get_locale

    return get_locale()


#: The one message domain, for Python code and templates alike.
DOMAIN = RequestDomain()

#: SimDebrief's ``_``, ``ngettext`` and ``_l``: straight to ``DOMAIN``. Flask-Babel's
#: functions of the same names first look the domain up through the request context, on
#: every string; a page translates a few hundred.
gettext = DOMAIN.gettext
ngettext = DOMAIN.ngettext
lazy_gettext = DOMAIN.lazy_gettext


def install_domain(babel, jinja_env) -> None:
    """Flask-Babel and the templates translate through ``DOMAIN`` (see ``RequestDomain``).

    The templates' ``_``, ``gettext`` and the rest behave as Jinja's "new style" ones (the
    text is always a format string; with autoescaping its values are escaped), but take only
    the evaluation context: Jinja's own take the whole template context, and inside a loop
    build a derived copy of it for every string, twice (one through ``_``).
    """
    babel.domain_instance = DOMAIN
    # Flask-Babel installed Jinja's i18n extension; ``{% trans %}`` blocks format new style too.
    jinja_env.newstyle_gettext = True
    jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext,
                             ngettext=_template_ngettext, pgettext=_template_pgettext,
                             npgettext=_template_npgettext)


def _formatted(eval_ctx, text: str, variables: dict) -> str:
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704  (the catalogue's own text; the values get escaped by %)
    # Most of a page's strings have no "%" at all, and formatting them changes nothing.
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _template_gettext(eval_ctx, string: str, /, **variables) -> str:
    return _formatted(eval_ctx, DOMAIN.get_translations().ugettext(string), variables)


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, DOMAIN.get_translations().ungettext(singular, plural, num),
                      variables)


@pass_eval_context
def _template_pgettext(eval_ctx, context: str, string: str, /, **variables) -> str:
    variables.setdefault("context", context)
    return _formatted(eval_ctx, DOMAIN.get_translations().upgettext(context, string),
                      variables)


@pass_eval_context
def _template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, /,
                        **variables) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    return _formatted(
        eval_ctx, DOMAIN.get_translations().unpgettext(context, singular, plural, num),
        variables)


def cli_locale() -> str:
    """The language of messages to the person at the terminal.

    ``SIMDEBRIEF_LANGUAGE`` when set, else the default the installation's centres share,
    else the app's default. Worked out once per command (kept on ``g``).
    """
    if "_simdebrief_cli_locale" not in g:
        g._simdebrief_cli_locale = _cli_locale()
    return g._simdebrief_cli_locale


def _cli_locale() -> str:
    configured = _known(current_app.config.get("SIMDEBRIEF_LANGUAGE"))
    if configured:
        return configured
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from simdebrief.extensions import db
    from simdebrief.models import Centre

    query = select(Centre.default_locale).distinct().limit(2)
    try:
        if db.session().in_transaction():
            defaults = db.session.scalars(query).all()
        else:  # a short read of its own: no transaction (and SQLite lock) left open
            with db.engine.connect() as connection:
                defaults = connection.scalars(query).all()
    except SQLAlchemyError:  # no schema yet (before ``flask db upgrade``)
        defaults = []
    if len(defaults) == 1 and _known(defaults[0]):
        return defaults[0]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang() -> str:
    """The current locale as an HTML ``lang`` value (``da``, ``en-GB``)."""
    locale = locale_in_force()
    return str(locale).replace("_", "-") if locale else "en"


@contextmanager
def written_in(locale: str | None) -> Iterator[None]:
    """Write what follows in ``locale`` (works in an app context without a request too);
    None keeps the language in force, e.g. the downloading user's."""
    if locale is None:
        yield
        return
    with force_locale(locale):
        yield
