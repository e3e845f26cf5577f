"""Finding self-harm cues in a learner's free text (the reviewed list in data/).

The match is deliberately simple and explainable: normalised text, whole words, a reviewed
list of phrases in English and Danish, and a list of figures of speech that are cut out first
("I could die of embarrassment"). A match never labels the learner; it decides only that the
page they see next leads with the centre's urgent contacts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CUE_FILE = Path(__file__).parent / "data" / "self_harm_cues.yaml"

#: Letters that accent-stripping would lose or change; written out as Danes do without them.
_SPELLED_OUT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss"})
_APOSTROPHES = re.compile(r"['’`´]")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Case-folded words separated by single spaces, with a space at each end.

    æ, ø and å become ae, oe and aa; other accents are dropped (é → e); apostrophes vanish
    (don't → dont) and every other run of punctuation or white space is one space.
    """
    folded = (text or "").casefold().translate(_SPELLED_OUT)
    decomposed = unicodedata.normalize("NFKD", folded)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _APOSTROPHES.sub("", plain)
    words = _NOT_WORD.sub(" ", plain).strip()
    return f" {words} " if words else ""


@dataclass(frozen=True)
class CueList:
    reviewed: str
    #: (English, Danish) phrases as written in the file, twin by twin.
    pairs: tuple[tuple[str, str], ...]
    cues: tuple[str, ...]
    benign: tuple[str, ...]


@cache
def cue_list(path: Path = CUE_FILE) -> CueList:
    import yaml  # loaded on first use: the CLI's start-up stays light

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    english, danish = data["cues"]["en"], data["cues"]["da"]
    if len(english) != len(danish):
        raise ValueError(f"{path}: every English cue needs its Danish twin")
    cues = tuple(dict.fromkeys(normalise(p) for p in [*english, *danish]))
    benign = [normalise(p) for p in [*data["benign"]["en"], *data["benign"]["da"]]]
    # Longest first, so "want to die of embarrassment" is cut before "die of embarrassment".
    return CueList(str(data.get("reviewed", "")), tuple(zip(english, danish, strict=True)),
                   cues, tuple(sorted(set(benign), key=len, reverse=True)))


def has_self_harm_cue(*texts: str | None) -> bool:
    """Whether any of the texts holds a phrase of the reviewed list, outside a figure of
    speech that the list names."""
    cues = cue_list()
    for text in texts:
        words = normalise(text or "")
        if not words:
            continue
        for phrase in cues.benign:
            words = words.replace(phrase, " ")
        if any(cue in words for cue in cues.cues):
            return True
    return False
