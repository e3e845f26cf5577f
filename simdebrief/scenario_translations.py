"""Per-language text of scenario files: checking ``translations:`` and showing it.

A scenario file may end with ``translations: {<lang>: {...}}``. Each language block mirrors the
English document with its text fields only: the same keys, every list as long as the English
one and in its order, never a code (slug, trigger types, factor codes, …) and never the word
``centre``. A text the block leaves out is shown in English: it is a warning, not an error,
so a half-finished translation can be loaded while translators work.

The checks work on the parsed YAML (plain dicts and lists) and return locations as tuples, so
the loader in ``scenarios.py`` can name the file, line and field. :func:`localized` overlays
one language on a stored document. Nothing here needs the database; only
:func:`current_language` asks Flask-Babel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Fields whose values are codes, numbers or the schema's own settings: never translated.
CODE_KEYS = frozenset({
    "slug", "clinical_setting", "adverse_event_type", "trigger_types", "risk_flags", "code",
    "point", "kind", "framework", "sex", "age", "count", "duration_minutes", "debrief_minutes",
    "translations",
})
#: Text a language may replace but need not: a link to a page in that language.
OPTIONAL_KEYS = frozenset({"url"})
#: ``basic_assumption: centre`` and ``support_contacts: centre`` mean the centre's own text.
CENTRE = "centre"
#: The language scenario files are written in.
SOURCE_LANGUAGE = "en"

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """One thing to say about a translation block; ``loc`` starts at the top of the file."""

    loc: Location
    message: str
    warning: bool = False


def check(data: dict[str, Any], languages: tuple[str, ...]) -> list[Finding]:
    """Compare every language block of ``data["translations"]`` with the English text."""
    if "translations" not in data:
        return []
    block = data["translations"]
    allowed = [lang for lang in languages if lang != SOURCE_LANGUAGE]
    if not isinstance(block, dict):
        return [Finding(("translations",),
                        f"expected a mapping of languages (e.g. da:), got {_kind(block)}")]
    findings: list[Finding] = []
    english = {key: value for key, value in data.items() if key != "translations"}
    for lang, text in block.items():
        loc: Location = ("translations", str(lang))
        if lang not in allowed:
            findings.append(Finding(loc, f"unknown language '{lang}'; languages: "
                                         + (", ".join(allowed) or "none besides English")))
            continue
        _walk(english, text, loc, findings)
    return findings


def cleaned(block: dict[str, Any]) -> dict[str, Any]:
    """The checked translations as stored: surrounding whitespace stripped, as in English."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value.strip() if isinstance(value, str) else value
    return strip(block)


def _walk(base: Any, text: Any, loc: Location, out: list[Finding]) -> None:
    if isinstance(base, dict):
        if text is None:
            text = {}
        if not isinstance(text, dict):
            out.append(Finding(loc, f"expected a mapping (key: value) as in English, "
                                    f"got {_kind(text)}"))
            return
        for key in text:
            if key in CODE_KEYS:
                out.append(Finding(loc + (str(key),), f"'{key}' is a code, not text; leave it "
                                                      "out of translations"))
            elif key not in base:
                known = [k for k in base if k not in CODE_KEYS]
                out.append(Finding(loc + (str(key),), "not a field of the English text; "
                                   "allowed here: " + ", ".join(map(str, known))))
        for key, value in base.items():
            if key in CODE_KEYS:
                continue
            if key in OPTIONAL_KEYS:
                if key in text:
                    _check_text(text[key], loc + (key,), out)
                continue
            _walk(value, text.get(key), loc + (key,), out)
    elif isinstance(base, list):
        if text is None:
            if base:
                out.append(Finding(loc, _MISSING, warning=True))
            return
        if not isinstance(text, list) or len(text) != len(base):
            got = f"{len(text)} items" if isinstance(text, list) else _kind(text)
            out.append(Finding(loc, f"must be a list of {len(base)} items in the same order "
                                    f"as the English list, got {got}"))
            return
        for index, (item, translated) in enumerate(zip(base, text, strict=True)):
            _walk(item, translated, loc + (index,), out)
    elif isinstance(base, str):
        if base.strip() == CENTRE:
            if text is not None:
                out.append(Finding(loc, "'centre' means the centre's own text, a code; leave "
                                        "it out of translations"))
            return
        if text is None:
            out.append(Finding(loc, _MISSING, warning=True))
            return
        _check_text(text, loc, out)
    elif text is not None:
        out.append(Finding(loc, "not a text field; leave it out of translations"))


_MISSING = "no translation yet; the English text is shown"


def _check_text(text: Any, loc: Location, out: list[Finding]) -> None:
    if not isinstance(text, str):
        out.append(Finding(loc, f"expected text, got {_kind(text)}"))
    elif not text.strip():
        out.append(Finding(loc, "must not be empty; leave the field out to show the English"))


def _kind(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------
# Showing


def base_language(locale: Any) -> str:
    """``da_DK`` → ``da``; None → English."""
    text = str(locale or SOURCE_LANGUAGE)
    return text.replace("-", "_").split("_")[0].lower() or SOURCE_LANGUAGE


def localized(content: dict[str, Any], locale: Any) -> dict[str, Any]:
    """The stored document with ``locale``'s text laid over the English, field by field.

    The result has no ``translations`` key. A field the language lacks, or a translation that
    does not fit the English structure (an older document), keeps the English text.
    """
    english = {key: value for key, value in (content or {}).items() if key != "translations"}
    language = base_language(locale)
    if language == SOURCE_LANGUAGE:
        return english
    block = ((content or {}).get("translations") or {}).get(language)
    if not isinstance(block, dict):
        return english
    return _overlay(english, block)


def localized_title(content: dict[str, Any], locale: Any, english: str) -> str:
    """Only the title, without building the whole localized document."""
    language = base_language(locale)
    if language == SOURCE_LANGUAGE:
        return english
    block = ((content or {}).get("translations") or {}).get(language)
    title = block.get("title") if isinstance(block, dict) else None
    return title if isinstance(title, str) and title.strip() else english


def _overlay(base: Any, text: Any) -> Any:
    if isinstance(base, dict) and isinstance(text, dict):
        return {key: _overlay(value, text[key])
                if key in text and key not in CODE_KEYS else value
                for key, value in base.items()}
    if isinstance(base, list) and isinstance(text, list) and len(base) == len(text):
        return [_overlay(item, translated) for item, translated in zip(base, text, strict=True)]
    if (isinstance(base, str) and isinstance(text, str) and text.strip()
            and base.strip() != CENTRE):
        return text
    return base


def current_language() -> str:
    """The language of the request or of ``force_locale`` around it; English elsewhere."""
    from simdebrief.timefmt import current_locale

    return base_language(current_locale())
