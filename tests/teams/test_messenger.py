"""The Messenger port on Teams: proactive 1:1 messages and channel posts through the Bot Connector
REST API, 429 with Retry-After and 412/5xx retried by the outbox, cards updated in place (issue 12,
delivery)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.core.model import Message
from bot.teams.conversations import Reference, remember
from bot.teams.messenger import TeamsMessenger, outgoing_message, plain
from scheduler.delivery import deliver_due
from scheduler.messenger import DeliveryError, OutgoingMessage
from scheduler.outbox import pending_row
from storage.models import Outbox, Staff, Team
from tests.teams.conftest import TENANT

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
WORKER = "aad-worker-1"
CHANNEL = "19:team-north@thread.tacv2"
PROMPT_PAYLOAD = {
    "actions": ["Acknowledge", "Record decision"],
    "obligation": "CB-NOTSEEN-DISCUSS:C-1042",
    "child": "C-1042",
    "rule": "CB-NOTSEEN-DISCUSS",
    "owner": "team_manager",
}


@pytest.fixture
def messenger(teams_bot, factory, connector) -> Iterator[TeamsMessenger]:
    remember(
        factory,
        Reference("personal", connector.open("a:chat-1"), connector.url, TENANT, aad_object_id=WORKER),
    )
    remember(
        factory, Reference("channel", connector.open(CHANNEL), connector.url, TENANT, channel_id=CHANNEL)
    )
    out = TeamsMessenger.for_app(teams_bot.app, factory, timeout=5)
    yield out
    out.close()


def _message(**kw) -> OutgoingMessage:
    fields = {"key": "k1", "text": "*C-1042* (A.B.): decide by `22 Dec`", "to_user": WORKER, "payload": {}}
    return OutgoingMessage(**{**fields, **kw})


def test_a_reminder_goes_to_the_persons_1_1_chat_as_a_card_with_its_buttons(messenger, connector):
    ref = messenger.send(_message(payload=PROMPT_PAYLOAD))
    (call,) = connector.activity_calls()
    assert (call.method, call.path, call.status) == ("POST", "/v3/conversations/a:chat-1/activities", 201)
    assert ref == f"a:chat-1|{next(iter(connector.conversations['a:chat-1']))}"
    card = call.body["attachments"][0]["content"]
    assert call.body["text"] == "C-1042 (A.B.): decide by 22 Dec"
    ack, decide = card["actions"]
    assert (ack["type"], ack["verb"], ack["data"]["k"]) == ("Action.Execute", "seen_ack", "k1")
    assert decide["data"]["msteams"] == {"type": "task/fetch"}


def test_a_due_list_goes_to_the_teams_channel(messenger, connector):
    messenger.send(_message(to_user=None, to_channel=CHANNEL, text="Due this week"))
    (call,) = connector.activity_calls()
    assert call.path == f"/v3/conversations/{CHANNEL}/activities"
    assert "actions" not in call.body["attachments"][0]["content"]


def test_a_card_is_updated_in_place_by_activity_id(messenger, connector):
    ref = messenger.send(_message(payload=PROMPT_PAYLOAD))
    messenger.update(ref, Message(fallback="Acknowledged by T.M. at 11:02", sections=("Acknowledged",)))
    put = connector.activity_calls()[-1]
    activity_id = ref.split("|")[1]
    assert (put.method, put.path, put.status) == (
        "PUT",
        f"/v3/conversations/a:chat-1/activities/{activity_id}",
        200,
    )
    assert connector.conversations["a:chat-1"][activity_id]["text"] == "Acknowledged by T.M. at 11:02"


def test_429_is_retryable_after_the_connectors_retry_after(messenger, connector):
    connector.fail(429, retry_after=7)
    with pytest.raises(DeliveryError) as raised:
        messenger.send(_message())
    assert (raised.value.retryable, raised.value.retry_after) == (True, 7)


@pytest.mark.parametrize("status", [412, 500, 502, 503, 504])
def test_412_and_5xx_are_retried_with_backoff(messenger, connector, status):
    connector.fail(status)
    with pytest.raises(DeliveryError) as raised:
        messenger.send(_message())
    assert (raised.value.retryable, raised.value.retry_after) == (True, None)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_refusal_is_not_retried(messenger, connector, status):
    connector.fail(status)
    with pytest.raises(DeliveryError) as raised:
        messenger.send(_message())
    assert raised.value.retryable is False


def test_someone_without_a_conversation_with_seen_is_not_reachable(messenger, connector):
    with pytest.raises(DeliveryError, match="not installed") as raised:
        messenger.send(_message(to_user="aad-nobody"))
    assert raised.value.retryable is False
    assert connector.activity_calls() == []


def test_a_lost_connection_is_retryable(teams_bot, factory, connector):
    remember(factory, Reference("personal", "a:chat-9", "http://127.0.0.1:9", TENANT, aad_object_id="aad-9"))
    out = TeamsMessenger.for_app(teams_bot.app, factory, timeout=2)
    try:
        with pytest.raises(DeliveryError) as raised:
            out.send(_message(to_user="aad-9"))
        assert raised.value.retryable is True
    finally:
        out.close()


def test_the_outbox_waits_out_a_429_then_delivers_once(messenger, connector, factory):
    """Delivery through the outbox: a 429 with Retry-After 30 leaves the row pending until then;
    the next run after it sends it once and stores its ref."""
    with factory.begin() as session:
        team = Team(name="North", policy_id="hillingdon", slack_channel_id=CHANNEL)
        session.add(team)
        session.flush()
        worker = Staff(name="W", role="social_worker", chat_user_id=WORKER, team_id=team.id)
        session.add(worker)
        session.flush()
        row = pending_row(
            key="k-out",
            stage="reminder",
            recipient_staff_id=worker.id,
            recipient_channel=None,
            text="C-1042 (A.B.) home visit due",
            payload={"to": "lead social worker"},
            now=NOW,
            late=False,
        )
        session.execute(insert(Outbox), [row])
    connector.fail(429, retry_after=30)
    first = deliver_due(factory, messenger, NOW)
    assert (first.sent, first.retried) == (0, 1)
    with factory() as session:
        row = session.scalar(select(Outbox).where(Outbox.key == "k-out"))
        assert (row.status, row.next_attempt_at) == ("pending", NOW + timedelta(seconds=30))
    assert deliver_due(factory, messenger, NOW + timedelta(seconds=29)).sent == 0
    assert deliver_due(factory, messenger, NOW + timedelta(seconds=30)).sent == 1
    with factory() as session:
        row = session.scalar(select(Outbox).where(Outbox.key == "k-out"))
        assert row.status == "sent" and row.message_ref.startswith("a:chat-1|")
    assert [c.status for c in connector.activity_calls()] == [429, 201]


def test_outbox_text_loses_slack_emphasis_only():
    assert (
        plain("*Sent late* · 2 reminders (`/seen child C-1`) a*b 2*3")
        == "Sent late · 2 reminders (/seen child C-1) a*b 2*3"
    )
    message = outgoing_message(_message(payload={"actions": ["Log visit", "Unknown"]}))
    assert [(a.id, a.kind) for a in message.actions] == [("seen_log_visit", "open_form")]
