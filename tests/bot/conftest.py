"""The real Bolt app over real HTTP on localhost (uvicorn), its Web API calls answered by the fake
Slack server, requests signed as Slack signs them, a SQLite database in tmp_path."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.orm import Session, sessionmaker

from bot.serving import database_health
from bot.slack.app import build_app
from bot.slack.server import SeenASGI
from storage.db import make_engine, session_factory, upgrade
from storage.models import Child, Contact, Plan, Staff, Team
from tests.bot.fake_slack import FakeSlack

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"


class Clock:
    """The business clock of the app (signatures use real time, as Slack's do)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    factory: sessionmaker[Session]
    ids: dict[str, int] = field(default_factory=dict)

    def staff(self, name: str) -> Staff:
        with self.factory() as s:
            row = s.get(Staff, self.ids[name])
            assert row is not None
            return row

    def child(self, ref: str) -> Child:
        with self.factory() as s:
            row = s.get(Child, self.ids[ref])
            assert row is not None
            return row


def seen_at_home(
    child_id: int, staff_id: int, at: datetime, *, seen_alone: str = "yes", recorded: bool = True
) -> Contact:
    """A home visit by the lead social worker: the child seen (alone), the bedroom seen, and
    recorded at once unless `recorded` is False."""
    return Contact(
        child_id=child_id,
        at=at,
        kind="home_visit",
        by_role="lead_social_worker",
        by_staff_id=staff_id,
        qualified=True,
        child_seen=True,
        seen_alone=seen_alone,
        bedroom_seen=True,
        child_awake=True,
        recorded_at=at if recorded else None,
        created_at=at,
    )


def add_world(factory: sessionmaker[Session]) -> World:
    """Two teams of Central Bedfordshire, one of Hillingdon; workers, managers, a chair, children."""
    w = World(factory)
    with factory.begin() as s:
        north = Team(name="North CP", slack_channel_id="C0NORTH", policy_id="central-bedfordshire")
        south = Team(name="South CP", slack_channel_id="C0SOUTH", policy_id="central-bedfordshire")
        hill = Team(name="Hillingdon CP", slack_channel_id="C0HILL", policy_id="hillingdon")
        s.add_all([north, south, hill])
        s.flush()
        people = {
            "sw": ("Sam Worker", "U0SW", "social_worker", north),
            "sw2": ("Sally Second", "U0SW2", "social_worker", north),
            "tm": ("Tina Manager", "U0TM", "team_manager", north),
            "pm": ("Pat Practice", "U0PM", "practice_manager", None),
            "chair": ("Chris Chair", "U0CHAIR", "cp_chair", None),
            "south_sw": ("Sid South", "U0SSW", "social_worker", south),
            "south_tm": ("Sue South", "U0STM", "team_manager", south),
            "hsw": ("Hana Hill", "U0HSW", "social_worker", hill),
        }
        for key, (name, chat, role, team) in people.items():
            row = Staff(
                name=name,
                chat_user_id=chat,
                role=role,
                qualified_registered=True,
                team_id=team.id if team else None,
                active=True,
            )
            s.add(row)
            s.flush()
            w.ids[key] = row.id
        kids = {
            "C-1042": ("AB", date(2019, 3, 1), north, "sw"),
            "C-1043": ("CB", date(2021, 6, 1), north, "sw"),
            "C-1044": ("DB", date(2026, 6, 1), north, "sw"),  # a baby
            "C-2001": ("EF", date(2018, 1, 1), south, "south_sw"),
            "C-3001": ("GH", date(2017, 1, 1), hill, "hsw"),
        }
        for ref, (initials, dob, team, lead) in kids.items():
            child = Child(
                case_ref=ref,
                initials=initials,
                date_of_birth=dob,
                team_id=team.id,
                lead_social_worker_id=w.ids[lead],
                facts_version=0,
            )
            s.add(child)
            s.flush()
            w.ids[ref] = child.id
            s.add(Plan(child_id=child.id, started=date(2026, 11, 2), plan_number=1))
            # each seen at home, alone, bedroom seen, on Mon 16 Nov 2026, and recorded
            at = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
            alone = "yes" if dob.year < 2022 else "not_applicable"
            s.add(seen_at_home(child.id, w.ids[lead], at, seen_alone=alone))
    return w


@pytest.fixture
def factory(tmp_path: Any) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'seen.sqlite'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return add_world(factory)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack(TOKEN).start()
    yield server
    server.stop()
    assert server.seen_faults() == [], "Slack would refuse, cut or misread what Seen sent"


@pytest.fixture
def clock() -> Clock:
    # Mon 23 Nov 2026, 11:00 in London (GMT)
    return Clock(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))


