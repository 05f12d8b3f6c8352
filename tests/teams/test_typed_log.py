"""Issue 12: a typed `log C-1042 …` on Teams (1:1 chat, or an @mention in a channel) stores the visit
as Slack's `/seen log` does, through the same core (bot.core.visit_log): the same answer (without
`/seen`), the same refusals, the same duplicate rule and audit, and a card whose "Open record"
button opens the Record of a Child Protection Visit (CB-RECORD) for the visit just logged. A not-seen
visit opens CB-NOTSEEN-DISCUSS and CB-NOTSEEN-REVISIT at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.teams.cards import FORM_KEY
from storage.models import AuditLog, Contact
from tests.teams import npm_tools
from tests.teams.conftest import channel_message, personal_message
from tests.teams.test_dialogs import SW_AAD, _card, _fetch, _texts, _world, teams_bot  # noqa: F401

CHAT = f"a:chat-{SW_AAD}"


@pytest.fixture(scope="module")
def npm() -> Any:
    return npm_tools.install()


def _answers(connector, conversation: str) -> list[dict[str, Any]]:
    with connector.lock:
        return list(connector.conversations.get(conversation, {}).values())


def _typed(sender, connector, text: str, activity_id: str = "1700000000001", aad: str = SW_AAD) -> Any:
    message = {**personal_message(connector, aad, text), "id": activity_id}
    assert sender.post(message).status_code == 200
    return _answers(connector, f"a:chat-{aad}")[-1]


def _contacts(factory) -> list[Contact]:
    with factory() as s:
        return list(s.scalars(select(Contact).where(Contact.source_key.like("teams:log:%"))))


def test_a_typed_not_seen_visit_is_stored_answered_as_on_slack_with_a_button_to_record_it(
    sender, factory, connector, npm
):
    """CB-NOTSEEN-DISCUSS and CB-NOTSEEN-REVISIT open at once; the record (CB-RECORD) is completed
    from the answer's button, which opens the dialog prefilled from the visit."""
    _world(factory)
    answer = _typed(sender, connector, "log C-1042 not-seen at 2026-11-23 10:30")
    (card,) = [a["content"] for a in answer["attachments"]]
    (text,) = _texts(card)
    lines = text.splitlines()
    assert lines[0] == (
        "Logged: C-1042 (AB), home visit (child not seen) on Mon 23 Nov 2026 10:30. "
        "Complete the Record of a Child Protection Visit with `record C-1042`."
    )
    assert any(line.startswith("• [CB-NOTSEEN-DISCUSS] due Tue 24 Nov 2026 10:30") for line in lines)
    assert any(line.startswith("• [CB-NOTSEEN-REVISIT] due Mon 30 Nov 2026") for line in lines)
    assert "/seen" not in text and answer["text"] == text
    (button,) = card["actions"]
    assert (button["title"], button["data"][FORM_KEY], button["data"]["c"]) == (
        "Open record",
        "seen_open_record",
        "C-1042",
    )
    (result,) = npm_tools.parse_cards(npm, [card])
    assert result["events"] == [] and result["validation"] == []
    (contact,) = _contacts(factory)
    assert (contact.child_seen, contact.recorded_at, contact.source_key) == (
        False,
        None,
        "teams:log:1700000000001",
    )
    data = {k: v for k, v in button["data"].items() if k != "msteams"}
    dialog = _card(_fetch(sender, connector, SW_AAD, data))
    assert dialog["actions"][0]["data"]["seen_metadata"]["x"] == contact.id  # it completes this visit


def test_the_connectors_retry_stores_once_and_typing_it_again_says_already_logged(sender, factory, connector):
    _world(factory)
    first = _typed(sender, connector, "log C-1042 seen alone bedroom at 2026-11-23 10:30")
    retry = _typed(sender, connector, "log C-1042 seen alone bedroom at 2026-11-23 10:30")
    assert _texts(retry["attachments"][0]["content"]) == _texts(first["attachments"][0]["content"])
    again = _typed(sender, connector, "log C-1042 seen alone bedroom at 2026-11-23 10:30", "1700000000002")
    assert _texts(again["attachments"][0]["content"])[0].startswith(
        "Already logged by you: C-1042 (AB), home visit (child seen) on Mon 23 Nov 2026 10:30. "
        "It is kept once; nothing new was stored."
    )
    (contact,) = _contacts(factory)
    assert (contact.child_seen, contact.seen_alone, contact.bedroom_seen) == (True, "yes", True)
    with factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "contact.logged_again"))
        assert audit.detail == {"contact_id": contact.id, "via": "teams"}


def test_a_visit_now_is_logged_and_a_minute_later_is_refused_as_in_the_future(sender, factory, connector):
    """The boundary: the clock is Mon 23 Nov 2026 11:00 (GMT)."""
    _world(factory)
    future = _typed(sender, connector, "log C-1042 seen at 2026-11-23 11:01", "1700000000003")
    assert future["text"] == "⚠️ a visit cannot be in the future (2026-11-23 11:01 is after 2026-11-23 11:00)"
    assert _contacts(factory) == []
    now = _typed(sender, connector, "log C-1042 seen at 2026-11-23 11:00", "1700000000004")
    assert now["attachments"] and len(_contacts(factory)) == 1


def test_mistakes_and_strangers_get_slacks_words_without_slash_seen_and_nothing_is_stored(
    sender, factory, connector
):
    _world(factory)
    wrong = _typed(sender, connector, "log C-1042 maybe", "1700000000005")
    assert wrong["text"] == (
        "⚠️ 'maybe' is not an outcome: write seen, not-seen or no-one-home after the case reference, "
        "e.g. <code>log C-1042 seen</code>"
    )
    assert wrong["textFormat"] == "xml"  # Slack's `code` shown as code on Teams
    other = _typed(sender, connector, "log C-9999 seen", "1700000000006")
    assert other["text"] == (
        "⚠️ unknown case reference C-9999: check it with <code>due</code> or <code>team</code>"
    )
    stranger = _typed(sender, connector, "log C-1042 seen", "1700000000007", aad="aad-stranger")
    assert stranger["text"].startswith("⚠️ Seen does not know your Microsoft Teams account yet")
    assert _contacts(factory) == []
    with factory() as s:
        refusals = [
            a.detail["action"] for a in s.scalars(select(AuditLog).where(AuditLog.action == "teams.refused"))
        ]
    assert refusals == ["log", "log"]


def test_a_visit_logged_by_mention_in_the_channel_is_answered_there(sender, factory, connector):
    _world(factory)
    assert sender.post(channel_message(connector, SW_AAD, "log C-1042 no-one-home")).status_code == 200
    (answer,) = _answers(connector, "19:north@thread.tacv2")
    assert answer["text"].startswith("Logged: C-1042 (AB), home visit")
    (contact,) = _contacts(factory)
    assert contact.no_one_home and not contact.child_seen
