"""Running the Slack app: HTTP (an ASGI app served by uvicorn: POST /slack/events, GET /healthz) or
Socket Mode when SLACK_APP_TOKEN is set (no public URL needed; /healthz is still served). The
scheduler (sweep, due lists, delivery through the Slack messenger) runs in a background thread of the
same process unless asked not to.

A request to /slack/events is refused before any work: a body over MAX_BODY_BYTES (1 MiB) gets 413,
unread beyond the limit; one without a signature and timestamp of Slack's shape, or whose signature
over the raw bytes is wrong or older than five minutes, gets 401, before anything decodes, parses or
logs the body (Bolt verifies it again). Refusals are logged without the body.

Logs: `seen serve` logs as `seen run` does (scheduler.logs: JSON lines on standard error through the
personal-data filter), uvicorn's loggers included: uvicorn is given no logging configuration of its
own, so its records propagate to that handler, and `UvicornRecords` cuts each access line down to
the method, the path and the status first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.serving import Health, route_uvicorn_logs, scheduler_health, start_scheduler
from bot.slack.app import acknowledging_here
from scheduler.metrics import CONTENT_TYPE

log = logging.getLogger("seen.server")
EVENTS_PATH = "/slack/events"
# Slack's payloads are a few KB; the largest Seen can be sent, a visit form with every box filled
# to its 3,000 characters in a script that takes several bytes a character, stays well under this.
MAX_BODY_BYTES = 1024 * 1024
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
TIMESTAMP = re.compile(r"[0-9]{1,15}")
SSL_CHECK_BYTES = 1024
FORM = "application/x-www-form-urlencoded"  # what Slack posts commands and interactions as
REFUSALS = {401: '{"error": "invalid request"}', 413: '{"error": "request too large"}'}


class SeenASGI:
    """A small ASGI app around the sync Bolt app: each request is dispatched on a worker thread so
    the event loop keeps accepting (and acknowledging) others meanwhile."""

    def __init__(
        self,
        app: App | None,
        *,
        health: Health | None = None,
        path: str = EVENTS_PATH,
        workers: int = 64,
        metrics: Callable[[], bytes] | None = None,
        metrics_token: str | None = None,
        signing_secret: str | None = None,
    ) -> None:
        self.app = app
        self.health = health or (lambda: {"ok": True})
        # /metrics answers only a bearer of SEEN_METRICS_TOKEN; without a token it does not exist
        self.metrics = metrics if metrics_token else None
        self.metrics_token = metrics_token or ""
        self.path = path
        # Seen checks the signature itself, on the raw bytes and before anything else reads them;
        # Bolt checks it again (request_verification_enabled). Bolt keeps the secret it was given.
        secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", "")
        self.verifier = SignatureVerifier(secret) if app is not None and secret else None
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="seen-http")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.executor.shutdown(wait=False)
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        loop = asyncio.get_running_loop()
        if path == "/healthz" and method in ("GET", "HEAD"):
            try:
                report = await loop.run_in_executor(self.executor, self.health)
                status = 200 if report.get("ok") else 503
            except Exception as exc:  # the health check itself failed: not healthy
                report, status = {"ok": False, "error": type(exc).__name__}, 503
            await _send(send, status, {"content-type": ["application/json"]}, json.dumps(report))
            return
        if path == "/metrics" and self.metrics is not None and method in ("GET", "HEAD"):
            # compared as bytes: compare_digest refuses str holding non-ASCII (an answer of 500)
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, f"Bearer {self.metrics_token}".encode()):
                await _send(send, 401, {"content-type": ["text/plain"]}, "a metrics token is needed")
                return
            body = await loop.run_in_executor(self.executor, self.metrics)
            await _send(send, 200, {"content-type": [CONTENT_TYPE]}, body.decode("utf-8"))
            return
        if path == self.path and self.app is not None:
            if method != "POST":
                await _send(send, 405, {"content-type": ["text/plain"]}, "POST only")
                return
            headers = _headers(scope)
            body: bytes | None = None
            refusal = self._refuse_before_reading(headers)
            if refusal is None:
                body = await _body(receive, MAX_BODY_BYTES)
                refusal = self._refuse_after_reading(headers, body)
            elif refusal[0] == 401:
                # read (and dropped, but for a form small enough to be Slack's SSL check): the
                # client then reads its answer rather than a connection reset mid-send
                unsigned = await _body(
                    receive, MAX_BODY_BYTES, keep=0 <= _declared(headers) <= SSL_CHECK_BYTES
                )
                if unsigned and parse_qs(unsigned.decode("latin-1")).get("ssl_check") == ["1"]:
                    # Slack's SSL certificate check comes unsigned, with nothing to act on
                    await _send(send, 200, {"content-type": ["text/plain"]}, "")  # as Bolt answers it
                    return
            if refusal is not None or body is None:
                status, reason = refusal or (413, "")
                log.info("refused a request to %s: %s", self.path, reason, extra={"status": status})
                await _send(send, status, {"content-type": ["application/json"]}, REFUSALS[status])
                return
            try:
                request = BoltRequest(
                    body=body.decode("utf-8"),
                    query=(scope.get("query_string") or b"").decode("latin-1"),
                    headers=headers,
                )
            except (ValueError, AttributeError, TypeError):
                # a signed body that is not UTF-8, or not the JSON or form its content type says:
                # Bolt would answer 500
                await _send(send, 400, {"content-type": ["text/plain"]}, "Bad Request")
                return
            here = (headers.get("content-type") or [""])[0].startswith(FORM)
            response = await loop.run_in_executor(self.executor, self._dispatch, request, here)
            await _send(send, response.status, dict(response.headers), response.body or "")
            return
        await _send(send, 404, {"content-type": ["text/plain"]}, "Not Found")

    def _dispatch(self, request: BoltRequest, here: bool) -> BoltResponse:
        """Bolt's answer to `request`; `here`: a command or an interaction (a form post), whose
        acknowledgement is made on this thread (bot.slack.app.acknowledging_here)."""
        assert self.app is not None
        if not here:
            return self.app.dispatch(request)
        with acknowledging_here():
            return self.app.dispatch(request)

    def _refuse_before_reading(self, headers: dict[str, list[str]]) -> tuple[int, str] | None:
        """(status, reason) when the headers alone condemn the request: a declared length over the
        limit, or no signature and timestamp of the shape Slack sends (an X-Slack-Signature that
        is not ASCII made Bolt's verifier raise, and the answer was 500)."""
        length = (headers.get("content-length") or [""])[0]
        if length and (not length.isdigit() or _declared(headers) > MAX_BODY_BYTES):
            return 413, f"body over {MAX_BODY_BYTES} bytes"
        signature = (headers.get("x-slack-signature") or [""])[0]
        timestamp = (headers.get("x-slack-request-timestamp") or [""])[0]
        if not SIGNATURE.fullmatch(signature) or not TIMESTAMP.fullmatch(timestamp):
            return 401, "no signature or timestamp of Slack's form"
        return None

    def _refuse_after_reading(
        self, headers: dict[str, list[str]], body: bytes | None
    ) -> tuple[int, str] | None:
        """(status, reason) for a body over the limit (one sent without a length) or whose signature
        is wrong or stale: nothing parses, decodes or logs a body before this."""
        if body is None:
            return 413, f"body over {MAX_BODY_BYTES} bytes"
        timestamp = headers["x-slack-request-timestamp"][0]
        if self.verifier is None or not self.verifier.is_valid(
            body, timestamp, headers["x-slack-signature"][0]
        ):
            return 401, "signature wrong or stale"
        return None


def _declared(headers: dict[str, list[str]]) -> int:
    """The Content-Length the client declared; -1 when it declared none (a chunked body)."""
    length = (headers.get("content-length") or [""])[0]
    return int(length) if length.isdigit() else -1


def _headers(scope: dict[str, Any]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in scope.get("headers") or []:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


async def _body(receive: Any, limit: int, *, keep: bool = True) -> bytes | None:
    """The request body (b"" unless `keep`), or None as soon as it is found to be over `limit`
    bytes (the rest is not read: the connection is answered and closed)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        if keep:
            chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Any, status: int, headers: dict[str, Any], body: str) -> None:
    data = body.encode("utf-8")
    raw = []
    for name, values in headers.items():
        if name.lower() == "content-length":
            continue
        for value in values if isinstance(values, list | tuple) else [values]:
            raw.append((name.encode("latin-1"), str(value).encode("latin-1")))
    raw.append((b"content-length", str(len(data)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


@contextlib.contextmanager
def slack_start_up(token_name: str) -> Iterator[None]:
    """Slack refusing a token, or not answering, at start-up: one clear RuntimeError (the CLI prints
    it as one line and exits 2), never a traceback."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.slack.messenger import api_url

    # they would log each failed try, the request and Slack's answer, before the one line
    quiet = [logging.getLogger(name) for name in ("slack_sdk.web.base_client", "slack_bolt.App")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    except (BoltError, SlackApiError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
        if error is None:
            found = re.search(r"'error': '([a-z_]+)'", str(exc))
            error = found.group(1) if found else "refused"
        raise RuntimeError(
            f"Slack refused {token_name} ({error}): check the token (README: Running the Slack app)"
        ) from None
    except (SlackClientError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise RuntimeError(
            f"Slack is not reachable at {api_url()} ({reason}): check the network, or SEEN_SLACK_API_URL"
        ) from None
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


def watch_socket(is_open: Callable[[], bool], where: str, every: float = 1.0) -> threading.Thread:
    """Log when the Socket Mode connection opens (only then is Seen connected) and when it drops;
    slack_sdk reconnects by itself."""

    def watch() -> None:
        was: bool | None = None
        while True:
            now_open = is_open()
            if now_open and was is not True:
                log.info("Seen is connected to Slack in Socket Mode; %s", where)
            elif not now_open and was is not False:
                log.warning("The Socket Mode connection to Slack is not open; trying again")
            was = now_open
            time.sleep(every)

    thread = threading.Thread(target=watch, name="seen-socket-watch", daemon=True)
    thread.start()
    return thread


def socket_health(health: Health, is_open: Callable[[], bool]) -> Health:
    """/healthz: also fails while the Socket Mode connection is down (no event can reach Seen)."""

    def check() -> dict[str, Any]:
        report = health()
        if is_open():
            return {**report, "socket_mode": "connected"}
        return {**report, "ok": False, "socket_mode": "not connected"}

    return check


def serve(*, host: str, port: int, scheduler: bool = True, database_url: str | None = None) -> None:
    """`seen serve`: the Slack app (HTTP or Socket Mode) and, unless told not to, the scheduler."""
    import uvicorn

    from bot.slack.app import build_app
    from scheduler.logs import watch_staff
    from storage.db import make_engine, session_factory, upgrade

    token = os.environ.get("SLACK_BOT_TOKEN")
    if not token:
        raise RuntimeError("SLACK_BOT_TOKEN is not set (see README: Running the Slack app)")
    app_token = os.environ.get("SLACK_APP_TOKEN")
    secret = os.environ.get("SLACK_SIGNING_SECRET") or ""
    if not app_token and not secret:
        raise RuntimeError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it (or set SLACK_APP_TOKEN)")
    engine = make_engine(database_url)
    upgrade(engine)
    factory = session_factory(engine)
    watch_staff(factory)  # the log filter removes these staff names wherever they appear
    with slack_start_up("SLACK_BOT_TOKEN"):
        app = build_app(factory, token=token, signing_secret=secret)  # it asks Slack (auth.test)
    from scheduler.metrics import render

    extras: dict[str, Any] = {
        "health": scheduler_health(factory, time.monotonic()),
        "metrics": lambda: render(factory),
        "metrics_token": os.environ.get("SEEN_METRICS_TOKEN"),
    }
    if app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, app_token)
        with slack_start_up("SLACK_APP_TOKEN"):
            handler.connect()  # asks Slack for the socket's address, then opens it (or keeps trying)
        is_open = handler.client.is_connected
        watch_socket(is_open, f"/healthz on {host}:{port}")
        extras["health"] = socket_health(extras["health"], is_open)
        asgi = SeenASGI(None, **extras)
    else:
        log.info("Seen is serving Slack events on http://%s:%d%s", host, port, EVENTS_PATH)
        asgi = SeenASGI(app, **extras)
    if scheduler:
        from bot.slack.messenger import SlackMessenger, outbox_locator

        start_scheduler(factory, SlackMessenger(app.client, locate=outbox_locator(factory)))
    route_uvicorn_logs()
    uvicorn.run(
        asgi,
        host=host,
        port=port,
        log_config=None,  # uvicorn's records go to the handler of scheduler.logs (seen serve sets it)
        log_level=os.environ.get("SEEN_LOG_LEVEL", "info").lower(),
    )
