"""What a learner can tick in an emotional check-in (domain.md §5.5), in plain words.

Codes are stored (encrypted) with the check-in and must never change; labels and hints are
lazy translatable strings. The symptoms are reactions many clinicians describe after an
adverse event; they are offered so a learner can name what they notice, never to diagnose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from flask_babel.speaklater import LazyString

from simdebrief.languages import lazy_gettext as _l

DISTRESS_MIN = 0
DISTRESS_MAX = 10


class Option(NamedTuple):
    code: str
    label: str | LazyString
    hint: str | LazyString


SYMPTOMS: tuple[Option, ...] = (
    Option("intrusive_memories", _l("It keeps coming back to me"),
           _l("Pictures or thoughts of what happened that come uninvited, or replaying it.")),
    Option("anxiety", _l("Anxious or on edge"),
           _l("Worry, a racing heart or tension when you think about it.")),
    Option("anger_at_self", _l("Angry with myself"),
           _l("Frustration with what you did or did not do.")),
    Option("guilt", _l("Guilt"),
           _l("A feeling that you did something wrong or let someone down.")),
    Option("shame", _l("Shame or embarrassment"),
           _l("Wanting to hide, or worrying about what others think of you.")),
    Option("fear_of_future_errors", _l("Afraid of making mistakes in future"),
           _l("Dreading the next similar situation.")),
    Option("self_doubt", _l("Doubting my knowledge or skills"),
           _l("Wondering whether you are good enough, or in the right place.")),
    Option("sleep_problems", _l("Trouble sleeping"),
           _l("Hard to fall asleep, waking at night, or dreaming about it.")),
    Option("hypervigilance", _l("Checking everything over and over"),
           _l("Being far more watchful or double-checking more than you usually would.")),
    Option("isolation", _l("Keeping to myself"),
           _l("Avoiding colleagues or friends, or feeling alone with it.")),
    Option("burden_feeling", _l("Feeling like a burden"),
           _l("Not wanting to bother anyone with how you feel.")),
)

COPING: tuple[Option, ...] = (
    Option("network", _l("Talking with friends, family or fellow students"),
           _l("People close to you, inside or outside medicine.")),
    Option("formal_offer", _l("Using a support offer"),
           _l("A supporter, counsellor, supervisor or another offer from your centre or "
              "university.")),
    Option("work_private_separation", _l("Keeping work and private life apart"),
           _l("Leaving it at the door and doing something that helps you switch off.")),
    Option("other", _l("Something else"),
           _l("Anything else that helps you.")),
)

#: "none" means the learner wants nothing now; it cannot be ticked together with the others.
NO_SUPPORT = "none"

SUPPORT_WANTED: tuple[Option, ...] = (
    Option(NO_SUPPORT, _l("Nothing right now"),
           _l("That is fine. You can ask for a conversation later, at any time.")),
    Option("talk_to_facilitator", _l("A word with one of the instructors"),
           _l("A short, informal chat. Ticking this does not tell them; you can approach "
              "them, or ask a supporter to help.")),
    Option("talk_to_peer", _l("A conversation with a peer supporter"),
           _l("A trained colleague who listens in confidence.")),
    Option("professional_referral", _l("A conversation with a professional"),
           _l("A psychologist or counsellor, for when it weighs heavily or does not ease.")),
    Option("process_information", _l("Information about what happens next"),
           _l("For example how incident reports or complaints are handled, and how long "
              "that takes.")),
    Option("role_model_or_mentor", _l("Hearing from someone who has been there"),
           _l("A mentor or experienced colleague who went through something similar.")),
)


def codes(options: Iterable[Option]) -> tuple[str, ...]:
    return tuple(option.code for option in options)


def choices(options: Iterable[Option]) -> list[tuple[str, str | LazyString]]:
    return [(option.code, option.label) for option in options]


def label(options: Iterable[Option], code: str) -> str | LazyString:
    """The label of ``code``, or the code itself when it is no longer offered."""
    return next((option.label for option in options if option.code == code), code)


def labels(options: Iterable[Option], selected: Iterable[str]) -> list[str | LazyString]:
    """Labels of the selected codes, in the order the options are offered."""
    options = tuple(options)
    chosen = set(selected)
    known = [option.label for option in options if option.code in chosen]
    unknown = sorted(chosen - set(codes(options)))
    return known + unknown


def wants_support(support_wanted: Iterable[str]) -> bool:
    """Whether any kind of support is ticked ("nothing right now" does not count)."""
    return any(code != NO_SUPPORT for code in support_wanted)
