"""What a stored fact says in words: a contact's outcome, the latest version of a thread's note."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.rules import model
from scheduler.rules.engine import outcome_label
from scheduler.rules.policy import Policy
from storage.models import CaseNote, Contact


def outcome_words(policy: Policy, contact: model.Contact) -> str:
    """HI-OUTCOME's label where the policy sets one, else the kind of contact and how it went."""
    label = outcome_label(policy, contact)
    if policy.rule_of_kind("outcome_labels") is not None and contact.kind == "home_visit":
        return label
    if contact.no_one_home:
        return f"{label} (no one home)"
    return f"{label} ({'child seen' if contact.child_seen else 'child not seen'})"


def contact_model(row: Contact) -> model.Contact:
    return model.Contact(
        at=row.at, kind=row.kind, by=row.by_role, child_seen=row.child_seen, no_one_home=row.no_one_home
    )


def latest_note(s: Session, source_key: str) -> CaseNote | None:
    row = s.scalar(select(CaseNote).where(CaseNote.source_key == source_key))
    while row is not None:
        newer = s.scalar(
            select(CaseNote).where(CaseNote.supersedes_id == row.id).order_by(CaseNote.id.desc())
        )
        if newer is None:
            return row
        row = newer
    return None
