"""Issue 12: on Teams a 1:1 chat has no threads; a reply to Seen's reminder, prompt or due list there
is Teams' quoted reply (a message with a `quotedReply` entity naming it). It is kept as a case note on
the message's child exactly as a Slack thread reply is (source, thread reference, retry stored once,
refusal audited); an edit of it is a new version, a deletion a deleted version, as on Slack."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from bot.core.words import latest_note
from scheduler.outbox import pending_row
from storage.models import AuditLog, CaseNote, Child, Outbox
from tests.teams.conftest import APP_ID, TENANT, channel_message, personal_message
from tests.teams.test_dialogs import SW_AAD, TM_AAD, _world, teams_bot  # noqa: F401

PROMPT_ID = "1:2001"


def _sent_to(factory, aad: str, child: str = "C-1042") -> str:
    """A prompt about `child` Seen delivered to `aad`'s 1:1 chat: its message reference."""
    chat = f"a:chat-{aad}"
    with factory.begin() as s:
        child_id = s.scalar(select(Child.id).where(Child.case_ref == child))
        row = pending_row(
            key=f"{child}:CB-NOTSEEN-DISCUSS:team_manager:x:prompt",
            stage="prompt",
            recipient_staff_id=None,
            recipient_channel=None,
            text=f"*Decision needed* · {child} · [CB-NOTSEEN-DISCUSS]",
            payload={},
            now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            late=False,
            child_id=child_id,
        )
        s.execute(insert(Outbox), [{**row, "status": "sent", "message_ref": f"{chat}|{PROMPT_ID}"}])
    return f"{chat}|{PROMPT_ID}"


def _quoting(connector, aad: str, text: str, quoted: str = PROMPT_ID, activity_id: str = "1:5001") -> dict:
    entity = {"type": "quotedReply", "quotedReply": {"messageId": quoted, "senderId": f"28:{APP_ID}"}}
    return {
        **personal_message(connector, aad, f'<quoted messageId="{quoted}"/> {text}'),
        "id": activity_id,
        "entities": [entity],
    }


def _answers(connector, aad: str) -> list[str]:
    with connector.lock:
        return [a.get("text") or "" for a in connector.conversations.get(f"a:chat-{aad}", {}).values()]


def _notes(factory) -> list[CaseNote]:
    with factory() as s:
        return list(
            s.scalars(select(CaseNote).where(CaseNote.source == "teams_thread").order_by(CaseNote.id))
        )


def _changed(connector, aad: str, kind: str, text: str = "", activity_id: str = "1:5001") -> dict[str, Any]:
    """Teams' event for an edit (messageUpdate, editMessage) or deletion (messageDelete) of a message."""
    base = personal_message(connector, aad, text)
    event = "editMessage" if kind == "messageUpdate" else "softDeleteMessage"
    activity = {
        **base,
        "type": kind,
        "id": activity_id,
        "channelData": {"tenant": {"id": TENANT}, "eventType": event},
    }
    if kind == "messageDelete":
        activity.pop("text")
    return activity


def test_a_quoted_reply_to_seens_prompt_is_kept_once_as_a_case_note_on_its_child(sender, factory, connector):
    _world(factory)
    ref = _sent_to(factory, TM_AAD)
    reply = _quoting(connector, TM_AAD, "Asked the duty worker to cover")
    assert sender.post(reply).status_code == 200
    assert sender.post(reply).status_code == 200  # the Bot Connector's retry
    (note,) = _notes(factory)
    with factory() as s:
        child_id = s.scalar(select(Child.id).where(Child.case_ref == "C-1042"))
    assert (note.text, note.child_id, note.thread_ref, note.source_key) == (
        "Asked the duty worker to cover",
        child_id,
        ref,
        f"teams:msg:a:chat-{TM_AAD}:1:5001",
    )
    assert _answers(connector, TM_AAD)[0] == "Kept as a case note on C-1042 (AB)."


