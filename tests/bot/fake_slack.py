"""A local stand-in for Slack's Web API, for tests and the load script: a threaded HTTP server on
a free loopback port that records every call (method, body, headers), checks the bearer token, keeps
channels' messages (with metadata) so `conversations.history` answers, and can be told to fail the
next N calls with 429 (Retry-After) or 500. `latency` makes every call take that long to answer;
`channel_interval` is Slack's per-conversation limit on chat.postMessage (about one a second): a
post sooner than that after the last one accepted in the same conversation gets 429 with
Retry-After. `overlaps` counts posts that arrived while another to the same conversation was
still being answered, `duplicates()` the outbox keys posted more than once.

It is as strict as Slack where Slack is strict (tests/bot/strict_slack.py): every `blocks` and `view`
is checked with slack_sdk's own models and Slack's documented limits (`invalid_blocks`,
`invalid_arguments`); message text over 40,000 characters is cut there with a `message_truncated`
warning; a `trigger_id` (made by `trigger()`) opens one view, within 3 seconds; a `response_url`
takes 5 posts; a second identical reaction is `already_reacted`; ids are Slack-shaped (`U0…`,
`C0…`, upper case). Everything refused or cut, and text Slack would misread (a `<`, `>` or `&` left
unescaped in mrkdwn), is kept in `rejected` for tests to assert on.

Files (`files_upload_v2`) go as Slack takes them: files.getUploadURLExternal (a filename and a
length in bytes, both required) gives an upload URL on this server; a POST of exactly that many
bytes to it uploads the file, once; files.completeUploadExternal takes only files whose upload
finished (else `invalid_arguments`) and, with a `channel_id`, shares them there as one message whose
text is the `initial_comment` (kept in `history`, its `files` named as uploaded) and in `files`.

Point a WebClient at `fake.api_url`; `response_url`s handed to the app are `fake.response_url(…)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.bot import strict_slack


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


def _decode(value: Any) -> Any:
    """Form fields that carry JSON (blocks, view, metadata) are decoded for easy assertions."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeSlack:
    def __init__(
        self, token: str = "xoxb-test", bot_user: str = "U0BOT", app_token: str = "xapp-test"
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.socket_url: str | None = None  # apps.connections.open answers this (Socket Mode)
        self.bot_user = bot_user
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.failures: list[tuple[int, float | None]] = []  # (status, retry_after) for next calls
        self.fail_methods: set[str] | None = None
        self.fail_channels: set[str] | None = None
        self.errors: dict[str, str] = {}  # method -> Slack error to answer with (ok: false)
        self.bad_channels: set[str] = set()
        self.bad_users: set[str] = set()
        self.history: dict[str, list[dict[str, Any]]] = {}
        self._ts = 1_700_000_000
        self.latency = 0.0  # seconds every call takes to answer
        self.channel_interval: float | None = None  # seconds between posts to one conversation
        self.overlaps = 0
        self._posting: dict[str, int] = {}  # conversation -> posts being answered
        self._last_post: dict[str, float] = {}  # conversation -> when its last post was accepted
        self._views = 0
        self.triggers: dict[str, float | None] = {}  # trigger_id -> when made (None: used)
        self.responses: dict[str, int] = {}  # response_url path -> posts taken
        self.reactions: set[tuple[str, str, str]] = set()
        self.rejected: list[tuple[str, str]] = []  # (method, Slack's error or warning)
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> its name, length, bytes (None: not yet)
        self.files: dict[str, list[dict[str, Any]]] = {}  # conversation -> files shared there, in order
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- control ------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(
        self,
        n: int,
        status: int = 429,
        retry_after: float | None = 1,
        methods: set[str] | None = None,
        channels: set[str] | None = None,
    ) -> None:
        """The next `n` API calls (of `methods`, to `channels`, default any) answer `status`."""
        with self.lock:
            self.failures = [(status, retry_after)] * n
            self.fail_methods = methods
            self.fail_channels = channels

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/respond/{name}"

    def trigger(self, age: float = 0.0) -> str:
        """A new trigger_id, as Slack puts in a command or interaction: valid once, for 3 seconds
        (`age` seconds of them already gone)."""
        with self.lock:
            n = len(self.triggers) + 1
            trigger = f"{1_700_000_000 + n}.{n:09d}.{n:032x}"
            self.triggers[trigger] = time.monotonic() - age
            return trigger

    def seen_faults(self) -> list[tuple[str, str]]:
        """What Slack refused, cut or would misread that is always Seen's fault (invalid blocks or
        views, text over the limit, unescaped mrkdwn, a message with no text): not the faults a
        test provokes (an old trigger, a missing channel)."""
        with self.lock:
            return [(m, e) for m, e in self.rejected if e in strict_slack.SEENS_FAULTS]

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()

    # -- reading what was called --------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0, where: Any = None) -> list[Call]:
        """Block until `count` calls of `method` (matching `where(call)`) were made; return them."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(c.method for c in self.calls)
                    raise AssertionError(f"expected {count} call(s) of {method}; calls so far: {seen}")
                self.changed.wait(left)

    def duplicates(self) -> list[str]:
        """Outbox keys (message metadata) posted more than once, in any conversation."""
        with self.lock:
            keys = [
                ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                for ms in self.history.values()
                for m in ms
            ]
        return sorted(k for k, n in Counter(keys).items() if k is not None and n > 1)

    def _arrive(self, method: str, body: dict[str, Any]) -> str | None:
        """A post's conversation, counted as being answered (an overlap if one already is)."""
        if method != "chat.postMessage":
            return None
        channel = self._channel(str(body.get("channel", "")))
        if self._posting.get(channel):
            self.overlaps += 1
        self._posting[channel] = self._posting.get(channel, 0) + 1
        return channel

    def _too_soon(self, channel: str | None, arrived: float) -> float | None:
        """Seconds a post that arrived at `arrived` should have waited for its conversation's limit."""
        if channel is None or self.channel_interval is None:
            return None
        last = self._last_post.get(channel)
        if last is not None and arrived - last < self.channel_interval:
            return self.channel_interval - (arrived - last)
        self._last_post[channel] = arrived
        return None

    def messages(self, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.history.get(channel, [])]

    # -- the API ------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts}.000100"

    def _channel(self, channel: str) -> str:
        return "D" + channel[1:] if channel.startswith(("U", "W")) else channel

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """Slack's answer; a refusal or a warning is also kept in `rejected` (called under the lock)."""
        answer = self._answer(method, body)
        if answer.get("ok") and strict_slack.misread(method, body):
            self.rejected.append((method, "unescaped mrkdwn"))
        if not answer.get("ok"):
            self.rejected.append((method, str(answer.get("error"))))
        elif answer.get("warning"):
            self.rejected.append((method, str(answer["warning"])))
        return answer

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        refused = strict_slack.check_call(method, body)
        if refused is not None:
            return refused
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://seen-test.slack.com/",
                "team": "Seen test",
                "user": "seen",
                "team_id": "T0001",
                "user_id": self.bot_user,
                "bot_id": "B0001",
            }
        if method == "apps.connections.open":
            if self.socket_url is None:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_url}
        if method == "users.info":
            return {"ok": True, "user": {"id": body.get("user"), "tz": "Europe/London", "is_bot": False}}
        if method == "conversations.open":
            users = str(body.get("users", ""))
            if users in self.bad_users or not strict_slack.USER_ID.fullmatch(users):
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": self._channel(users)}}
        if method == "chat.postMessage":
            channel = self._channel(str(body.get("channel", "")))
            if (
                channel in self.bad_channels
                or body.get("channel") in self.bad_channels
                or not strict_slack.CONVERSATION_ID.fullmatch(channel)
            ):
                return {"ok": False, "error": "channel_not_found"}
            ts = self._next_ts()
            text, warning = strict_slack.truncated(body.get("text"))
            message = {"type": "message", "ts": ts, "text": text, "user": self.bot_user}
            for name in ("blocks", "metadata", "thread_ts"):
                if body.get(name) is not None:
                    message[name] = _decode(body[name])
            self.history.setdefault(channel, []).append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message, **warning}
        if method == "chat.update":
            channel, ts = str(body.get("channel")), str(body.get("ts"))
            text, warning = strict_slack.truncated(body.get("text"))
            for m in self.history.get(channel, []):
                if m["ts"] == ts:
                    m["text"] = text
                    m["blocks"] = _decode(body.get("blocks"))
                    return {"ok": True, "channel": channel, "ts": ts, "text": text, **warning}
            return {"ok": False, "error": "message_not_found"}
        if method == "chat.postEphemeral":
            if not strict_slack.USER_ID.fullmatch(str(body.get("user", ""))):
                return {"ok": False, "error": "user_not_found"}
            _, warning = strict_slack.truncated(body.get("text"))
            return {"ok": True, "message_ts": self._next_ts(), **warning}
        if method == "conversations.history":
            channel = str(body.get("channel"))
            if channel in self.bad_channels:
                return {"ok": False, "error": "channel_not_found"}
            with_meta = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
            out = []
            for m in reversed(self.history.get(channel, [])):
                m = dict(m)
                if not with_meta:
                    m.pop("metadata", None)
                out.append(m)
            limit = int(body.get("limit") or 100)
            start = int(body.get("cursor") or 0)  # Slack's cursors are opaque; here, an offset
            page, more = out[start : start + limit], len(out) > start + limit
            return {
                "ok": True,
                "messages": page,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        if method in ("views.open", "views.update", "views.publish", "views.push"):
            if method in ("views.open", "views.push"):
                refused = self._take_trigger(str(body.get("trigger_id") or ""))
                if refused is not None:
                    return {"ok": False, "error": refused}
            if method == "views.publish" and not strict_slack.USER_ID.fullmatch(str(body.get("user_id"))):
                return {"ok": False, "error": "invalid_arguments"}
            self._views += 1
            view = _decode(body.get("view")) or {}
            return {"ok": True, "view": {**view, "id": f"V0{self._views:08d}", "hash": "h"}}
        if method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
            return self._file(method, body)
        if method == "reactions.add":
            reaction = (str(body.get("channel")), str(body.get("timestamp")), str(body.get("name")))
            if reaction in self.reactions:
                return {"ok": False, "error": "already_reacted"}
            self.reactions.add(reaction)
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    def _file(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """The two files API calls around an upload (see the module's docstring)."""
        if method == "files.getUploadURLExternal":
            length = str(body.get("length") or "")
            if not body.get("filename") or not length.isdigit() or int(length) < 1:
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F0{len(self.uploads) + 1:08d}"
            self.uploads[file_id] = {"name": str(body["filename"]), "length": int(length), "data": None}
            alt = body.get("alt_txt")
            self.uploads[file_id]["alt_txt"] = alt if isinstance(alt, str) else None
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/v1/{file_id}"}
        files = body.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        for f in files:
            if not isinstance(f, dict) or (self.uploads.get(str(f.get("id"))) or {}).get("data") is None:
                return {"ok": False, "error": "invalid_arguments"}  # not uploaded (yet)
        shared = [{**self.uploads[f["id"]], "id": f["id"], "title": f.get("title")} for f in files]
        channel = body.get("channel_id")
        if channel is not None:
            channel = self._channel(str(channel))
            if channel in self.bad_channels or not strict_slack.CONVERSATION_ID.fullmatch(channel):
                return {"ok": False, "error": "channel_not_found"}
            comment, warning = strict_slack.truncated(body.get("initial_comment"))
            if warning or strict_slack.misread("chat.postMessage", {"text": comment}):
                self.rejected.append((method, warning.get("warning") or "unescaped mrkdwn"))
            names = [{"id": f["id"], "name": f["name"], "title": f["title"]} for f in shared]
            message = {"type": "message", "ts": self._next_ts(), "text": comment or "", "files": names}
            message["user"] = self.bot_user
            self.history.setdefault(channel, []).append(message)
            self.files.setdefault(channel, []).extend({**f, "comment": comment} for f in shared)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    def upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """A POST to an upload URL: exactly the bytes announced, once (called under the lock)."""
        upload = self.uploads.get(file_id)
        if upload is None or upload["data"] is not None or len(data) != upload["length"]:
            self.rejected.append(("upload", "invalid_arguments"))
            return 400, "upload refused"
        upload["data"] = data
        return 200, f"OK - {len(data)}"

    def _take_trigger(self, trigger: str) -> str | None:
        """Slack's error for a trigger_id that cannot open a view, or None (it is then used up)."""
        if trigger not in self.triggers:
            return "invalid_trigger_id"
        made = self.triggers[trigger]
        if made is None:
            return "exchanged_trigger_id"
        self.triggers[trigger] = None
        if time.monotonic() - made > strict_slack.TRIGGER_SECONDS:
            return "expired_trigger_id"
        return None

    def respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A post to a response_url: 5 each, the message checked as chat.postMessage's."""
        self.responses[path] = self.responses.get(path, 0) + 1
        if self.responses[path] > strict_slack.RESPONSE_URL_POSTS:
            self.rejected.append(("response_url", "used_url"))
            return 404, {"ok": False, "error": "used_url"}
        refused = strict_slack.check_call("chat.postMessage", body)
        if refused is not None:
            self.rejected.append(("response_url", str(refused["error"])))
            return 400, refused
        _, warning = strict_slack.truncated(body.get("text"))
        if warning:
            self.rejected.append(("response_url", warning["warning"]))
        if strict_slack.misread("response_url", body):
            self.rejected.append(("response_url", "unescaped mrkdwn"))
        return 200, {"ok": True, **warning}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/upload/v1/"):  # a file's bytes, to the URL the API gave
                    with fake.changed:
                        fake.calls.append(Call("upload", {"file_id": self.path[11:], "bytes": len(data)}, {}))
                        fake.changed.notify_all()
                        status, text = fake.upload(self.path[len("/upload/v1/") :], data)
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text.encode())
                    return
                raw = data.decode()
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    body = json.loads(raw or "{}")
                else:
                    body = {k: _decode(v[0]) for k, v in parse_qs(raw).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith("/respond/"):
                    with fake.changed:
                        fake.calls.append(Call("response_url", body, headers))
                        fake.changed.notify_all()
                        status, answer = fake.respond(self.path, body)
                    self._reply(status, answer)
                    return
                if not self.path.startswith("/api/"):
                    self._reply(404, {"ok": False, "error": "not_found"})
                    return
                method = self.path[len("/api/") :].split("?")[0]
                arrived = time.monotonic()
                with fake.lock:
                    posting = fake._arrive(method, body)
                    latency = fake.latency
                if latency:
                    time.sleep(latency)
                with fake.changed:
                    fake.calls.append(Call(method, body, headers))
                    fake.changed.notify_all()
                    failure = None
                    if (
                        fake.failures
                        and (fake.fail_methods is None or method in fake.fail_methods)
                        and (fake.fail_channels is None or body.get("channel") in fake.fail_channels)
                    ):
                        failure = fake.failures.pop(0)
                    wanted = fake.app_token if method == "apps.connections.open" else fake.token
                    token_ok = headers.get("authorization") == f"Bearer {wanted}"
                    too_soon = fake._too_soon(posting, arrived) if failure is None and token_ok else None
                    if too_soon is not None:
                        failure = (429, max(too_soon, 1.0))
                    answer = fake.answer(method, body) if token_ok and failure is None else None
                    if posting is not None:
                        fake._posting[posting] -= 1
                if failure is not None:
                    status, retry_after = failure
                    extra = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
                    error = "ratelimited" if status == 429 else "internal_error"
                    self._reply(status, {"ok": False, "error": error}, extra)
                    return
                if not token_ok:
                    self._reply(200, {"ok": False, "error": "invalid_auth"})
                    return
                assert answer is not None
                self._reply(200, answer)

        return Handler
