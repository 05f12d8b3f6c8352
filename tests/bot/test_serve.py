"""`seen serve` as a process (HTTP mode, uvicorn), and the manifest that creates the app."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.bot.conftest import SECRET, TOKEN, SlackSender

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_seen_serve_answers_healthz_and_signed_commands(tmp_path, fake):
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SEEN_SLACK_API_URL": fake.api_url,
        "SEEN_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
        "SEEN_LOG_LEVEL": "warning",
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scheduler.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-scheduler",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    health = json.loads(r.read())
                    assert health["ok"] is True and health["database"] == "ok"
                    assert health["sweep"] in ("starting", "ok")  # within its first sweep's grace
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        process.stdout.read().decode() if process.stdout else "no output"
                    ) from None
                time.sleep(0.1)
        sender = SlackSender(url, fake)
        assert "Seen: every child" in sender.command("U_SW", "help").json()["text"]
        assert sender.command("U_SW", "help", signature="v0=forged").status == 401
        sender.command("U_SW", "due")
        assert "Ask an administrator" in fake.wait_for("response_url")[0].body["text"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_needs_its_tokens(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    result = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "serve", "--no-scheduler"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "seen serve: SLACK_BOT_TOKEN is not set (see README: Running the Slack app)"
    )


def test_manifest_declares_what_the_app_uses():
    import yaml

    manifest = yaml.safe_load((ROOT / "slack-manifest.yml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == ["/seen"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "im:write",
        "commands",
        "users:read",
        "reactions:write",
        "channels:history",
        "groups:history",
        "im:history",
    }
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "message.channels",
        "message.groups",
        "message.im",
    }
    assert settings["interactivity"]["is_enabled"] is True
    for url in (
        features["slash_commands"][0]["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ):
        assert url.endswith("/slack/events")


def test_seen_serve_in_socket_mode(tmp_path, fake):
    """With SLACK_APP_TOKEN the app connects out over a WebSocket (no public URL); /healthz stays."""
    from tests.bot.fake_socket_mode import FakeSocketMode

    sockets = FakeSocketMode()
    fake.socket_url = sockets.url
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_APP_TOKEN": "xapp-test",
        "SEEN_SLACK_API_URL": fake.api_url,
        "SEEN_DATABASE_URL": f"sqlite:///{tmp_path / 'socket.sqlite'}",
        "SEEN_LOG_LEVEL": "warning",
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    command = [sys.executable, "-m", "scheduler.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        sockets.wait_connected()
        assert fake.of("apps.connections.open")[0].headers["authorization"] == "Bearer xapp-test"
        sockets.send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "command": "/seen",
                    "text": "help",
                    "user_id": "U_SW",
                    "team_id": "T0001",
                    "response_url": fake.response_url("sock1"),
                    "trigger_id": "trig.sock.1",
                },
            }
        )
        answer = sockets.wait_response("env-1")
        assert "Seen: every child" in answer["payload"]["text"]
        sockets.send(
            {
                "envelope_id": "env-2",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "command": "/seen",
                    "text": "due",
                    "user_id": "U_SW",
                    "team_id": "T0001",
                    "response_url": fake.response_url("sock2"),
                    "trigger_id": "trig.sock.2",
                },
            }
        )
        sockets.wait_response("env-2")
        assert "Ask an administrator" in fake.wait_for("response_url")[0].body["text"]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        reply = SlackSender(url, fake).command("U_SW", "help")
        assert reply.status == 404  # no HTTP events endpoint in Socket Mode
    finally:
        process.terminate()
        process.wait(timeout=10)
        sockets.stop()
