"""The fake Slack Web API (tests/bot/fake_slack.py) with outages that last until they are lifted:
every call answered with an HTTP status (429 with Retry-After, 500), every call delayed beyond the
client's timeout (the message is still posted: Slack got it, the client never heard), the server
stopped (connection refused) and started again on the same port, or a single channel failing.

It also notes the simulated time of each call (`sim_now`, set by the test's clock) and counts the
messages that reached a conversation by their outbox key (Slack message metadata).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.bot.fake_slack import FakeSlack


@dataclass(frozen=True)
class Attempt:
    """An API call as the fake saw it: when (simulated), which method, how it was answered."""

    at: datetime | None
    method: str
    outcome: str  # "ok", "429", "500", "delayed"
    to: str  # the conversation (a user's as their DM channel), when the fault answered


class FaultySlack(FakeSlack):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.server.handle_error = _quiet  # type: ignore[method-assign]
        self.sim_now: datetime | None = None
        self.status: tuple[int, float | None] | None = None  # answer every call with this
        self.delay: float = 0.0  # seconds before a call is handled (then it is, as Slack would)
        self.attempts: list[Attempt] = []
        self._in_flight = 0
        self._idle = threading.Condition()
        self.is_up = True
        self.on_call: Callable[[str], None] | None = None  # called as each call arrives

    # -- faults ---------------------------------------------------------------------------------
    def answer_status(self, status: int, retry_after: float | None = None) -> None:
        self.status = (status, retry_after)

    def slow(self, seconds: float) -> None:
        self.delay = seconds

    def heal(self) -> None:
        """Every fault lifted (a stopped server is started again on its port)."""
        self.status = None
        self.delay = 0.0
        self.bad_channels.clear()
        if not self.is_up:
            self.up()

    def down(self) -> None:
        """Stop listening: calls are refused until `up()`."""
        self.server.shutdown()
        self.server.server_close()
        self.is_up = False

    def up(self) -> None:
        """Listen again on the same port, keeping every conversation's history."""
        for _ in range(50):
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"port {self.port} stayed busy")
        self.server.daemon_threads = True
        self.server.handle_error = _quiet  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.is_up = True

    def stop(self) -> None:
        if self.is_up:
            super().stop()
            self.is_up = False

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until no call is being handled (a delayed message has landed, or not)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the fake Slack server is still handling calls")
                self._idle.wait(left)

    # -- what reached people --------------------------------------------------------------------
    def delivered(self) -> Counter[str]:
        """Outbox key -> how many messages with it are in conversations."""
        counts: Counter[str] = Counter()
        with self.lock:
            for messages in self.history.values():
                for m in messages:
                    key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                    if key:
                        counts[key] += 1
        return counts

    def texts(self) -> dict[str, list[str]]:
        """Outbox key -> the texts posted with it."""
        out: dict[str, list[str]] = {}
        with self.lock:
            for messages in self.history.values():
                for m in messages:
                    key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                    if key:
                        out.setdefault(key, []).append(str(m.get("text")))
        return out

    # -- the server -----------------------------------------------------------------------------
    def _handler(self) -> Any:
        base = super()._handler()
        fake = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                with fake._idle:
                    fake._in_flight += 1
                try:
                    self._faulty_post()
                finally:
                    with fake._idle:
                        fake._in_flight -= 1
                        fake._idle.notify_all()

            def _faulty_post(self) -> None:
                method = self.path.split("/api/", 1)[-1].split("?")[0]
                if fake.on_call is not None:
                    fake.on_call(method)
                status, delay = fake.status, fake.delay
                if status is not None:
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(length).decode()
                    if "json" in self.headers.get("Content-Type", ""):
                        body = json.loads(raw or "{}")
                    else:
                        body = {k: v[0] for k, v in parse_qs(raw).items()}
                    to = str(body.get("channel") or body.get("users") or "")
                    fake._note(method, str(status[0]), fake._channel(to))
                    code, retry_after = status
                    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
                    error = "ratelimited" if code == 429 else "internal_error"
                    self._reply(code, {"ok": False, "error": error}, headers)
                    return
                if delay:
                    time.sleep(delay)
                fake._note(method, "delayed" if delay else "ok", "")
                base.do_POST(self)

        return Handler

    def _note(self, method: str, outcome: str, to: str) -> None:
        with self.lock:
            self.attempts.append(Attempt(self.sim_now, method, outcome, to))


def _quiet(*_args: Any) -> None:
    """A client that gave up (timeout) leaves a broken pipe behind: not worth a traceback."""
