"""`seen export C-1042`: a subject access export of everything held about one child, audited."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.cli import main
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.rules import model
from storage import models
from storage.export import FORMAT, UnknownChildError, export_child
from storage.facts import acknowledge, add_case_note, latest_contact, record_contact
from tests.protection.test_encryption import (
    CASE_NOTE,
    DECISION_NOTE,
    NOTE_REASON,
    REASON,
    SECRETS,
    write_everything,
)
from tests.storage.conftest import NOW, make_child

LATER = NOW + timedelta(hours=1)


def build(factory: sessionmaker[Session]) -> int:
    """C-1042 with every kind of fact, a corrected visit, an edited and a deleted note, a message
    and a team due list naming it beside another child; and C-2000, whose data must not appear."""
    child_id = write_everything(factory)
    with factory() as session:
        other, other_lead, _ = make_child(session, case_ref="C-2000")
    with factory.begin() as session:
        child = session.get(models.Child, child_id)
        lead = child.lead_social_worker
        manager = session.scalar(select(models.Staff).where(models.Staff.role == "team_manager"))
        first = session.scalars(select(models.Contact).order_by(models.Contact.id)).first()
        record_contact(
            session,
            child_id,
            model.Contact(at=first.at, child_seen=True, seen_alone="yes", recorded_at=LATER),
            correction_of=latest_contact(session, first),
            by_staff=lead.id,
            now=LATER,
        )
        note = session.scalar(select(models.CaseNote).where(models.CaseNote.child_id == child_id))
        edited = add_case_note(session, child_id, lead.id, "Edited: " + CASE_NOTE, at=LATER, supersedes=note)
        add_case_note(session, child_id, lead.id, "", at=LATER, supersedes=edited, deleted=True)
        acknowledge(session, child_id, manager.id, "C-1042:HI-NOTSEEN-REVISIT:team_manager:x", at=LATER)
        add_case_note(session, other.id, other_lead.id, "Other child's note: Wilhelmina", at=LATER)
        for key, cid, text in (
            ("C-1042:HI-VISIT-20WD:lead:x:remind:s1", child_id, "Reminder: C-1042 (AB) visit due"),
            ("C-2000:HI-VISIT-20WD:lead:x:remind:s9", other.id, "Reminder: C-2000 (AB) visit due"),
            (
                "duelist:team1:2026-12-22",
                None,
                "*Due list*\n• C-1042 (AB) [HI-VISIT-20WD] due\n"
                "• C-2000 (AB) [HI-VISIT-20WD] due\n• C-10421 (XY)",
            ),
        ):
            session.add(
                models.Outbox(
                    key=key,
                    child_id=cid,
                    stage="remind",
                    send_after=NOW,
                    created_at=NOW,
                    text=text,
                    payload={},
                    next_attempt_at=NOW,
                )
            )
    return child_id


def test_export_holds_everything_about_the_child_and_nothing_else(factory: sessionmaker[Session]) -> None:
    build(factory)
    with factory.begin() as session:
        doc = export_child(session, "C-1042", now=LATER, policies=bundled_catalogue())
    text = json.dumps(doc)
    assert doc["format"] == FORMAT
    assert doc["child"]["case_ref"] == "C-1042" and doc["child"]["initials"] == "AB"
    assert doc["child"]["lead_social_worker"]["name"] == "Lead C-1042"
    assert doc["plans"][0]["started"] == "2026-12-17"
    # the visit record text, decrypted, including the version a correction replaced
    contacts = doc["contacts"]
    assert len(contacts) == 3
    first = contacts[0]
    assert {k: first[k] for k in SECRETS} == SECRETS
    assert first["seen_alone_reason"] == REASON and first["stands"] is False
    correction, not_seen = contacts[1], contacts[2]  # in time order; the correction keeps the time
    assert first["corrected_by"] == correction["id"] and correction["correction_of_id"] == first["id"]
    assert correction["stands"] is True and correction["seen_alone"] == "yes"
    assert not_seen["note_not_left_reason"] == NOTE_REASON
    # HI-OUTCOME's labels (the child's team follows the hillingdon policy)
    assert first["outcome"] == "successful statutory visit"
    assert not_seen["outcome"] == "unsuccessful statutory visit"
    assert doc["decisions"][0]["note"] == DECISION_NOTE
    # case notes: the original, its edit and the deletion
    notes = doc["case_notes"]
    assert [n["text"] for n in notes] == [CASE_NOTE, "Edited: " + CASE_NOTE, ""]
    assert [n["current"] for n in notes] == [False, False, False]
    assert notes[0]["superseded_by"] == notes[1]["id"] and notes[2]["deleted"] is True
    assert doc["acknowledgements"][0]["key"].startswith("C-1042:")
    assert [m["text"] for m in doc["messages"]] == ["Reminder: C-1042 (AB) visit due"]
    assert doc["due_list_mentions"][0]["lines"] == ["• C-1042 (AB) [HI-VISIT-20WD] due"]
    actions = {a["action"] for a in doc["audit_log"]}
    assert {"contact.recorded", "contact.corrected", "case_note.added", "case_note.deleted"} <= actions
    assert doc["counts"]["contacts"] == 3 and doc["counts"]["case_notes"] == 3
    # nothing about the other child
    assert "C-2000" not in text and "Wilhelmina" not in text and "C-10421" not in text


def test_export_is_audited_with_counts_only(factory: sessionmaker[Session]) -> None:
    child_id = build(factory)
    with factory.begin() as session:
        doc = export_child(session, "C-1042", now=LATER, policies=bundled_catalogue())
    with factory() as session:
        audit = session.scalar(
            select(models.AuditLog).where(models.AuditLog.action == "subject_access.exported")
        )
    assert audit is not None and audit.child_id == child_id and audit.actor == "export"
    assert audit.detail == {"counts": doc["counts"]}


def test_unknown_child(factory: sessionmaker[Session]) -> None:
    with factory() as session, pytest.raises(UnknownChildError, match="C-9999: no child"):
        export_child(session, "C-9999", policies=bundled_catalogue())


def test_cli_export_to_stdout_and_file(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(factory)
    assert main(["export", "C-1042", "--database-url", db_url]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["case_notes"][0]["text"] == CASE_NOTE
    out = tmp_path / "sar.json"
    assert main(["export", "C-1042", "--out", str(out), "--database-url", db_url]) == 0
    assert json.loads(out.read_text())["child"]["case_ref"] == "C-1042"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert capsys.readouterr().out == ""  # the file, not standard output
    with factory() as session:
        audits = session.scalars(
            select(models.AuditLog).where(models.AuditLog.action == "subject_access.exported")
        ).all()
    assert len(audits) == 2


def test_cli_unknown_case_ref_exits_2_with_one_line(
    db_url: str, factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    build(factory)
    assert main(["export", "C-9999", "--database-url", db_url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "seen export: C-9999: no child with this case reference\n"
    with factory() as session:
        assert (
            session.scalar(select(models.AuditLog).where(models.AuditLog.action == "subject_access.exported"))
            is None
        )
