"""The acknowledgement path (bot.slack.app, bot.slack.server): a command is acknowledged on the
thread that received it, never behind earlier commands' work, which runs on a bounded pool of its
own; events are handled after Bolt's own acknowledgement, on a pool. Slack wants every
acknowledgement within 3 s (README: Running the Slack app)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest

from bot.serving import database_health
from bot.slack.app import SeenBot, build_app
from bot.slack.followups import FollowUps
from bot.slack.server import SeenASGI
from tests.bot.conftest import SECRET, TOKEN, Clock, SlackSender, UvicornThread, World
from tests.bot.fake_slack import FakeSlack


@pytest.fixture
def served(
    fake: FakeSlack, world: World, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SlackSender, dict[str, Any]]]:
    """The app over HTTP with two follow-up threads; its command listeners note their threads,
    and the work after an acknowledgement waits for `state["go"]`."""
    monkeypatch.setenv("SEEN_FOLLOW_UP_WORKERS", "2")
    state: dict[str, Any] = {"go": threading.Event(), "ack": [], "run": [], "busy": 0, "most": 0, "home": []}
    lock = threading.Lock()
    ack_command, run_command = SeenBot.ack_command, SeenBot.run_command

    def ack(self: SeenBot, ack: Any, command: dict[str, Any]) -> None:
        state["ack"].append(threading.current_thread().name)
        ack_command(self, ack, command)

    def run(self: SeenBot, command: dict[str, Any], respond: Any, client: Any) -> None:
        with lock:
            state["run"].append(threading.current_thread().name)
            state["busy"] += 1
            state["most"] = max(state["most"], state["busy"])
        state["go"].wait(10)
        with lock:
            state["busy"] -= 1
        run_command(self, command, respond, client)

    def home(self: SeenBot, event: dict[str, Any], client: Any) -> None:
        state["home"].append(threading.current_thread().name)

    monkeypatch.setattr(SeenBot, "on_home", home)
    monkeypatch.setattr(SeenBot, "ack_command", ack)
    monkeypatch.setattr(SeenBot, "run_command", run)
    app = build_app(world.factory, token=TOKEN, signing_secret=SECRET, clock=clock, base_url=fake.api_url)
    server = UvicornThread(SeenASGI(app, health=database_health(world.factory)))
    url = server.start()
    yield SlackSender(url, fake), state
    state["go"].set()
    server.stop()


def test_commands_are_acknowledged_while_earlier_work_waits(
    served: tuple[SlackSender, dict[str, Any]],
) -> None:
    """Six commands whose work is held back: each is acknowledged (200) at once, on the thread
    that received it; their work runs two at a time (SEEN_FOLLOW_UP_WORKERS=2) on its own pool,
    and all of it is done once let go."""
    slack, state = served
    for _ in range(6):
        reply = slack.command("U0SW", "due")
        assert reply.status == 200
    assert len(state["ack"]) == 6 and all(name.startswith("seen-http") for name in state["ack"])
    deadline = time.monotonic() + 10
    while len(state["run"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # a third would have started by now if the pool allowed it
    assert state["most"] == 2 and len(state["run"]) == 2
    state["go"].set()
    slack.fake.wait_for("response_url", 6, timeout=10)
    assert len(state["run"]) == 6 and all(name.startswith("seen-bot") for name in state["run"])
    assert state["most"] == 2


def test_an_event_is_handled_on_a_pool_after_bolts_acknowledgement(
    served: tuple[SlackSender, dict[str, Any]],
) -> None:
    slack, state = served
    app_home = {"type": "app_home_opened", "user": "U0SW", "tab": "home", "channel": "D0SW"}
    assert slack.event(app_home, "Ev0HOME1").status == 200
    deadline = time.monotonic() + 10
    while not state["home"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [name[: len("seen-ack")] for name in state["home"]] == ["seen-ack"]


def _command(text: str) -> BoltRequest:
    body = urlencode({"command": "/seen", "text": text, "user_id": "U0SW", "trigger_id": "1.2.3"})
    return BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


def _button(action_id: str) -> BoltRequest:
    payload = {"type": "block_actions", "trigger_id": "1.2.3", "actions": [{"action_id": action_id}]}
    body = urlencode({"payload": json.dumps(payload)})
    return BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


def test_the_work_that_opens_a_form_goes_first() -> None:
    """Slack takes a trigger to open a form for 3 s only: behind a busy follow-up thread, `/seen
    log`, `/seen record` and the Record decision and Log visit buttons go before answers that can
    wait (in arrival order within each)."""
    runner = FollowUps(logging.getLogger("test"), workers=1, name="test-follow-up")
    gate, done = threading.Event(), threading.Event()
    order: list[str] = []
    runner.start(lambda: gate.wait(10), _command("due"))
    work = [
        ("due", _command("due")),
        ("note", _command("note C-1042 called")),
        ("log", _command("log C-1042 seen")),
        ("ack", _button("seen_ack")),
        ("record", _command("Record C-1042")),
        ("decide", _button("seen_decide")),
        ("help", _command("")),
    ]

    def noting(name: str) -> Any:
        return lambda: order.append(name)  # Bolt passes a listener its arguments by name: none here

    for name, request in work:
        runner.start(noting(name), request)
    runner.start(done.set, _command("team"))
    gate.set()
    assert done.wait(10)
    assert order == ["log", "record", "decide", "due", "note", "ack", "help"]
