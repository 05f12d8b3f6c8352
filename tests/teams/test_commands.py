"""Issue 12: typed commands on Teams, in the 1:1 chat and as an @mention in a channel, answered
by the same core as Slack's /seen; staff matched by Entra object id, anyone else refused, every
answer audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from scheduler.outbox import pending_row
from storage.models import AuditLog, CaseNote, Child, Outbox, Staff
from tests.bot.conftest import add_world
from tests.teams.conftest import channel_message, personal_message

TM_AAD = "aad-tina-manager"
SW_AAD = "aad-sam-worker"


def _staff_on_teams(factory) -> None:
    """On a Teams deployment Staff.chat_user_id holds the Entra object id."""
    add_world(factory)
    with factory.begin() as s:
        s.execute(update(Staff).where(Staff.chat_user_id == "U0TM").values(chat_user_id=TM_AAD))
        s.execute(update(Staff).where(Staff.chat_user_id == "U0SW").values(chat_user_id=SW_AAD))


def _answers(connector, conversation: str) -> list[str]:
    with connector.lock:
        return [a.get("text") or "" for a in connector.conversations.get(conversation, {}).values()]


def test_child_in_the_personal_chat_answers_with_the_deadlines_and_is_audited(sender, factory, connector):
    _staff_on_teams(factory)
    assert sender.post(personal_message(connector, TM_AAD, "child C-1042")).status_code == 200
    (answer,) = _answers(connector, f"a:chat-{TM_AAD}")
    assert "C-1042" in answer and "CB-VISIT-10WD" in answer
    with factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "case.viewed"))
        assert audit.detail == {"via": "teams"}


def test_help_on_teams_names_the_commands_without_the_slash(sender, factory, connector):
    _staff_on_teams(factory)
    sender.post(personal_message(connector, SW_AAD, "help"))
    (answer,) = _answers(connector, f"a:chat-{SW_AAD}")
    assert "<code>due</code>" in answer and "<code>home</code>" in answer and "/seen" not in answer


def test_an_unknown_person_is_refused_as_on_slack_and_the_refusal_audited(sender, factory, connector):
    _staff_on_teams(factory)
    sender.post(personal_message(connector, "aad-stranger", "due"))
    (answer,) = _answers(connector, "a:chat-aad-stranger")
    assert answer.startswith("⚠️ Seen does not know your Microsoft Teams account yet")
    with factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "teams.refused"))
        assert audit.actor == "teams" and audit.detail["chat_user_id"] == "aad-stranger"


def test_a_note_by_mention_in_a_channel_is_kept_once_when_the_connector_retries(sender, factory, connector):
    _staff_on_teams(factory)
    message = channel_message(connector, SW_AAD, "note C-1042 Mum called about Friday")
    sender.post(message)
    sender.post(message)  # the Bot Connector's retry of the same activity
    with factory() as s:
        notes = list(s.scalars(select(CaseNote.text).where(CaseNote.source_key.like("teams:note:%"))))
    assert notes == ["Mum called about Friday"]
    assert _answers(connector, "19:north@thread.tacv2")[0] == "Case note added to C-1042 (AB)."


def test_a_channel_message_not_addressed_to_seen_gets_no_answer(sender, factory, connector):
    _staff_on_teams(factory)
    message = channel_message(connector, SW_AAD, "due")
    message["text"], message["entities"] = "due", []
    assert sender.post(message).status_code == 200
    assert _answers(connector, "19:north@thread.tacv2") == []


def test_a_reply_in_the_thread_of_seens_channel_post_is_kept_as_a_case_note_once(sender, factory, connector):
    """Issue 12: as on Slack, a thread reply to a reminder/prompt/due list is a case note on its child
    (no @mention needed); the connector's retry stores it once."""
    _staff_on_teams(factory)
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
    message = channel_message(connector, SW_AAD, "Spoke to Mum, visit booked for Friday")
    message["conversation"]["id"] = f"{channel};messageid=1:1001"
    message["text"], message["entities"] = "Spoke to Mum, visit booked for Friday", []
    assert sender.post(message).status_code == 200
    sender.post(message)
    with factory() as s:
        notes = list(s.scalars(select(CaseNote).where(CaseNote.source == "teams_thread")))
    assert [(n.text, n.child_id, n.thread_ref) for n in notes] == [
        ("Spoke to Mum, visit booked for Friday", child_id, f"{channel}|1:1001")
    ]
    assert _answers(connector, f"{channel};messageid=1:1001")[0] == "Kept as a case note on C-1042 (AB)."