class UvicornThread:
    def __init__(self, asgi: Any) -> None:
        config = uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        sock = self.server.servers[0].sockets[0]
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    """Sends what Slack sends: signed form posts (commands, interactions) and JSON events."""

    def __init__(self, url: str, fake: FakeSlack, secret: str = SECRET) -> None:
        self.url = url
        self.fake = fake
        self.verifier = SignatureVerifier(secret)
        self.counter = 0

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
    ) -> Reply:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or self.verifier.generate_signature(timestamp=ts, body=body)
        request = urllib.request.Request(
            self.url + path,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sig,
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode(), dict(exc.headers))

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def command(self, user: str, text: str, *, trigger: str | None = None, **kw: Any) -> Reply:
        """`/seen text` from `user`, with a fresh trigger_id unless given one."""
        n = self._next()
        form = {
            "token": "unused",
            "team_id": "T0001",
            "team_domain": "seen-test",
            "channel_id": "C0NORTH",
            "channel_name": "north",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/seen",
            "text": text,
            "api_app_id": "A0001",
            "response_url": self.fake.response_url(f"cmd{n}"),
            "trigger_id": trigger or self.fake.trigger(),
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def interaction(self, payload: dict[str, Any], **kw: Any) -> Reply:
        payload = {"team": {"id": "T0001"}, "api_app_id": "A0001", "token": "unused", **payload}
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw
        )

    def click(
        self, user: str, message: dict[str, Any], channel: str, action_id: str, trigger: str | None = None
    ) -> Reply:
        """Press the button `action_id` on a message the bot posted (from the fake's history)."""
        n = self._next()
        button = next(
            e
            for b in message.get("blocks") or []
            if b.get("type") == "actions"
            for e in b["elements"]
            if e["action_id"] == action_id
        )
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": "T0001"},
            "trigger_id": trigger or self.fake.trigger(),
            "container": {"type": "message", "channel_id": channel, "message_ts": message["ts"]},
            "channel": {"id": channel},
            "message": message,
            "response_url": self.fake.response_url(f"btn{n}"),
            "actions": [{**button, "block_id": "seen_actions", "action_ts": str(time.time())}],
        }
        return self.interaction(payload)

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any], view_id: str) -> Reply:
        """Submit `view` as Slack does: the state of every input block, `values` where the user
        chose or typed something, what Slack sends for the others (`view_state`)."""
        state = {"values": view_state(view, values)}
        payload = {
            "type": "view_submission",
            "user": {"id": user, "team_id": "T0001"},
            "trigger_id": self.fake.trigger(),
            "view": {**view, "id": view_id, "state": state, "hash": "h"},
        }
        return self.interaction(payload)

    def thread_reply(self, event: dict[str, Any], event_id: str) -> list[Reply]:
        """A message event (a reply in a thread) as Slack sends it. When its text holds a link,
        Slack then adds the link's preview: a `message_changed` with the same text and the preview
        as an attachment, not marked `edited`."""
        replies = [self.event(event, event_id)]
        link = re.search(r"https?://[^\s>|]+", event.get("text") or "")
        if link is not None:
            unfurled = {
                **event,
                "attachments": [
                    {"id": 1, "from_url": link.group(), "original_url": link.group(), "title": "A page"}
                ],
            }
            changed = {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "channel": event["channel"],
                "ts": f"{float(event['ts']) + 1:.6f}",
                "event_ts": f"{float(event['ts']) + 1:.6f}",
                "message": unfurled,
                "previous_message": event,
            }
            replies.append(self.event(changed, f"{event_id}.preview"))
        return replies

    def event(self, event: dict[str, Any], event_id: str, **kw: Any) -> Reply:
        body = {
            "token": "unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T0001", "user_id": "U0BOT", "is_bot": True}],
        }
        return self.post(json.dumps(body), "application/json", **kw)


@dataclass
class Running:
    url: str
    slack: SlackSender
    fake: FakeSlack
    factory: sessionmaker[Session]
    clock: Clock
    world: World


@pytest.fixture
def running(fake: FakeSlack, world: World, clock: Clock) -> Iterator[Running]:
    app = build_app(world.factory, token=TOKEN, signing_secret=SECRET, clock=clock, base_url=fake.api_url)
    server = UvicornThread(SeenASGI(app, health=database_health(world.factory)))
    url = server.start()
    yield Running(url, SlackSender(url, fake), fake, world.factory, clock, world)
    server.stop()


