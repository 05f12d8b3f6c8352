"""The app over HTTP: /healthz, request signatures (forged or stale -> 401), unknown paths."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.bot.conftest import SlackSender


def test_healthz_answers_json(running):
    with urllib.request.urlopen(running.url + "/healthz", timeout=5) as r:
        assert r.status == 200
        assert r.headers["content-type"] == "application/json"
        assert json.loads(r.read()) == {"ok": True, "database": "ok"}


def test_unknown_path_is_404(running):
    reply = running.slack.post("x=1", "application/x-www-form-urlencoded", path="/nowhere")
    assert reply.status == 404


def test_forged_signature_is_401_and_nothing_happens(running):
    forged = SlackSender(running.url, running.fake, secret="not-the-secret")
    reply = forged.command("U0SW", "note C-1042 forged note")
    assert reply.status == 401
    reply = running.slack.command("U0SW", "help", signature="v0=" + "0" * 64)
    assert reply.status == 401
    time.sleep(0.3)
    assert running.fake.of("response_url") == []


def test_stale_request_is_401(running):
    """A request signed correctly but more than five minutes old is refused (replay)."""
    reply = running.slack.command("U0SW", "help", timestamp=int(time.time()) - 6 * 60)
    assert reply.status == 401
    assert running.slack.command("U0SW", "help").status == 200


def test_url_verification(running):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    reply = running.slack.post(body, "application/json")
    assert reply.status == 200
    assert "abc123" in reply.body
