"""Emails about feedback documents: "your feedback is ready" when a debrief is finalised.

Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime

from flask import url_for

from simdebrief.emails.composer import absolute_url, later, queue_templated
from simdebrief.languages import lazy_gettext as _l
from simdebrief.services import debriefing, report_files
from simdebrief.timefmt import span_text


def queue_feedback_ready(debrief, now: datetime) -> int:
    """Tell each learner who attended that their feedback is ready, with a link behind login.

    With the centre's setting on, the email also carries the learner's PDF, rendered when it
    is sent and never with check-in data. Returns how many emails were queued.
    """
    sim_session = debrief.session
    centre = sim_session.centre
    queued = 0
    for learner in debriefing.debrief_learners(sim_session):
        email = queue_templated(
            key=f"feedback_ready:{sim_session.id}:{learner.id}", to=learner,
            template="feedback_ready",
            subject=_l("Your feedback from the simulation session is ready"), now=now,
            sim_session=sim_session,
            when=later(span_text, sim_session.starts_at, sim_session.ends_at, centre.timezone),
            link=absolute_url(url_for("reports.learner_page", session_id=sim_session.id,
                                      learner_id=learner.id)),
            attached=centre.attach_feedback_pdf, support_contacts=centre.support_contacts)
        if centre.attach_feedback_pdf:
            email.attachment = report_files.attachment_reference(sim_session.id, learner.id)
        queued += 1
    return queued
