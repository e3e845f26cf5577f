"""k-anonymous figures for staff: the rules every group figure follows, free of the database.

* A group is shown only when at least ``k`` learners are in it, where ``k`` is the centre's
  minimum group size and never less than ``K_FLOOR``.
* No minimum, maximum or range of a well-being value: those are one learner's answer.
* A count cell between 1 and k - 1 is shown as "fewer than k" (primary suppression). Where
  cells add up to a total that is shown, more cells are hidden until the hidden ones add up
  to 0 or at least k (complementary suppression), so the total cannot reveal a hidden cell.
  A count of a multiple choice (learners who ticked a reaction) is a partition too: ticked
  and not ticked; it is shown only when both sides are at least k.
* Figures are computed from closed sets only (the debrief check-in once the debrief is
  finalised; a follow-up stage once it is closed for every learner of its session), so a
  figure, once shown, never changes by one learner's later answer.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from simdebrief.languages import gettext as _

#: Staff never see a figure about fewer learners than this, whatever a centre sets.
K_FLOOR = 5


def k_for(min_group_size: int | None) -> int:
    return max(K_FLOOR, min_group_size or 0)


@dataclass(frozen=True)
class Count:
    """One cell of a table for staff. ``value`` is None when the cell is suppressed;
    ``fewer`` says on which side: fewer than k, or all but fewer than k."""

    value: int | None
    k: int
    fewer: bool = True

    @property
    def shown(self) -> bool:
        return self.value is not None

    def __int__(self) -> int:  # for arithmetic on shown cells only
        if self.value is None:
            raise ValueError("a suppressed cell has no value")
        return self.value


def suppress_partition(counts: Mapping[str, int], k: int) -> dict[str, Count]:
    """Cells that add up to a total that is shown. Every visible cell is 0 or at least k,
    and the hidden cells add up to 0 or at least k, so no subtraction reveals one."""
    shown = {name: value == 0 or value >= k for name, value in counts.items()}

    def hidden_sum() -> int:
        return sum(value for name, value in counts.items() if not shown[name])

    while 0 < hidden_sum() < k:
        candidates = [name for name, value in counts.items() if shown[name] and value > 0]
        if not candidates:
            break
        shown[min(candidates, key=lambda name: (counts[name], name))] = False
    if 0 < hidden_sum() < k:  # cannot be protected: hide every non-zero cell
        shown = {name: value == 0 for name, value in counts.items()}
    return {name: Count(value if shown[name] else None, k) for name, value in counts.items()}


def suppress_choice(ticked: int, group: int, k: int) -> Count:
    """How many of ``group`` learners ticked an option: shown only when at least k ticked it
    and at least k did not. "Nobody" and "everyone" are hidden too: either would tell each
    learner's answer."""
    if ticked < k:
        return Count(None, k, fewer=True)
    if group - ticked < k:
        return Count(None, k, fewer=False)
    return Count(ticked, k)


def count_text(cell: Count) -> str:
    """A cell as staff read it, in the current language."""
    if cell.value is not None:
        return str(cell.value)
    if cell.fewer:
        return _("fewer than %(k)d", k=cell.k)
    return _("all but fewer than %(k)d", k=cell.k)


def median_of(values: Iterable[int], k: int) -> float | None:
    """The middle value of at least k values; never a minimum, maximum or range."""
    values = list(values)
    return statistics.median(values) if len(values) >= k else None
