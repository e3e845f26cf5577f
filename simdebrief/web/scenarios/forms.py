"""The library's filter form: a GET form read straight from the query string.

Unknown codes are dropped and named, never an error: a bookmarked link keeps working after a
code list changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from simdebrief.crisis_cues import normalise
from simdebrief.languages import lazy_gettext as _l
from simdebrief.models import ScenarioVersion
from simdebrief.taxonomy import CLINICAL_SETTINGS, RISK_FLAGS, TRIGGER_TYPES, codes, label

TRIGGER = "trigger"
SETTING = "setting"
RISK = "risk"
SEARCH = "q"
#: Longer search texts are cut here; nobody types a scenario's whole summary.
MAX_SEARCH = 200

FILTER_NAMES = {
    TRIGGER: _l("trigger type"),
    SETTING: _l("clinical setting"),
    RISK: _l("risk flag"),
}


@dataclass(frozen=True)
class LibraryFilters:
    """The chosen filters; ``risks`` must all be present on a scenario."""

    trigger: str | None = None
    setting: str | None = None
    risks: tuple[str, ...] = ()
    #: Words that must all begin a word of the title, summary, objectives or setting.
    search: str = ""
    #: Query parameters whose value was not a known code and was ignored.
    ignored: tuple[str, ...] = field(default=())

    @property
    def active(self) -> bool:
        return bool(self.trigger or self.setting or self.risks or self.search)

    def matches(self, version: ScenarioVersion) -> bool:
        if self.search and not _found(self.search, version):
            return False
        if self.trigger is not None and self.trigger not in (version.trigger_types or []):
            return False
        if self.setting is not None and version.clinical_setting != self.setting:
            return False
        flags = set(version.risk_flags or [])
        return all(flag in flags for flag in self.risks)

    def ignored_names(self) -> list[str]:
        return [str(FILTER_NAMES[name]) for name in self.ignored]


def searchable_text(version: ScenarioVersion) -> str:
    """The version's title, summary, learning objectives and setting, normalised the way
    the search words are (case, accents, æ/ø/å and punctuation do not matter)."""
    content = version.content or {}
    setting = version.clinical_setting or ""
    parts = [version.title, version.summary, *(content.get("learning_objectives") or []),
             str(label(CLINICAL_SETTINGS, setting))]
    # The normaliser is the one the self-harm cues use: the same folding for every search.
    return normalise(" ".join(str(part) for part in parts if part))


def _found(search: str, version: ScenarioVersion) -> bool:
    haystack = searchable_text(version)
    return all(f" {word}" in haystack for word in normalise(search).split())


def _one(args: MultiDict, name: str, known: tuple[str, ...], ignored: list[str]) -> str | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if value not in known:
        ignored.append(name)
        return None
    return value


def parse_filters(args: MultiDict) -> LibraryFilters:
    ignored: list[str] = []
    trigger = _one(args, TRIGGER, codes(TRIGGER_TYPES), ignored)
    setting = _one(args, SETTING, codes(CLINICAL_SETTINGS), ignored)
    known_flags = codes(RISK_FLAGS)
    risks: list[str] = []
    for raw in args.getlist(RISK):
        value = raw.strip()
        if not value:
            continue
        if value not in known_flags:
            if RISK not in ignored:
                ignored.append(RISK)
        elif value not in risks:
            risks.append(value)
    # Keep the taxonomy's order, so the same choice always gives the same page.
    risks.sort(key=known_flags.index)
    search = " ".join((args.get(SEARCH) or "").replace("\x00", " ").split())[:MAX_SEARCH]
    return LibraryFilters(trigger=trigger, setting=setting, risks=tuple(risks),
                          search=search, ignored=tuple(ignored))
