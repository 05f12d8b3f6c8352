"""Fact writers: each bumps the child's facts_version and writes an audit row with the fact, and
a bad fact raises FactError naming the field with nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.rules import model
from storage import models
from storage.audit import write_audit
from storage.facts import (
    FactError,
    VisitRecord,
    acknowledge,
    add_case_note,
    latest_contact,
    record_contact,
    record_decision,
    record_sighting,
)
from storage.models import AppendOnlyError

from .conftest import NOW, count_rows, make_child

AT = datetime(2026, 12, 21, 10, 30, tzinfo=UTC)


def _version(session: Session, child: models.Child) -> int:
    return session.scalar(select(models.Child.facts_version).where(models.Child.id == child.id)) or 0


def test_every_writer_bumps_facts_version_and_audits(session: Session) -> None:
    child, lead, manager = make_child(session)
    start = _version(session, child)
    contact = record_contact(
        session,
        child,
        model.Contact(at=AT, child_seen=True, seen_alone="yes", bedroom_seen=True),
        record=VisitRecord(present="mother", spoken_with=True, wishes_feelings="wants a dog"),
        by_staff=lead,
        visit_group=uuid.uuid4(),
        now=NOW,
    )
    record_sighting(session, child, model.AgencySighting(at=AT, agency="school"), now=NOW)
    record_decision(
        session,
        child,
        model.Decision(at=AT, rule="HI-SEEN-ALONE", by="team_manager", outcome="reviewed"),
        by_staff=manager,
        note="discussed in supervision",
        now=NOW,
    )
    note = add_case_note(session, child, manager, "Agreed plan with the family.", at=AT, now=NOW)
    acknowledge(session, child, manager, "C-1042:HI-VISIT-20WD:2027-01-21:reminder", at=AT, now=NOW)
    session.commit()
    assert _version(session, child) == start + 5
    actions = session.scalars(select(models.AuditLog.action).order_by(models.AuditLog.id)).all()
    assert actions == [
        "contact.recorded",
        "sighting.recorded",
        "decision.recorded",
        "case_note.added",
        "acknowledged",
    ]
    audit = session.scalars(select(models.AuditLog)).first()
    assert audit is not None and audit.actor == "staff" and audit.actor_staff_id == lead.id
    assert audit.detail["contact_id"] == contact.id
    assert note.text not in str([a.detail for a in session.scalars(select(models.AuditLog))])
    stored = session.get(models.Contact, contact.id)
    assert stored is not None and stored.wishes_feelings == "wants a dog" and stored.spoken_with is True


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        (model.Contact(at=AT, seen_alone="no"), "contact.seen_alone_reason"),
        (model.Contact(at=AT, child_seen=False, seen_alone="yes"), "contact.seen_alone"),
        (model.Contact(at=AT, child_seen=True, no_one_home=True), "contact.no_one_home"),
        (model.Contact(at=AT, recorded_at=AT - timedelta(hours=1)), "contact.recorded_at"),
        (model.Contact(at=AT, kind="phone"), "contact.kind"),
        (model.Contact(at=AT, by="neighbour"), "contact.by"),
        (model.Contact(at=AT.replace(tzinfo=None)), "contact.at"),
    ],
)
def test_a_bad_contact_names_the_field_and_writes_nothing(
    session: Session, contact: model.Contact, field: str
) -> None:
    child, _, _ = make_child(session)
    before = count_rows(session)
    with pytest.raises(FactError, match=f"^{field}: "):
        record_contact(session, child, contact, now=NOW)
    session.rollback()
    assert count_rows(session) == before


def test_a_bad_decision_names_the_field(session: Session) -> None:
    child, _, _ = make_child(session)
    with pytest.raises(FactError, match=r"^decision.within_working_days: required"):
        record_decision(
            session,
            child,
            model.Decision(at=AT, rule="CB-NOTSEEN-DISCUSS", by="team_manager", outcome="further_visit"),
        )
    with pytest.raises(FactError, match=r"^decision.outcome: "):
        record_decision(
            session,
            child,
            model.Decision(at=AT, rule="CB-NOTSEEN-DISCUSS", by="team_manager", outcome="shrug"),
        )
    with pytest.raises(FactError, match=r"^decision.rule: "):
        record_decision(
            session, child, model.Decision(at=AT, rule="visit", by="team_manager", outcome="reviewed")
        )


def test_a_retried_request_writes_once(session: Session) -> None:
    child, lead, _ = make_child(session)
    first = record_contact(
        session, child, model.Contact(at=AT), by_staff=lead, source_key="slack:V1", now=NOW
    )
    session.commit()
    version = _version(session, child)
    again = record_contact(
        session, child, model.Contact(at=AT), by_staff=lead, source_key="slack:V1", now=NOW
    )
    session.commit()
    assert again.id == first.id
    assert _version(session, child) == version
    assert len(session.scalars(select(models.Contact)).all()) == 1


def test_acknowledging_twice_is_one_fact(session: Session) -> None:
    child, _, manager = make_child(session)
    acknowledge(session, child, manager, "C-1042:k", at=AT)
    acknowledge(session, child, manager, "C-1042:k", at=AT + timedelta(minutes=1))
    session.commit()
    assert len(session.scalars(select(models.Acknowledgement)).all()) == 1


def test_a_contact_is_corrected_once(session: Session) -> None:
    """Corrections form a chain: the superseded one cannot be corrected again."""
    child, lead, _ = make_child(session)
    first = record_contact(session, child, model.Contact(at=AT), by_staff=lead)
    second = record_contact(session, child, model.Contact(at=AT, seen_alone="yes"), correction_of=first)
    assert latest_contact(session, first.id) is second
    with pytest.raises(FactError, match=r"^correction_of: contact .* was already corrected"):
        record_contact(
            session, child, model.Contact(at=AT, seen_alone="no", seen_alone_reason="x"), correction_of=first
        )


def test_case_note_edits_and_deletions_are_new_notes(session: Session) -> None:
    child, lead, _ = make_child(session)
    note = add_case_note(
        session, child, lead, "first words", at=AT, source="slack_thread", thread_ref="C1:1.2"
    )
    edit = add_case_note(session, child, lead, "better words", at=AT, supersedes=note)
    gone = add_case_note(session, child, lead, "", at=AT, supersedes=edit, deleted=True)
    session.commit()
    assert (edit.supersedes_id, gone.supersedes_id, gone.deleted) == (note.id, edit.id, True)
    assert session.get(models.CaseNote, note.id).text == "first words"  # type: ignore[union-attr]
    with pytest.raises(FactError, match=r"^case_note.text: "):
        add_case_note(session, child, lead, "  ", at=AT)


def test_facts_and_audit_rows_cannot_be_changed_through_the_orm(session: Session) -> None:
    child, lead, _ = make_child(session)
    contact = record_contact(session, child, model.Contact(at=AT), by_staff=lead)
    audit = write_audit(session, "test", child_id=child.id)
    session.commit()
    contact.child_seen = False
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    session.delete(audit)
    with pytest.raises(AppendOnlyError):
        session.flush()


def test_an_acknowledgement_is_of_the_child_it_names(session: Session) -> None:
    """Issue 9 item 5: an obligation key of another child (a forged but validly signed button
    value) was stored against this child, and showed the other child's reference in this child's
    subject-access export. It is refused and nothing is written; by child id as well as by row."""
    child, _, manager = make_child(session)
    other, _, _ = make_child(session, case_ref="C-2004")
    before = count_rows(session)
    for key in ("C-2004:HI-VISIT-20WD:lead_social_worker:2026-12-17", "C-10421:x", "C-104:x", "k", ":C-1042"):
        for named in (child, child.id):
            with pytest.raises(FactError, match=r"^key: not an obligation or message of C-1042$"):
                acknowledge(session, named, manager, key, at=AT, now=NOW)
    session.rollback()
    assert count_rows(session) == before
    acknowledge(session, other, manager, "C-2004:HI-VISIT-20WD:lead_social_worker:2026-12-17", at=AT, now=NOW)
