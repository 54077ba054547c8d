"""Write audit-log events inside the caller's transaction."""

from __future__ import annotations

import json

from service.extensions import db
from service.models import Event


def record(
    action: str, subject_type: str, subject_id: int | None, actor: str = "system", **detail
) -> Event:
    """Add an event row to the current session (the caller commits)."""
    event = Event(
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        detail=json.dumps(detail, default=str) if detail else "",
    )
    db.session.add(event)
    return event
