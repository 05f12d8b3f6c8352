"""The walkthrough driver on Microsoft Teams: the Teams SDK app over HTTP, sent signed activities as
the Bot Connector sends them, its proactive messages and answers taken by the fake connector
(`tests.teams.fake_connector`), which keeps every conversation's activities.

On Teams, Staff.chat_user_id holds the person's Entra object id (here the world's "U0…" ids) and a
team's channel id is its Teams channel (`19:…@thread.tacv2`). Seen is installed for every person
and in every team's channel before the walkthrough starts, as an administrator would. A button is
an `Action.Execute` (the app answers with the card that replaces the clicked one, which Teams puts
in its place) or an `Action.Submit` opening a dialog (`task/fetch`, then `task/submit`). Every card
received is checked at the end with Microsoft's `adaptivecards` library."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

from sqlalchemy import select, update

from bot.teams.app import TeamsBot
from bot.teams.cards import CONTENT_TYPE, DISPATCH_KEY
from bot.teams.messenger import TeamsMessenger, plain
from bot.teams.threads import THREAD
from bot.teams.words import on_teams
from scheduler.loop import Runtime
from storage.models import Staff, Team
from tests.bot.conftest import Clock, UvicornThread, World
from tests.teams import npm_tools
from tests.teams.conftest import APP_ID, TENANT, TeamsSender, settings_for, team_installation
from tests.teams.fake_connector import FakeConnector
from tests.walkthrough.drivers import Answer, FormView, Input, Shown, filled, team_channel


def channel_of(team: Team) -> str:
    return f"19:{team.name.split()[0].lower()}@thread.tacv2"


def cards_of(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["content"] for a in activity.get("attachments") or [] if a.get("contentType") == CONTENT_TYPE]


def inputs_of(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every Input.* element of a card body, however deep in containers and columns."""
    found: list[dict[str, Any]] = []
    for e in elements:
        if str(e.get("type", "")).startswith("Input."):
            found.append(e)
        for key in ("items", "columns"):
            found += inputs_of(e.get(key) or [])
    return found


def texts_of(card: dict[str, Any]) -> str:
    return " ".join(str(e.get("text") or "") for e in card.get("body") or [] if e.get("type") == "TextBlock")


