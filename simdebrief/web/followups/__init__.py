"""Staged follow-ups: stage forms, the learner's timeline and tracks, plans and figures."""
