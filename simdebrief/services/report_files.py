"""Documents as files: links, names, audited downloads, PDF bytes, email attachments."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from flask import current_app, has_request_context, url_for
from sqlalchemy.orm import Session

from simdebrief.languages import locale_of, written_in
from simdebrief.models import (
    Debrief,
    SimSession,
    User,
)
from simdebrief.reports import data
from simdebrief.services import (
    audit,
    debriefing,
)
from simdebrief.services.report_data import (
    SessionParts,
    attended,
    load_debrief,
    load_followups,
    load_session,
    session_parts,
)
from simdebrief.services.reports import learner_report, session_summary

log = logging.getLogger(__name__)


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link to a page, also outside a request (jobs and commands)."""
    base = current_app.config["SIMDEBRIEF_BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/", base_url=base):
        return base + url_for(endpoint, **values)


def feedback_url(session_id: int, learner_id: int) -> str:
    return absolute_url("reports.learner_page", session_id=session_id, learner_id=learner_id)


_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe",
                                "Å": "Aa", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d"})


def slug(text: str) -> str:
    """A file-name-safe ASCII form of a name: "Søren Ås" -> "soeren-aas"."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE)).encode(
        "ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "learner"


def learner_filename(sim_session: SimSession, learner: User) -> str:
    day = sim_session.starts_at.date().isoformat()
    return f"debrief-{day}-session-{sim_session.id}-{slug(learner.name)}.pdf"


def summary_filename(sim_session: SimSession) -> str:
    day = sim_session.starts_at.date().isoformat()
    return f"debrief-{day}-session-{sim_session.id}-summary.pdf"


def record_download(session: Session, *, actor: User | None, now: datetime, document: str,
                    object_type: str, object_id: object, detail: str = "") -> None:
    """Audit a document leaving the system; ids and names of fields only, never content."""
    audit.record(session, action="report.downloaded", actor=actor, now=now,
                 object_type=object_type, object_id=object_id,
                 detail=f"document={document}" + (f" {detail}" if detail else ""))


# --- rendering --------------------------------------------------------------------------------


# The builders import reportlab (about half a second): only a process that renders a document
# pays for it, not every CLI command.


def render_learner(report: data.LearnerReport) -> bytes:
    from simdebrief.reports.learner_pdf import render_learner_pdf

    return render_learner_pdf(report)


def render_summary(summary: data.SessionSummary) -> bytes:
    from simdebrief.reports.summary_pdf import render_summary_pdf

    return render_summary_pdf(summary)


def render_progress(report: data.ProgressReport) -> bytes:
    from simdebrief.reports.progress_pdf import render_progress_pdf

    return render_progress_pdf(report)


@dataclass
class SessionDocuments:
    """Every attending learner's document and the summary, rendered one at a time."""

    count: int
    documents: Iterator[tuple[str, bytes]]

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return self.documents


def render_session_documents(session: Session, *, sim_session: SimSession, debrief: Debrief,
                             now: datetime,
                             twin_url: Callable[[int, int], str] = feedback_url
                             ) -> SessionDocuments:
    """(file name, PDF) for each learner who attended, then the instructors' summary.

    The group's part is read and laid out once for the whole session. No check-in data is
    ever included: these documents leave the learners' hands.
    """
    learners = sorted(debriefing.debrief_learners(sim_session), key=lambda u: u.name)

    def documents() -> Iterator[tuple[str, bytes]]:
        shared: dict[str, SessionParts] = {}
        followups = defaultdict(list)
        for row in load_followups(session, session_id=sim_session.id):
            followups[row.user_id].append(row)
        for learner in learners:
            locale = locale_of(learner)
            with written_in(locale):
                if locale not in shared:
                    shared[locale] = session_parts(sim_session, debrief)
                report = learner_report(session, sim_session=sim_session, debrief=debrief,
                                        learner=learner, now=now,
                                        twin_url=twin_url(sim_session.id, learner.id),
                                        parts=shared[locale],
                                        followup_rows=followups[learner.id])
            yield learner_filename(sim_session, learner), render_learner(report)
        summary = session_summary(session, sim_session=sim_session, debrief=debrief, now=now)
        yield summary_filename(sim_session), render_summary(summary)

    return SessionDocuments(len(learners) + 1, documents())


# --- email attachments ----------------------------------------------------------------------

ATTACHMENT_KIND = "learner_pdf"


class AttachmentError(Exception):
    """An attachment could not be rendered; the email is retried later."""


def attachment_reference(session_id: int, learner_id: int) -> str:
    return f"{ATTACHMENT_KIND}:{session_id}:{learner_id}"


def resolve_attachment(session: Session, reference: str, *,
                       now: datetime) -> tuple[str, bytes] | None:
    """(file name, PDF) for an outbox reference such as ``learner_pdf:12:34``.

    None when it no longer points at a finalised debrief the learner attended (the email
    then goes without it; its link still works). Attachments never carry check-in data.
    """
    kind, _sep, rest = reference.partition(":")
    session_text, _sep, learner_text = rest.partition(":")
    if kind != ATTACHMENT_KIND or not (session_text.isdigit() and learner_text.isdigit()):
        log.warning("unknown attachment reference %r", reference)
        return None
    sim_session = load_session(session, int(session_text))
    learner = session.get(User, int(learner_text))
    debrief = load_debrief(session, sim_session) if sim_session is not None else None
    if (debrief is None or learner is None or not debrief.is_final
            or not attended(sim_session, learner.id)):
        return None
    try:
        with written_in(locale_of(learner)):  # the recipient reads it, in their language
            report = learner_report(session, sim_session=sim_session, debrief=debrief,
                                    learner=learner, now=now,
                                    twin_url=feedback_url(sim_session.id, learner.id))
            return learner_filename(sim_session, learner), render_learner(report)
    except Exception as error:  # any failure to render: retry the email, do not drop it
        raise AttachmentError(repr(error)) from error


def attach(session: Session, message: EmailMessage, reference: str, *, now: datetime) -> None:
    """Add the referenced PDF to an email that is about to be sent."""
    resolved = resolve_attachment(session, reference, now=now)
    if resolved is not None:
        filename, pdf = resolved
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
