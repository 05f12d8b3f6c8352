"""The walkthrough driver on Slack: the real Bolt app over HTTP (`tests.bot.conftest.Running`), its
Web API calls answered by the fake Slack server, which validates them as Slack would."""

from __future__ import annotations

import time
from typing import Any

from tests.bot.conftest import Running, runtime_for
from tests.walkthrough.drivers import Answer, FormView, Input, Shown, filled, team_channel


def _buttons(message: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        e["text"]["text"]
        for b in message.get("blocks") or []
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("type") == "button"
    )


def _options(element: dict[str, Any]) -> tuple[str, ...]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return tuple(o["value"] for o in options)


def _initial(element: dict[str, Any]) -> str | None:
    kind = element["type"]
    if kind == "plain_text_input":
        return element.get("initial_value")
    if kind in ("radio_buttons", "static_select"):
        return (element.get("initial_option") or {}).get("value")
    if kind == "checkboxes":
        return "true" if element.get("initial_options") else None
    if kind == "datepicker":
        return element.get("initial_date")
    if kind == "timepicker":
        return element.get("initial_time")
    return None


def _state(kind: str, value: str) -> dict[str, Any]:
    """What Slack sends for an input of `kind` holding `value`."""
    if kind in ("radio_buttons", "static_select"):
        return {"type": kind, "selected_option": {"value": value}}
    if kind == "checkboxes":
        return {"type": kind, "selected_options": [{"value": "yes"}] if value == "true" else []}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "timepicker":
        return {"type": kind, "selected_time": value}
    return {"type": kind, "value": value}


class SlackDriver:
    name = "slack"
    forms_from_commands = True
    thread_source = "slack_thread"

    def __init__(self, running: Running) -> None:
        self.running = running
        self.fake = running.fake
        self.slack = running.slack
        self.clock = running.clock
        self.factory = running.factory
        self.world = running.world
        self.runtime = runtime_for(running)
        # This fake Slack sets no per-conversation limit: posts paced a real second apart would only
        # stretch the walkthrough (the pacing is tested in tests/scheduler/test_delivery_concurrency.py).
        self.runtime.messenger.conversation_interval = 0.0
        self.forms = 0  # views.open calls taken as forms so far
        self.submitted = 0
        self.reactions = 0

    # -- naming -----------------------------------------------------------------------------------
    def user_id(self, user: str) -> str:
        return str(self.world.staff(user).chat_user_id)

    def dm(self, user: str) -> str:
        return "D" + self.user_id(user)[1:]

    def shown(self, text: str) -> str:
        return text

    def who(self, user: str) -> str:
        return f"<@{self.user_id(user)}>"

    # -- what arrives -----------------------------------------------------------------------------
    def _shown(self, channel: str, m: dict[str, Any]) -> Shown:
        return Shown(m.get("text") or "", _buttons(m), channel, m["ts"], m)

    def messages_to(self, user: str) -> list[Shown]:
        channel = self.dm(user)
        return [self._shown(channel, m) for m in self.fake.messages(channel)]

    def channel_messages(self, team: str) -> list[Shown]:
        channel = team_channel(self.factory, team)
        return [self._shown(channel, m) for m in self.fake.messages(channel)]

    def updates_of(self, message: Shown, count: int = 1) -> list[Shown]:
        def same(call: Any) -> bool:
            return call.body.get("channel") == message.conversation and call.body.get("ts") == message.id

        calls = self.fake.wait_for("chat.update", count=count, where=same)
        return [self._shown(message.conversation, {**c.body, "ts": message.id}) for c in calls]

    def _next_form(self) -> FormView:
        self.forms += 1
        view = self.fake.wait_for("views.open", count=self.forms)[self.forms - 1].body["view"]
        inputs = {}
        for block in view.get("blocks") or []:
            if block.get("type") == "input":
                element = block["element"]
                inputs[block["block_id"]] = Input(
                    block["block_id"],
                    element["type"],
                    _options(element),
                    _initial(element),
                    not block.get("optional", False),
                )
        return FormView(view["title"]["text"], inputs, view)

    # -- what a person does -----------------------------------------------------------------------
    def type_command(self, user: str, text: str) -> Answer:
        answered = len(self.fake.of("response_url"))
        forms = len(self.fake.of("views.open"))
        reply = self.slack.command(self.user_id(user), text)
        assert reply.status == 200, (reply.status, reply.body)
        if reply.body:  # answered in the acknowledgement (help, a command that does not parse)
            return Answer(reply.json()["text"])
        body = self.fake.wait_for("response_url", count=answered + 1)[answered].body
        form = self._next_form() if len(self.fake.of("views.open")) > forms else None
        return Answer(body["text"], None, form)

    def _action_id(self, message: Shown, button: str) -> str:
        for block in message.raw.get("blocks") or []:
            for e in block.get("elements") or [] if block.get("type") == "actions" else []:
                if e.get("type") == "button" and e["text"]["text"] == button:
                    return str(e["action_id"])
        raise AssertionError(f"no button {button!r} on the message; it has {list(message.buttons)}")

    def click(self, user: str, message: Shown, button: str) -> None:
        action = self._action_id(message, button)
        reply = self.slack.click(self.user_id(user), message.raw, message.conversation, action)
        assert reply.status == 200, (reply.status, reply.body)

    def open_form(self, user: str, message: Shown, button: str) -> FormView:
        self.click(user, message, button)
        return self._next_form()

    def submit_form(self, user: str, form: FormView, values: dict[str, str]) -> dict[str, str]:
        chosen = filled(form, values)
        state = {}
        for key, value in chosen.items():
            block = next(b for b in form.raw["blocks"] if b.get("block_id") == key)
            state[key] = {block["element"]["action_id"]: _state(form.inputs[key].kind, value)}
        self.submitted += 1
        reply = self.slack.submit(self.user_id(user), form.raw, state, f"V-walk-{self.submitted}")
        assert reply.status == 200, (reply.status, reply.body)
        if reply.body == "":
            return {}
        answer = reply.json()
        assert answer.get("response_action") == "errors", answer
        return dict(answer["errors"])

    def reply_in_thread(self, user: str, message: Shown, text: str) -> None:
        """A reply in the message's thread; Slack adds a link's preview after it (`thread_reply`)."""
        self.reactions += 1
        ts = f"{int(self.clock.now.timestamp()) + 60}.000100"
        event = {
            "type": "message",
            "channel": message.conversation,
            "channel_type": "im" if message.conversation.startswith("D") else "channel",
            "user": self.user_id(user),
            "text": text,
            "ts": ts,
            "thread_ts": message.id,
            "event_ts": ts,
        }
        for reply in self.slack.thread_reply(event, f"EvWalk{self.reactions}"):
            assert reply.status == 200, (reply.status, reply.body)
        self.fake.wait_for("reactions.add", count=self.reactions)

    # -- checks -----------------------------------------------------------------------------------
    def sent(self) -> list[tuple[str, str]]:
        time.sleep(0.2)  # lazy listeners may still be answering
        return [(c.method, str(c.body)) for c in self.fake.calls]

    def finish(self) -> None:
        assert self.fake.seen_faults() == [], "Slack would refuse, cut or misread what Seen sent"
