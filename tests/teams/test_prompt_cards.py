"""Issue 12, CB-NOTSEEN-DISCUSS: once the decision is recorded in the Teams dialog, each delivered
message of the prompt is replaced in place (PUT …/activities/{id}), as Slack's chat.update does after
a decision, with the prompt's words and Slack's "Decision recorded by … at …: …" line, no buttons,
and a card Microsoft's adaptivecards library accepts. A submission with errors changes no card."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from scheduler.outbox import pending_row
from storage.models import Child, Outbox
from tests.teams import npm_tools
from tests.teams.test_dialogs import (  # noqa: F401
    OB_KEY,
    TM_AAD,
    _card,
    _fetch,
    _not_seen,
    _submit,
    _texts,
    teams_bot,
)

CHAT = f"a:chat-{TM_AAD}"
PROMPT = "*Decision needed* · C-1042 (AB) · [CB-NOTSEEN-DISCUSS]\nNext: `/seen child C-1042`."


@pytest.fixture(scope="module")
def npm() -> Any:
    return npm_tools.install()


def _delivered(factory, connector, key: str, activity_id: str, child: str = "C-1042") -> None:
    """An outbox row Seen delivered to the manager's chat, and the activity the connector holds."""
    with factory.begin() as s:
        child_id = s.scalar(select(Child.id).where(Child.case_ref == child))
        row = pending_row(
            key=key,
            stage="prompt",
            recipient_staff_id=None,
            recipient_channel=None,
            text=PROMPT,
            payload={},
            now=datetime(2026, 11, 23, 10, 35, tzinfo=UTC),
            late=False,
            child_id=child_id,
        )
        s.execute(insert(Outbox), [{**row, "status": "sent", "message_ref": f"{CHAT}|{activity_id}"}])
    connector.open(CHAT)
    with connector.lock:
        connector.conversations[CHAT][activity_id] = {"type": "message", "text": PROMPT}


def _puts(connector) -> list[Any]:
    with connector.lock:
        return [u for u in connector.updates if u.via == "PUT"]


def test_the_prompts_messages_show_the_decision_in_place_without_buttons(sender, factory, connector, npm):
    button = {**_not_seen(factory), "seen_form": "seen_decide"}
    _delivered(factory, connector, f"{OB_KEY}:prompt", "1:3001")
    _delivered(factory, connector, f"{OB_KEY}:escalation", "1:3002")
    _delivered(factory, connector, "C-2001:CB-NOTSEEN-DISCUSS:team_manager:x:prompt", "1:3003", "C-2001")
    card = _card(_fetch(sender, connector, TM_AAD, button))
    bad = _card(_submit(sender, connector, TM_AAD, card, {"outcome": "further_visit", "days": "6"}, "f:d-1"))
    assert bad["body"] and _puts(connector) == []  # errors: nothing stored, no card changed
    values = {"outcome": "further_visit", "days": "3", "informed": "lead social worker", "note": "Revisit"}
    _submit(sender, connector, TM_AAD, card, values, "f:d-2")
    puts = _puts(connector)
    assert sorted(u.activity_id for u in puts) == ["1:3001", "1:3002"]  # not another child's prompt
    for update in puts:
        (attachment,) = update.activity["attachments"]
        updated = attachment["content"]
        assert _texts(updated) == [
            "Decision needed · C-1042 (AB) · [CB-NOTSEEN-DISCUSS]\nNext: child C-1042.\n"
            "📝 Decision recorded by the team manager at Mon 23 Nov 2026 11:00: "
            "A further visit within 3 working days [CB-NOTSEEN-DISCUSS]."
        ]
        assert "actions" not in updated
    (result,) = npm_tools.parse_cards(npm, [puts[0].activity["attachments"][0]["content"]])
    assert result["events"] == [] and result["validation"] == []
