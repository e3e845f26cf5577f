"""Writing audit events. Details hold ids and field names, never sensitive content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from simdebrief.models import AuditEvent, User


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def record(
    session: Session,
    *,
    action: str,
    now: datetime,
    actor: User | None = None,
    object_type: str = "",
    object_id: object = "",
    outcome: str = "ok",
    ip_address: str = "",
    detail: str = "",
) -> AuditEvent:
    event = AuditEvent(
        at=now,
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        ip_address=ip_address[:64],
        detail=_one_line(detail)[:2000],
    )
    session.add(event)
    session.flush()
    return event
