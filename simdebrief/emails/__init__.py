"""Every email SimDebrief sends, composed from ``templates/emails/`` into the outbox.

Kept apart from services so that services stay free of templates and links:
``composer`` renders and enqueues, ``sessions`` tells participants about their sessions,
``feedback`` says a learner's feedback is ready, ``followups`` writes the stage emails and
runs one dispatch pass, ``support`` tells supporters that someone asked to talk.

``connect_signals`` makes the emails follow the domain events that services announce
(``simdebrief.services.signals``); the app calls it once at start-up.
"""

from __future__ import annotations

from simdebrief.emails.composer import link_context
from simdebrief.emails.feedback import queue_feedback_ready
from simdebrief.emails.sessions import queue_session_change
from simdebrief.emails.support import queue_overdue_notice, queue_support_notice
from simdebrief.services import signals


def _with_links(queue):
    def receiver(sender, *, now):
        with link_context():
            queue(sender, now)
    receiver.__name__ = f"on_{queue.__name__}"
    return receiver


#: (signal, what to queue on it); receivers are kept for the life of the process.
_RECEIVERS = [
    (signals.debrief_finalised, _with_links(queue_feedback_ready)),
    (signals.session_changed, _with_links(queue_session_change)),
    (signals.support_requested, _with_links(queue_support_notice)),
    (signals.support_overdue, _with_links(queue_overdue_notice)),
]


def connect_signals() -> None:
    """Connect each email to its domain event; connecting again changes nothing."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, weak=False)