def unescape(text: str) -> str:
    """A TextBlock's text as Teams shows it (bot.teams.cards.escape undone)."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def shown_text(activity: dict[str, Any]) -> str:
    """What a person reads: the card's text blocks but its small print, else the activity's text."""
    for card in cards_of(activity):
        blocks = [e for e in card.get("body") or [] if e.get("type") == "TextBlock" and not e.get("isSubtle")]
        return "\n".join(unescape(str(e.get("text") or "")) for e in blocks)
    return str(activity.get("text") or "")


class TeamsDriver:
    name = "teams"
    forms_from_commands = False
    thread_source = "teams_thread"

    def __init__(self, connector: FakeConnector, world: World, clock: Clock) -> None:
        self.connector = connector
        self.world = world
        self.factory = world.factory
        self.clock = clock
        self.npm = npm_tools.install()  # skips (or fails under CI) without node and npm
        self.bot = TeamsBot(settings_for(connector), self.factory, token=self._token, now=clock)
        asyncio.run(self.bot.initialize())
        self.server = UvicornThread(self.bot.asgi)
        self.sender = TeamsSender(self.server.start(), connector, self.bot)
        self.messenger = TeamsMessenger.for_app(self.bot.app, self.factory, timeout=5)
        self.runtime = Runtime(self.factory, self.messenger, holder="test")
        self.ids = itertools.count(1_700_000_000_100)
        self.answers: set[str] = set()  # activities that answered what a person typed
        self.received: list[tuple[str, dict[str, Any]]] = []  # invoke answers: (what, body)
        self._install()

    def _token(self, scope: str, tenant: str | None) -> str:
        return self.connector.bot_token

    def _install(self) -> None:
        """Seen in every person's 1:1 chat and every team's channel (team ids become channel ids)."""
        with self.factory.begin() as s:
            for team in s.scalars(select(Team)):
                s.execute(update(Team).where(Team.id == team.id).values(slack_channel_id=channel_of(team)))
            people = [str(x) for x in s.scalars(select(Staff.chat_user_id))]
            channels = [channel_of(t) for t in s.scalars(select(Team))]
        for aad in people:
            reply = self.sender.post({**self._from(aad), "type": "installationUpdate", "action": "add"})
            assert reply.status_code == 200, reply.text
        for channel in channels:
            team = channel.removeprefix("19:").removesuffix("@thread.tacv2")
            assert self.sender.post(team_installation(self.connector, team)).status_code == 200

    def close(self) -> None:
        self.messenger.close()
        self.bot.close()
        self.sender.client.close()
        self.server.stop()

    # -- naming -----------------------------------------------------------------------------------
    def aad(self, user: str) -> str:
        return str(self.world.staff(user).chat_user_id)

    def chat(self, user: str) -> str:
        return f"a:chat-{self.aad(user)}"

    def shown(self, text: str) -> str:
        return plain(on_teams(text))

    def who(self, user: str) -> str:
        return "the " + self.world.staff(user).role.replace("_", " ")

    def _from(self, aad: str, conversation: str | None = None) -> dict[str, Any]:
        """The parts of an activity from `aad` in their 1:1 chat with Seen (or `conversation`)."""
        return {
            "id": str(next(self.ids)),
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": {"id": f"29:{aad}", "aadObjectId": aad},
            "recipient": {"id": f"28:{APP_ID}", "name": "Seen"},
            "conversation": {
                "id": conversation or f"a:chat-{aad}",
                "conversationType": "personal",
                "tenantId": TENANT,
            },
            "channelData": {"tenant": {"id": TENANT}},
        }

    # -- what arrives -----------------------------------------------------------------------------
    def _activities(self, conversation: str) -> list[tuple[str, dict[str, Any]]]:
        with self.connector.lock:
            return list(self.connector.conversations.get(conversation, {}).items())

    @staticmethod
    def _shown(conversation: str, activity_id: str, activity: dict[str, Any]) -> Shown:
        buttons = tuple(a["title"] for card in cards_of(activity) for a in card.get("actions") or [])
        return Shown(shown_text(activity), buttons, conversation, activity_id, activity)

    def messages_to(self, user: str) -> list[Shown]:
        chat = self.chat(user)
        return [self._shown(chat, i, a) for i, a in self._activities(chat) if i not in self.answers]

    def channel_messages(self, team: str) -> list[Shown]:
        channel = team_channel(self.factory, team)
        return [self._shown(channel, i, a) for i, a in self._activities(channel) if i not in self.answers]

    def updates_of(self, message: Shown, count: int = 1) -> list[Shown]:
        with self.connector.lock:
            found = [
                u
                for u in self.connector.updates
                if (u.conversation, u.activity_id) == (message.conversation, message.id)
            ]
        assert len(found) >= count, f"{len(found)} update(s) of the message in place, expected {count}"
        return [self._shown(u.conversation, u.activity_id, u.activity) for u in found]

    # -- what a person does -----------------------------------------------------------------------
    def _post(self, activity: dict[str, Any], conversation: str) -> list[Shown]:
        """Post `activity`; the activities Seen answered it with in `conversation`."""
        before = {i for i, _ in self._activities(conversation)}
        reply = self.sender.post(activity)
        assert reply.status_code == 200, (reply.status_code, reply.text)
        new = [(i, a) for i, a in self._activities(conversation) if i not in before]
        self.answers |= {i for i, _ in new}
        return [self._shown(conversation, i, a) for i, a in new]

    def type_command(self, user: str, text: str) -> Answer:
        activity = {**self._from(self.aad(user)), "type": "message", "text": text}
        answers = self._post(activity, self.chat(user))
        assert answers, f"Seen did not answer {text!r}"
        return Answer("\n".join(a.text for a in answers), answers[-1], None)

    def _invoke(self, user: str, message: Shown, name: str, value: dict[str, Any]) -> Any:
        assert message.conversation.startswith("a:chat-"), "the walkthrough clicks in 1:1 chats"
        activity = {
            **self._from(self.aad(user), message.conversation),
            "type": "invoke",
            "name": name,
            "replyToId": message.id,
            "value": value,
        }
        reply = self.sender.post(activity)
        assert reply.status_code == 200, f"{name}: {reply.status_code} {reply.text}"
        body = reply.json() if reply.content else None
        self.received.append((name, body))
        return body

    def _button(self, message: Shown, button: str) -> dict[str, Any]:
        for card in cards_of(message.raw):
            for a in card.get("actions") or []:
                if a.get("title") == button:
                    return a
        raise AssertionError(f"no button {button!r} on the message; it has {list(message.buttons)}")

    def click(self, user: str, message: Shown, button: str) -> None:
        action = self._button(message, button)
        assert action["type"] == "Action.Execute", f"{button!r} is an {action['type']}, not a callback"
        value = {
            "action": {"type": "Action.Execute", "verb": action["verb"], "data": action.get("data") or {}}
        }
        body = self._invoke(user, message, "adaptiveCard/action", {**value, "trigger": "manual"})
        assert body is not None and body.get("statusCode") == 200, body
        if body.get("type") != CONTENT_TYPE:
            raise AssertionError(f"{button!r} was answered with a message, not a card: {body.get('value')}")
        self.connector.replace(message.conversation, message.id, body["value"])  # as Teams does

    def open_form(self, user: str, message: Shown, button: str) -> FormView:
        action = self._button(message, button)
        data = action.get("data") or {}
        assert action["type"] == "Action.Submit" and data.get("msteams") == {"type": "task/fetch"}, (
            f"{button!r} does not open a dialog: {action}"
        )
        body = self._invoke(user, message, "task/fetch", {"data": data, "context": {"theme": "default"}})
        task = (body or {}).get("task") if isinstance(body, dict) else None
        assert task is not None and task.get("type") == "continue", (
            f"{button!r}: Seen answered the task/fetch invoke with {body!r}, not a dialog "
            "(Teams shows nothing: the dialog does not open)"
        )
        card = task["value"]["card"]
        assert card["contentType"] == CONTENT_TYPE, card
        return self._form(task["value"].get("title") or "", card["content"], message)

    @staticmethod
    def _form(title: str, card: dict[str, Any], message: Shown) -> FormView:
        inputs = {}
        for e in inputs_of(card.get("body") or []):
            options = tuple(c["value"] for c in e.get("choices") or [])
            if e["type"] == "Input.Toggle":
                options = (str(e.get("valueOn", "true")), str(e.get("valueOff", "false")))
            initial = e.get("value")
            inputs[e["id"]] = Input(
                e["id"],
                e["type"],
                options,
                None if initial is None else str(initial),
                bool(e.get("isRequired")),
            )
        return FormView(title, inputs, {"card": card, "message": message})

    def submit_form(self, user: str, form: FormView, values: dict[str, str]) -> dict[str, str]:
        chosen = filled(form, values)
        missing = {k: "required" for k, spec in form.inputs.items() if spec.required and not chosen.get(k)}
        if missing:  # Teams checks required inputs itself and sends nothing
            return missing
        (submit,) = [  # the form's submit button, not a button asking for the form again (siblings)
            a
            for a in form.raw["card"].get("actions") or []
            if a.get("type") == "Action.Submit" and DISPATCH_KEY not in (a.get("data") or {})
        ]
        data = {**(submit.get("data") or {}), **chosen}
        body = self._invoke(
            user, form.raw["message"], "task/submit", {"data": data, "context": {"theme": "default"}}
        )
        task = (body or {}).get("task") or {}
        if task.get("type") == "message":
            return {}
        assert task.get("type") == "continue", f"task/submit answered with {body!r}"
        self.received.append(("dialog", {"card": task["value"]["card"]["content"]}))
        return {"dialog": texts_of(task["value"]["card"]["content"])}

    def reply_in_thread(self, user: str, message: Shown, text: str) -> None:
        """A reply in a channel post's thread (`<channel>;messageid=<post>`); in a 1:1 chat, which has
        no threads, Teams' quoted reply: a message of the chat with a `quotedReply` entity naming
        the message (the SDK's `get_quoted_messages`), its text led by the `<quoted …/>` placeholder
        the SDK writes. Seen answers that the reply was kept as a case note."""
        aad = self.aad(user)
        if message.conversation.startswith("a:chat-"):
            where = message.conversation
            quoted = {"messageId": message.id, "senderId": f"28:{APP_ID}", "senderName": "Seen"}
            activity = {
                **self._from(aad, where),
                "type": "message",
                "text": f'<quoted messageId="{message.id}"/> {text}',
                "entities": [
                    {"type": "quotedReply", "quotedReply": {**quoted, "preview": message.text[:80]}}
                ],
            }
        else:
            where = f"{message.conversation}{THREAD}{message.id}"
            activity = {
                **self._from(aad, where),
                "type": "message",
                "text": text,
                "conversation": {
                    "id": where,
                    "conversationType": "channel",
                    "tenantId": TENANT,
                    "isGroup": True,
                },
                "channelData": {
                    "tenant": {"id": TENANT},
                    "team": {"id": message.conversation},
                    "channel": {"id": message.conversation},
                },
            }
        answers = [a.text for a in self._post(activity, where)]
        assert answers[:1] and answers[0].startswith("Kept as a case note"), (
            f"the reply to the message was not kept as a case note; Seen answered {answers}"
        )

    # -- checks -----------------------------------------------------------------------------------
    def sent(self) -> list[tuple[str, str]]:
        calls = [(f"{c.method} {c.path}", str(c.body)) for c in self.connector.activity_calls()]
        return calls + [(what, str(body)) for what, body in self.received]

    def cards(self) -> list[dict[str, Any]]:
        """Every card Seen sent or answered with, once each."""
        found: list[dict[str, Any]] = []
        for call in self.connector.activity_calls():
            found += cards_of(call.body)
        for name, body in self.received:
            if name == "adaptiveCard/action" and body and body.get("type") == CONTENT_TYPE:
                found.append(body["value"])
            elif name == "task/fetch" and body and (body.get("task") or {}).get("type") == "continue":
                found.append(body["task"]["value"]["card"]["content"])
            elif name == "dialog":
                found.append(body["card"])
        unique: dict[str, dict[str, Any]] = {}
        for card in found:
            unique.setdefault(repr(card), card)
        return list(unique.values())

    def finish(self) -> None:
        """Every card through Microsoft's library: no parse or validation event, nothing dropped in
        its round trip; and no call the connector refused."""
        cards = self.cards()
        assert cards, "no card reached Teams"
        for card, result in zip(cards, npm_tools.parse_cards(self.npm, cards), strict=True):
            assert result["events"] == [], (result["events"], card)
            assert result["validation"] == [], (result["validation"], card)
            kept = {k: v for k, v in result["roundtrip"].items() if k != "$schema"}
            assert kept == {k: v for k, v in card.items() if k != "$schema"}, ("dropped or changed", card)
        failed = [c for c in self.connector.activity_calls() if c.status >= 400]
        assert failed == [], [(c.method, c.path, c.status) for c in failed]
