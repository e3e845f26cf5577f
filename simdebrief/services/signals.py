"""Domain events, announced once by the service operation that makes them happen.

A service owns a change and its announcement; the app connects the effects that need templates
or links (emails) at start-up, in ``simdebrief.emails.connect_signals``. So whichever entry point
performs an operation (a view, the CLI, the demo loader, a test), the same effects follow, in
the same transaction as the change.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the Debrief, now locked, with every present learner's follow-ups scheduled;
#: keyword: ``now``.
debrief_finalised = _signals.signal("debrief-finalised")

#: sender: a ``scheduling.SessionChange`` (who was added, removed, rescheduled or cancelled);
#: keyword: ``now``.
session_changed = _signals.signal("session-changed")

#: sender: a SupportRequest that now waits for a supporter of its tier (new or passed on);
#: keyword: ``now``.
support_requested = _signals.signal("support-requested")

#: sender: a SupportRequest that waited past its centre's response target and was passed up
#: (once); keyword: ``now``.
support_overdue = _signals.signal("support-overdue")
