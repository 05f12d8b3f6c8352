"""The audit log: append-only. There is a writer and nothing that changes or removes a row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.models import AuditLog, Staff


def write_audit(
    session: Session,
    action: str,
    *,
    child_id: int | None = None,
    actor: Staff | int | str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Add one audit row in the caller's transaction. `actor`: a staff member (or their id), or
    a label for the system part that acted ("import", "sweep"); None means "system"."""
    if isinstance(actor, str):
        label, staff_id = actor, None
    else:
        staff_id = actor.id if isinstance(actor, Staff) else actor
        label = "staff" if staff_id is not None else "system"
    row = AuditLog(
        at=at or datetime.now(UTC),
        actor=label,
        actor_staff_id=staff_id,
        action=action,
        child_id=child_id,
        detail=detail or {},
    )
    session.add(row)
    return row
