"""The Danish catalogue covers every message the code and templates can show.

Messages are extracted in-process from the source with the project's babel.cfg and keywords
(the same as ``make translations``), so a stale messages.pot cannot hide a new string.
These tests fail until the catalogue is complete (marker ``catalogue``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
DANISH = ROOT / "simdebrief" / "translations" / "da" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_plural": (1, 2)}
#: Named placeholders (``%(name)s``), bare ones (``%d``) and format fields (``{name}``).
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[-#0 +]*\d*[sdfirg]|%[sdfr]|\{[a-z_0-9]*\}")

pytestmark = pytest.mark.catalogue


def not_hidden(path: str) -> bool:
    """Skip only dot folders (.venv, .git): Babel's default also skips ``_macros``."""
    return not Path(path).name.startswith(".")


@cache
def source_messages() -> dict[str, tuple[str, ...]]:
    """msgid -> every form (singular, plural) as written in the source, with one location."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, tuple[str, ...]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=not_hidden):
        forms = message if isinstance(message, tuple) else (message,)
        forms = tuple(form for form in forms if form)
        if forms:
            found.setdefault(forms[0], forms + (filename,))
    return found


@cache
def danish():
    with DANISH.open("rb") as handle:
        return read_po(handle, locale="da")


def placeholders(text: str) -> list[str]:
    return sorted(set(PLACEHOLDER.findall(text)))


def test_the_source_has_messages_to_translate():
    assert len(source_messages()) > 500
    assert "Please log in to see this page." in source_messages()  # a lazy _l() string
    assert any(path.endswith(".html") for *_, path in source_messages().values())
    # Shared macros (templates/_macros) hold the crisis route's words.
    assert any("_macros" in path for *_, path in source_messages().values())


def test_every_message_has_a_danish_translation():
    catalogue = danish()
    missing = []
    for msgid, (*_forms, where) in source_messages().items():
        message = catalogue.get(msgid)
        strings = () if message is None else (
            message.string if isinstance(message.string, tuple) else (message.string,))
        if not strings or not all(s and s.strip() for s in strings):
            missing.append(f"{where}: {msgid[:70]!r}")
    assert not missing, f"{len(missing)} message(s) without Danish:\n" + "\n".join(missing[:40])


def test_no_danish_translation_is_fuzzy():
    fuzzy = [m.id for m in danish() if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"


def test_danish_translations_keep_every_placeholder():
    catalogue = danish()
    wrong = []
    for msgid, (*forms, _where) in source_messages().items():
        message = catalogue.get(msgid)
        if message is None:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = placeholders(forms[-1])
        for string in strings:
            if string and placeholders(string) != wanted:
                wrong.append(f"{msgid[:60]!r}: {wanted} != {placeholders(string)}")
    assert not wrong, "\n".join(wrong[:40])


def test_the_placeholder_check_sees_a_changed_name():
    assert placeholders("Hello %(name)s, %(count)d") != placeholders("Hej %(navn)s, %(count)d")
    assert placeholders("%(count)7d  %(what)s") == placeholders("%(what)s: %(count)7d")
