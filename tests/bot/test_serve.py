"""`seen serve` as a process (HTTP mode, uvicorn), and the manifest that creates the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.bot.conftest import ROOT, SlackSender, free_port, serve_env, start_serve, wait_for_health


def test_seen_serve_answers_healthz_and_signed_commands(tmp_path, fake):
    port = free_port()
    process = start_serve(port, serve_env(fake, f"sqlite:///{tmp_path / 'serve.sqlite'}"))
    try:
        url = f"http://127.0.0.1:{port}"
        _, body = wait_for_health(url, process)
        health = json.loads(body)
        assert health["ok"] is True and health["database"] == "ok"
        assert health["sweep"] in ("starting", "ok")  # within its first sweep's grace
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
    port = free_port()
    env = {**serve_env(fake, f"sqlite:///{tmp_path / 'socket.sqlite'}"), "SLACK_APP_TOKEN": "xapp-test"}
    env.pop("SLACK_SIGNING_SECRET", None)
    process = start_serve(port, env)
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
        status, _ = wait_for_health(url, process, seconds=20)
        assert status == 200
        reply = SlackSender(url, fake).command("U_SW", "help")
        assert reply.status == 404  # no HTTP events endpoint in Socket Mode
    finally:
        process.terminate()
        process.wait(timeout=10)
        sockets.stop()
