"""Subject access export: everything Seen holds about one child, as one JSON document.

    seen export C-1042 [--out FILE]

The child; every plan with its meetings; every contact with its visit record text (decrypted),
including the versions a correction replaced; agency sightings; decisions with their notes; case
notes including superseded and deleted versions; acknowledgements; the messages sent (or waiting)
about the child, and the lines naming the child in team due lists; the audit rows about the child.
Staff who appear are named with their role (they acted in a professional capacity); a council
reviews third-party information before disclosure as usual. Visits carry HI-OUTCOME's labels
("successful statutory visit" / "unsuccessful statutory visit") where the child's policy sets them.

The export is itself audited (`subject_access.exported`, counts only) in the transaction that reads
the data, before anything is written out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.rules import model
from storage import models
from storage.audit import write_audit
from storage.caseload import PolicyCatalogue
from storage.cases import contact_role

FORMAT = "seen-subject-access-export/1"


class UnknownChildError(LookupError):
    """No child with this case reference."""


def export_child(
    session: Session,
    case_ref: str,
    *,
    policies: PolicyCatalogue,
    actor: models.Staff | int | str | None = "export",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The export of one child (see the module docstring), with its audit row added to `session`
    (the caller commits); `policies` labels its contacts (HI-OUTCOME). Raises UnknownChildError."""
    now = now or datetime.now(UTC)
    child = session.scalar(select(models.Child).where(models.Child.case_ref == case_ref))
    if child is None:
        raise UnknownChildError(f"{case_ref}: no child with this case reference")
    staff: dict[int, models.Staff] = {}

    def who(staff_id: int | None) -> dict[str, Any] | None:
        if staff_id is None:
            return None
        if staff_id not in staff:
            person = session.get(models.Staff, staff_id)
            if person is None:
                return {"id": staff_id}
            staff[staff_id] = person
        person = staff[staff_id]
        return {"id": person.id, "name": person.name, "role": person.role}

    def rows(table: Any, *order: Any) -> list[Any]:
        return list(
            session.scalars(select(table).where(table.child_id == child.id).order_by(*order, table.id))
        )

    def listed(
        found: list[Any],
        staff_id: str,
        skip: tuple[str, ...] = (),
        more: Callable[[Any], dict[str, Any]] = lambda _row: {},
    ) -> list[dict[str, Any]]:
        """Each row's columns, the staff member in place of the id column `staff_id` (e.g.
        "by_staff_id" -> "by_staff"), then what `more` adds for the row."""
        items = []
        for row in found:
            item = _columns(row, skip={"child_id", staff_id, *skip})
            item[staff_id.removesuffix("_id")] = who(getattr(row, staff_id))
            items.append(item | more(row))
        return items

    team = child.team
    label = _labeller(policies, team.policy_id)

    plans = listed(
        rows(models.Plan, models.Plan.started),
        "cp_chair_agreed_by_id",
        more=lambda plan: {"meetings": [_columns(m, skip={"plan_id", "id"}) for m in plan.meetings]},
    )

    contacts_rows = rows(models.Contact, models.Contact.at)
    corrected_by = {c.correction_of_id: c.id for c in contacts_rows if c.correction_of_id is not None}

    def contact_more(c: models.Contact) -> dict[str, Any]:
        staff_role = staff[c.by_staff_id].role if c.by_staff_id in staff else None
        by = contact_role(c.by_role, c.by_staff_id, staff_role, child.lead_social_worker_id)
        return {
            "corrected_by": corrected_by.get(c.id),
            "stands": c.id not in corrected_by,
            "outcome": label(c, by),
        }

    contacts = listed(contacts_rows, "by_staff_id", more=contact_more)
    sightings = listed(rows(models.AgencySighting, models.AgencySighting.at), "recorded_by_id")
    decisions = listed(rows(models.Decision, models.Decision.at), "by_staff_id")

    notes_rows = rows(models.CaseNote, models.CaseNote.at)
    superseded_by = {n.supersedes_id: n.id for n in notes_rows if n.supersedes_id is not None}
    notes = listed(
        notes_rows,
        "author_id",
        more=lambda n: {
            "superseded_by": superseded_by.get(n.id),
            "current": n.id not in superseded_by and not n.deleted,
        },
    )
    acknowledgements = listed(rows(models.Acknowledgement, models.Acknowledgement.at), "staff_id")
    messages = listed(
        rows(models.Outbox, models.Outbox.created_at),
        "recipient_staff_id",
        skip=("claimed_by", "claimed_until"),
    )

    mentions = []
    pattern = re.compile(rf"(?<![\w-]){re.escape(child.case_ref)}(?![\w-])")
    for o in session.scalars(
        select(models.Outbox)
        .where(models.Outbox.child_id.is_(None), models.Outbox.text.contains(child.case_ref, autoescape=True))
        .order_by(models.Outbox.created_at, models.Outbox.id)
    ):
        lines = [line for line in o.text.splitlines() if pattern.search(line)]
        if lines:  # only the lines about this child, not the rest of a team's due list
            mentions.append(
                {
                    "key": o.key,
                    "stage": o.stage,
                    "created_at": _json(o.created_at),
                    "sent_at": _json(o.sent_at),
                    "status": o.status,
                    "recipient_staff": who(o.recipient_staff_id),
                    "recipient_channel": o.recipient_channel,
                    "lines": lines,
                }
            )

    audit = listed(rows(models.AuditLog, models.AuditLog.at), "actor_staff_id")

    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "child": {
            "case_ref": child.case_ref,
            "initials": child.initials,
            "date_of_birth": _json(child.date_of_birth),
            "team": team.name,
            "policy": team.policy_id,
            "lead_social_worker": who(child.lead_social_worker_id),
            "closed_at": _json(child.closed_at),
        },
        "plans": plans,
        "contacts": contacts,
        "agency_sightings": sightings,
        "decisions": decisions,
        "case_notes": notes,
        "acknowledgements": acknowledgements,
        "messages": messages,
        "due_list_mentions": mentions,
        "audit_log": audit,
    }
    counts = {k: len(v) for k, v in document.items() if isinstance(v, list)}
    document["counts"] = counts
    write_audit(
        session, "subject_access.exported", child_id=child.id, actor=actor, at=now, detail={"counts": counts}
    )
    return document


def _labeller(policies: PolicyCatalogue, policy_id: str):  # type: ignore[no-untyped-def]
    """HI-OUTCOME's label of a stored contact under the child's policy (None when unknown)."""
    from scheduler.rules.engine import outcome_label
    from scheduler.rules.policy import PolicyError

    try:
        policy = policies.load(policy_id)
    except PolicyError:
        return lambda _c, _by: None

    def label(c: models.Contact, by: str) -> str:
        return outcome_label(
            policy, model.Contact(at=c.at, kind=c.kind, by=by, child_seen=c.child_seen, qualified=c.qualified)
        )

    return label


def _columns(row: Any, *, skip: set[str]) -> dict[str, Any]:
    return {
        attr.key: _json(getattr(row, attr.key))
        for attr in row.__mapper__.column_attrs
        if attr.key not in skip
    }


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