def test_quoting_a_message_that_is_not_seens_about_a_child_is_a_command_not_a_note(
    sender, factory, connector
):
    _world(factory)
    _sent_to(factory, TM_AAD)
    assert sender.post(_quoting(connector, TM_AAD, "child C-1042", quoted="1:9999")).status_code == 200
    assert _notes(factory) == []
    (answer,) = _answers(connector, TM_AAD)
    assert "C-1042" in answer and "CB-VISIT-10WD" in answer  # the child's deadlines


def test_a_quoted_reply_by_someone_who_may_not_see_the_child_is_refused_audited_and_not_kept(
    sender, factory, connector
):
    _world(factory)
    _sent_to(factory, "aad-stranger")
    sender.post(_quoting(connector, "aad-stranger", "A note"))
    assert _notes(factory) == []
    assert _answers(connector, "aad-stranger")[0].startswith(
        "⚠️ Seen does not know your Microsoft Teams account"
    )
    with factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "teams.refused"))
        assert audit.detail["action"] == "thread_reply"


def test_an_edit_is_a_new_version_and_a_deletion_a_deleted_one_as_on_slack(sender, factory, connector):
    _world(factory)
    _sent_to(factory, TM_AAD)
    sender.post(_quoting(connector, TM_AAD, "Asked the duty worker"))
    edit = _changed(connector, TM_AAD, "messageUpdate", '<quoted messageId="1:2001"/> Asked the duty senior')
    assert sender.post(edit).status_code == 200
    assert sender.post(edit).status_code == 200  # the same words again: no new version
    key = f"teams:msg:a:chat-{TM_AAD}:1:5001"
    with factory() as s:
        latest = latest_note(s, key)
        assert (latest.text, latest.deleted) == ("Asked the duty senior", False)
    assert sender.post(_changed(connector, TM_AAD, "messageDelete")).status_code == 200
    notes = _notes(factory)
    assert [(n.text, n.deleted, n.supersedes_id) for n in notes] == [
        ("Asked the duty worker", False, None),
        ("Asked the duty senior", False, notes[0].id),
        ("", True, notes[1].id),
    ]
    assert _answers(connector, TM_AAD) == ["Kept as a case note on C-1042 (AB)."]  # edits are not answered


def test_an_edit_of_a_message_that_was_not_kept_changes_nothing(sender, factory, connector):
    _world(factory)
    _sent_to(factory, TM_AAD)
    assert sender.post(_changed(connector, TM_AAD, "messageUpdate", "due", "1:7777")).status_code == 200
    assert sender.post(_changed(connector, TM_AAD, "messageDelete", "", "1:7777")).status_code == 200
    assert _notes(factory) == [] and _answers(connector, TM_AAD) == []


def test_an_edit_of_a_channel_thread_reply_is_a_new_version(sender, factory, connector):
    _world(factory)
    channel = "19:north@thread.tacv2"
    with factory.begin() as s:
        child_id = s.scalar(select(Child.id).where(Child.case_ref == "C-1042"))
        row = pending_row(
            key="C-1042:CB-VISIT-10WD:reminder",
            stage="reminder",
            recipient_staff_id=None,
            recipient_channel=channel,
            text="C-1042 (AB) home visit due",
            payload={},
            now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            late=False,
            child_id=child_id,
        )
        s.execute(insert(Outbox), [{**row, "status": "sent", "message_ref": f"{channel}|1:1001"}])
    message = channel_message(connector, SW_AAD, "Visit booked")
    message["conversation"]["id"] = f"{channel};messageid=1:1001"
    message["text"], message["entities"] = "Visit booked", []
    sender.post(message)
    edit = {**message, "type": "messageUpdate", "text": "Visit booked for Friday"}
    edit["channelData"] = {**message["channelData"], "eventType": "editMessage"}
    assert sender.post(edit).status_code == 200
    assert [n.text for n in _notes(factory)] == ["Visit booked", "Visit booked for Friday"]
