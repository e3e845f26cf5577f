"""A stage's cells are k-suppressed once and again whenever its counts or k change."""

from collections import Counter

from simdebrief.services.followups.figures import StageFigures


def test_the_cells_follow_the_counts_and_k_after_being_read():
    figures = StageFigures("FU0", "Next day", 0, Counter(open=6, completed=5), k=5)
    assert figures["completed"].value == 5 and figures.sent.value == 11

    figures.counts["completed"] -= 2  # 3 < k: hidden, and a shown cell with it
    assert not figures["completed"].shown
    assert not figures.sent.shown

    figures.counts["expired"] += 7  # a group the stage did not have yet
    assert figures["expired"].value == 7

    figures.counts["completed"] += 2
    assert figures["completed"].value == 5 and figures.sent.value == 18

    figures.k = 6
    assert not figures["completed"].shown
