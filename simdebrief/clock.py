"""Where "now" comes from. Services take ``now``; views and jobs ask the app's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock tests can set and move forward, never sleeping."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def current_now() -> datetime:
    return current_app.extensions["simdebrief.clock"].now()
