"""/metrics (issue 5: outbox depth, oldest undelivered age, sweep time, overdue counts) answers
only a bearer of SEEN_METRICS_TOKEN, and does not exist without one; /healthz fails when no
sweep has run for too long."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.serving import scheduler_health
from bot.slack.server import SeenASGI
from scheduler.metrics import render
from tests.storage import conftest as storage_fixtures

db_url, engine, factory = storage_fixtures.db_url, storage_fixtures.engine, storage_fixtures.factory


def _get(app: SeenASGI, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, str]:
    start, body = _exchange(app, path, headers)
    return start["status"], body.decode()


def _exchange(
    app: SeenASGI, path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[dict[str, Any], bytes]:
    """The response's start message and its body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "method": "GET", "headers": headers or []}
    asyncio.run(app(scope, receive, send))
    return sent[0], sent[1]["body"]


def test_metrics_need_the_token(factory: sessionmaker[Session]) -> None:
    app = SeenASGI(None, metrics=lambda: render(factory), metrics_token="s3cret")
    assert _get(app, "/metrics")[0] == 401
    assert _get(app, "/metrics", [(b"authorization", b"Bearer wrong")])[0] == 401
    status, body = _get(app, "/metrics", [(b"authorization", b"Bearer s3cret")])
    assert status == 200 and "outbox" in body


def test_metrics_in_the_prometheus_text_format(factory: sessionmaker[Session]) -> None:
    app = SeenASGI(None, metrics=lambda: render(factory), metrics_token="s3cret")
    start, body = _exchange(app, "/metrics", [(b"authorization", b"Bearer s3cret")])
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert headers[b"content-type"].startswith(b"text/plain; version=0.0.4")
    assert b'seen_outbox_messages{status="pending"}' in body
    assert int(headers[b"content-length"]) == len(body)


def test_no_token_no_metrics_endpoint(factory: sessionmaker[Session]) -> None:
    app = SeenASGI(None, metrics=lambda: render(factory), metrics_token=None)
    assert _get(app, "/metrics", [(b"authorization", b"Bearer ")])[0] == 404


def test_healthz_fails_when_nothing_has_swept_past_the_grace(factory: sessionmaker[Session]) -> None:
    fresh = SeenASGI(None, health=scheduler_health(factory, time.monotonic()))
    status, body = _get(fresh, "/healthz")
    assert status == 200 and json.loads(body)["sweep"] == "starting"
    stale = SeenASGI(None, health=scheduler_health(factory, time.monotonic() - 3600))
    status, body = _get(stale, "/healthz")
    assert status == 503 and json.loads(body)["sweep"] == "never swept"
