"""The learner's follow-up dates as events for their personal calendar feed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief.languages import gettext as _
from simdebrief.models import FollowUp, FollowUpStatus, Role, User
from simdebrief.services.calendar import FEED_FUTURE, FEED_PAST


def followup_events(session: Session, user: User, now: datetime) -> list:
    """The learner's follow-up dates for their calendar feed, named neutrally (a shared
    calendar must not tell anyone about a complaint or a difficult session)."""
    if user.role is not Role.STUDENT:
        return []
    zone = ZoneInfo(user.centre.timezone)
    rows = session.scalars(select(FollowUp).where(
        FollowUp.user_id == user.id,
        FollowUp.status.in_((FollowUpStatus.SCHEDULED, FollowUpStatus.CLAIMED,
                             FollowUpStatus.SENT, FollowUpStatus.COMPLETED)),
        FollowUp.due_at >= now - FEED_PAST, FollowUp.due_at < now + FEED_FUTURE)
        .order_by(FollowUp.due_at))
    from icalendar import Event  # loaded on use: most processes never build a calendar

    events = []
    for followup in rows:
        start = followup.due_at.astimezone(zone)
        events.append(Event.new(
            uid=f"followup-{followup.id}@simdebrief", stamp=now, start=start,
            end=start + timedelta(minutes=15), summary=_("SimDebrief check-in"),
            description=_("A short follow-up check-in. The link arrives by email, and your "
                          "follow-ups page lists it too. You can pause or stop follow-ups "
                          "there with one click."),
            status="CONFIRMED"))
    return events
