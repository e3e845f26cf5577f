"""A Danish user of each role reads Danish on every main page: no English message, weekday
or month name left in the visible text.

Marked ``catalogue``: these fail until the Danish catalogue is complete. The checker itself
is tested on English pages, so it is known to catch what it looks for.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from simdebrief.extensions import db
from simdebrief.models import User
from tests.conftest import SEED, client_for
from tests.unit.test_catalogue import PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "simdebrief" / "translations" / "messages.pot"
DANISH = ROOT / "simdebrief" / "translations" / "da" / "LC_MESSAGES" / "messages.po"
ROLES = ("student", "instructor", "admin", "peer")
ENGLISH_DATES = re.compile(
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
    r"April|June|July|August|September|October|November|December|"
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"(?= \d| \d\d|,))\b")
#: Names the test data gives its objects ("Room mine"): the data's words, not the app's.
TEST_DATA = re.compile(r"\b(?:Cohort|Room|Line|Story|Peer) (?:mine|person|other)\b|"
                       + "|".join(re.escape(name) for name, _role, _tier in SEED.values())
                       + r"|Herlev Sim Centre|Other Centre")
VISIBLE_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"')


@cache
def english_phrases() -> list[tuple[str, re.Pattern]]:
    """Each English message (or each literal part between its placeholders) longer than 3
    characters whose Danish translation differs, as a whole-phrase pattern."""
    with DANISH.open("rb") as handle:
        danish = read_po(handle, locale="da")
    with POT.open("rb") as handle:
        template = read_po(handle)
    phrases, danish_words = set(), set()
    for message in danish:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            danish_words.update(fragments(text or ""))
    for message in template:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        translated = danish.get(ids[0])
        strings = () if translated is None else (
            translated.string if isinstance(translated.string, tuple) else (translated.string,))
        for english in ids:
            if english in strings:
                continue  # the same in both languages: SimDebrief, PEARLS, ISBAR
            # A part that Danish uses as well ("Session", "Status") is no sign of English.
            phrases.update(part for part in fragments(english) if part not in danish_words)
    return [(p, re.compile(r"(?<![\w-])" + re.escape(p) + r"(?![\w-])"))
            for p in sorted(phrases)]


def fragments(message: str) -> list[str]:
    """The literal parts of a message between its placeholders, longer than 3 characters."""
    parts = (" ".join(part.split()).strip(" ,.:;()–-") for part in PLACEHOLDER.split(message))
    return [part for part in parts if len(part) > 3]


def visible_text(page: str) -> str:
    """The words a person sees or hears: tags, scripts and styles removed, entities read."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    # An email's subject in the outbox is shown as its recipient got it, in their language.
    page = re.sub(r'(?is)<(\w+)[^>]*\bclass="as-sent"[^>]*>.*?</\1>', " ", page)
    attributes = " ".join(VISIBLE_ATTRIBUTES.findall(page))
    text = re.sub(r"(?s)<[^>]+>", "\n", page) + "\n" + attributes
    return "\n".join(" ".join(line.split()) for line in html.unescape(text).splitlines())


def english_left(page: str) -> list[str]:
    text = TEST_DATA.sub(" ", visible_text(page))
    found = [m.group(0) for m in ENGLISH_DATES.finditer(text)]
    found += [phrase for phrase, pattern in english_phrases() if pattern.search(text)]
    return found


def main_pages(client) -> list[str]:
    """The dashboard, every link of the menu and the account links, as this user sees them."""
    dashboard = client.get("/dashboard").get_data(as_text=True)
    header = dashboard.split('<main', 1)[0]
    links = re.findall(r'<a href="(/[^"#?]*)"', header)
    return list(dict.fromkeys(["/dashboard", "/account", *links]))


def as_danish(app, people, key: str):
    with app.app_context():
        db.session.get(User, people.ids[key]).locale = "da"
        db.session.commit()
    return client_for(app, people, key)


@pytest.mark.catalogue
@pytest.mark.parametrize("role", ROLES)
def test_every_main_page_is_danish_for_a_danish_user(app, people, objects, role):
    client = as_danish(app, people, role)
    problems = {}
    for path in main_pages(client):
        response = client.get(path)
        assert response.status_code == 200, path
        left = english_left(response.get_data(as_text=True))
        if left:
            problems[path] = left[:10]
    assert not problems, "English on Danish pages:\n" + "\n".join(
        f"{path}: {words}" for path, words in problems.items())


def test_the_checker_finds_english_on_an_english_page(app, people, objects):
    client = client_for(app, people, "instructor")
    left = english_left(client.get("/dashboard").get_data(as_text=True))
    assert english_left("<p>Mon 30 Nov 2026, 06:27</p>") == ["Mon", "Nov"]
    assert english_left('<button aria-label="Log out">x</button>')
    assert not english_left("<script>var text = 'Log out';</script><p>Hej 30. nov.</p>")
    assert left, "an English page should show English messages"
    assert "/account" in main_pages(client) and len(main_pages(client)) > 3