@contextmanager
def serving(path: Path, prepare: Callable[[World], None] | None = None) -> Iterator[Running]:
    """The app over HTTP with a fake Slack server of its own, on a new SQLite database at `path`
    holding add_world's teams, staff and children (and whatever `prepare` adds to them), its
    business clock at Mon 23 Nov 2026 11:00 London: for a module's tests to share one server."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    world = add_world(factory)
    if prepare is not None:
        prepare(world)
    fake = FakeSlack(TOKEN).start()
    clock = Clock(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    app = build_app(factory, token=TOKEN, signing_secret=SECRET, clock=clock, base_url=fake.api_url)
    server = UvicornThread(SeenASGI(app, health=database_health(factory)))
    url = server.start()
    yield Running(url, SlackSender(url, fake), fake, factory, clock, world)
    server.stop()
    fake.stop()
    engine.dispose()
    assert fake.seen_faults() == [], "Slack would refuse, cut or misread what Seen sent"


# -- `seen serve` as a process of its own ---------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(fake: FakeSlack, database: str) -> dict[str, str]:
    """The environment of `seen serve` in HTTP mode: this suite's bot token and signing secret, the
    fake Slack server's Web API and the database at `database`; no Socket Mode app token."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SEEN_SLACK_API_URL": fake.api_url,
        "SEEN_DATABASE_URL": database,
        "SEEN_LOG_LEVEL": "warning",
    }
    env.pop("SLACK_APP_TOKEN", None)
    return env


def start_serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`seen serve --no-scheduler` on 127.0.0.1:`port`, its output (stdout and stderr) piped."""
    command = [sys.executable, "-m", "scheduler.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--no-scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_for_health(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> tuple[int, str]:
    """(status, body) of the first answer of `url`/healthz that is not an error; an AssertionError
    with the process's output if the process ends or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                return r.status, r.read().decode()
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    process.kill()  # else reading its output would wait for it forever
                out = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"seen serve did not start: {out or 'no output'}") from None
            time.sleep(0.1)


# -- building modal answers ---------------------------------------------------------------------
def untouched(element: dict[str, Any]) -> dict[str, Any]:
    """The state Slack sends for an input nobody changed: its initial value, else null or empty."""
    kind = element["type"]
    if kind == "plain_text_input":
        return {"type": kind, "value": element.get("initial_value")}
    if kind in ("radio_buttons", "static_select"):
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in ("checkboxes", "multi_static_select"):
        return {"type": kind, "selected_options": element.get("initial_options") or []}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date")}
    if kind == "timepicker":
        return {"type": kind, "selected_time": element.get("initial_time")}
    raise AssertionError(f"an input element tests do not know: {kind}")


WALL_TIME = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).replace(tzinfo=None)  # a form's local time


def seen_form(callback: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The form Seen opens for `callback` with this private metadata, as Slack hands it back on
    submission (for tests that submit a form they did not open): the visit record for the child
    "c" and the siblings "s" (each asked "seen awake?"), or the decision form."""
    from bot.slack import views

    if callback == views.VISIT_CALLBACK:
        rows = [views.ChildRow(ref, "", baby=True) for ref in [meta.get("c"), *(meta.get("s") or [])]]
        return views.visit_modal(views.VisitForm(rows, WALL_TIME, metadata=meta))
    return views.decision_modal(
        rule=str(meta.get("r")),
        child_label=str(meta.get("c")),
        summary="",
        outcomes=["further_visit", "chair_notified"],
        max_days=20,
        metadata=meta,
    )


def view_state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values` of a submission: every input block of the view, untouched ones as Slack
    sends them, and `values` ({block_id: {action_id: state}}) over them. A value for a block the
    view does not have is an error of the test."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            element = block["element"]
            state[block["block_id"]] = {element["action_id"]: untouched(element)}
    unknown = set(values) - set(state)
    assert not unknown, f"the view has no input blocks {sorted(unknown)}"
    for block_id, actions in values.items():
        for action_id, value in actions.items():
            state[block_id][action_id] = {**state[block_id].get(action_id, {}), **value}
    return state


def radio(value: str) -> dict[str, Any]:
    return {"v": {"type": "radio_buttons", "selected_option": {"value": value}}}


def select(value: str) -> dict[str, Any]:
    return {"v": {"type": "static_select", "selected_option": {"value": value}}}


def text(value: str) -> dict[str, Any]:
    return {"v": {"type": "plain_text_input", "value": value}}


def tick(value: bool = True) -> dict[str, Any]:
    return {"v": {"type": "checkboxes", "selected_options": [{"value": "yes"}] if value else []}}


def day(value: str) -> dict[str, Any]:
    return {"v": {"type": "datepicker", "selected_date": value}}


def clock_time(value: str) -> dict[str, Any]:
    return {"v": {"type": "timepicker", "selected_time": value}}


def runtime_for(running: Running) -> Any:
    """The scheduler's Runtime delivering through the Slack messenger to the fake server."""
    from bot.slack.messenger import SlackMessenger, make_client, outbox_locator
    from scheduler.loop import Runtime

    messenger = SlackMessenger(
        make_client(TOKEN, running.fake.api_url), locate=outbox_locator(running.factory)
    )
    return Runtime(running.factory, messenger, holder="test")


def posted(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """Messages the bot posted in a conversation (DM channel ids are "D" + the user id's rest)."""
    return fake.messages(channel)
