"""Issue 12: as on Slack, a prompt's acknowledgement on Teams shows on every delivered copy of the
prompt (the other managers' cards too), each replaced in place through the Bot Connector
(CB-NOTSEEN-DISCUSS)."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from scheduler.outbox import pending_row
from storage.models import Child, Outbox, Staff
from tests.bot.conftest import add_world
from tests.teams.test_buttons import NOW, OBLIGATION, PROMPT_TEXT, TM_AAD, _execute

PM_AAD = "aad-pat-practice"


def _delivered_twice(factory, connector) -> dict:
    """The prompt delivered to the team manager's and the practice manager's 1:1 chats."""
    add_world(factory)
    refs = {}
    for who, aad in (("tm", TM_AAD), ("pm", PM_AAD)):
        chat = connector.open(f"a:chat-{aad}")
        connector.conversations[chat]["1:1"] = {"type": "message", "text": PROMPT_TEXT}
        refs[who] = f"{chat}|1:1"
    with factory.begin() as s:
        s.execute(update(Staff).where(Staff.chat_user_id == "U0TM").values(chat_user_id=TM_AAD))
        s.execute(update(Staff).where(Staff.chat_user_id == "U0PM").values(chat_user_id=PM_AAD))
        child_id = s.scalar(select(Child.id).where(Child.case_ref == "C-1042"))
        for who, ref in refs.items():
            row = pending_row(
                key=f"{OBLIGATION}:prompt:{who}",
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
            s.execute(insert(Outbox), [{**row, "status": "sent", "sent_at": NOW, "message_ref": ref}])
    return {
        "k": f"{OBLIGATION}:prompt:tm",
        "o": OBLIGATION,
        "c": "C-1042",
        "r": "CB-NOTSEEN-DISCUSS",
        "w": "team_manager",
    }


def test_an_acknowledgement_replaces_every_copy_of_the_prompt(sender, factory, connector):
    data = _delivered_twice(factory, connector)
    reply = sender.post(_execute(connector, TM_AAD, data))
    assert reply.json()["type"] == "application/vnd.microsoft.card.adaptive"
    puts = sorted(c.path for c in connector.activity_calls() if c.method == "PUT" and c.status == 200)
    # the clicked card (the team manager's) is replaced by Teams with the answer above; the
    # practice manager's copy is replaced by Seen, once
    assert puts == [f"/v3/conversations/a:chat-{PM_AAD}/activities/1:1"]
    other = connector.conversations[f"a:chat-{PM_AAD}"]["1:1"]
    card = other["attachments"][0]["content"]
    texts = " ".join(b.get("text", "") for b in card["body"])
    assert "Acknowledged by the team manager at" in texts.replace("\\", "")
    assert [a["title"] for a in card["actions"]] == ["Record decision"]


def test_a_refused_acknowledgement_changes_no_copy(sender, factory, connector):
    data = _delivered_twice(factory, connector)
    body = sender.post(_execute(connector, "aad-sam-worker", data)).json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert [c for c in connector.activity_calls() if c.method == "PUT"] == []
