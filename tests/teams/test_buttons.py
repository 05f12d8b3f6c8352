"""Issue 12: a prompt's Acknowledge on Teams is an `Action.Execute`; the app answers with the card
that replaces the clicked one (who and when, "Record decision" kept), checked as on Slack."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from scheduler.outbox import pending_row
from storage.models import Acknowledgement, AuditLog, Child, Outbox, Staff
from tests.bot.conftest import add_world
from tests.teams.conftest import APP_ID, TENANT

TM_AAD = "aad-tina-manager"
SW_AAD = "aad-sam-worker"
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
OBLIGATION = "C-1042:CB-NOTSEEN-DISCUSS:team_manager:2026-11-23T10:30:00+00:00"
PROMPT_TEXT = "*C-1042* (AB) was not seen on Mon 23 Nov: discuss with the social worker"


def _prompt(factory) -> dict[str, Any]:
    """The prompt as delivered (its outbox row), and its Acknowledge button's data."""
    add_world(factory)
    with factory.begin() as s:
        s.execute(update(Staff).where(Staff.chat_user_id == "U0TM").values(chat_user_id=TM_AAD))
        s.execute(update(Staff).where(Staff.chat_user_id == "U0SW").values(chat_user_id=SW_AAD))
        child_id = s.scalar(select(Child.id).where(Child.case_ref == "C-1042"))
        row = pending_row(
            key=f"{OBLIGATION}:prompt",
            stage="prompt",
            recipient_staff_id=None,
            recipient_channel=None,
            text=PROMPT_TEXT,
            payload={"actions": ["Acknowledge", "Record decision"]},
            now=NOW,
            late=False,
            child_id=child_id,
            rule="CB-NOTSEEN-DISCUSS",
        )
        s.execute(insert(Outbox), [row])
    return {
        "k": f"{OBLIGATION}:prompt",
        "o": OBLIGATION,
        "c": "C-1042",
        "r": "CB-NOTSEEN-DISCUSS",
        "w": "team_manager",
    }


def _execute(connector, aad: str, data: dict[str, Any], verb: str = "seen_ack") -> dict[str, Any]:
    return {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": "f:invoke-1",
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": f"29:{aad}", "aadObjectId": aad},
        "recipient": {"id": f"28:{APP_ID}", "name": "Seen"},
        "conversation": {"id": f"a:chat-{aad}", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
    }


def _texts(card: dict[str, Any]) -> str:
    return " ".join(str(item.get("text") or "") for item in card.get("body") or [])


def _titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card.get("actions") or []]


def test_acknowledge_updates_the_card_in_place_with_who_and_when(sender, factory, connector):
    """CB-NOTSEEN-DISCUSS: the team manager acknowledges; the card shows it, Record decision stays."""
    data = _prompt(factory)
    reply = sender.post(_execute(connector, TM_AAD, data))
    assert reply.status_code == 200
    body = reply.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "was not seen on Mon 23 Nov" in _texts(body["value"])
    assert "Acknowledged by the team manager at" in _texts(body["value"])
    assert _titles(body["value"]) == ["Record decision"]
    with factory() as s:
        assert s.scalar(select(Acknowledgement.key)) == OBLIGATION
        assert s.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "acknowledged"


def test_a_worker_may_not_acknowledge_and_the_refusal_is_audited(sender, factory, connector):
    data = _prompt(factory)
    body = sender.post(_execute(connector, SW_AAD, data)).json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert (
        body["value"]
        == "⛔ Only a manager of the child's team can acknowledge or decide this prompt for C-1042."
    )
    with factory() as s:
        assert s.scalar(select(Acknowledgement)) is None
        assert s.scalar(select(AuditLog.action).where(AuditLog.action == "teams.refused")) == "teams.refused"


def test_a_forged_key_of_another_child_is_refused(sender, factory, connector):
    data = {**_prompt(factory), "o": "C-2001:CB-NOTSEEN-DISCUSS:team_manager:2026-11-23T10:30:00+00:00"}
    body = sender.post(_execute(connector, TM_AAD, data)).json()
    assert body["value"] == "⛔ key: not an obligation or message of C-1042"
    with factory() as s:
        assert s.scalar(select(Acknowledgement)) is None
