"""`seen serve` as a process (HTTP mode, uvicorn), and the manifest that creates the app."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.serving import UvicornRecords
from scheduler.logs import WITHHELD
from tests.bot.conftest import ROOT, SlackSender, free_port, serve_env, start_serve, wait_for_health

ACCESS = '%s - "%s %s HTTP/%s" %d'  # uvicorn's access line (uvicorn.protocols.http)


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
        assert "Seen: every child" in sender.command("U0SW", "help").json()["text"]
        assert sender.command("U0SW", "help", signature="v0=forged").status == 401
        sender.command("U0SW", "due")
        assert "Ask an administrator" in fake.wait_for("response_url")[0].body["text"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_seen_serve_logs_json_lines_through_the_personal_data_filter(tmp_path, fake, world):
    """Everything `seen serve` writes, its own lines and uvicorn's, is a JSON line of
    scheduler.logs; an access line is the method, the path and the status, never the query string
    (which might carry anything) or the client's address; staff names from the database and free
    text in a path are removed by the personal-data filter."""
    port = free_port()
    env = {**serve_env(fake, f"sqlite:///{tmp_path / 'seen.sqlite'}"), "SEEN_LOG_LEVEL": "info"}
    env.pop("SEEN_LOG_FORMAT", None)
    process = start_serve(port, env)
    url = f"http://127.0.0.1:{port}"
    secrets = ["Sam", "Worker", "Tina", "Manager", "sam.worker@example.org", "bruising", "C-1042+AB"]
    query = "?worker=Sam+Worker&email=sam.worker%40example.org&child=C-1042+AB&note=bruising+on+arm"
    try:
        assert wait_for_health(url, process)[0] == 200
        with urllib.request.urlopen(url + "/healthz" + query, timeout=5) as r:
            assert r.status == 200
        sender = SlackSender(url, fake)
        assert sender.command("U0SW", "help", path="/slack/events" + query).status == 200
        for path in ("/Sam-Worker/Tina-Manager", "/notes/bruising%20on%20arm"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(url + path + query, timeout=5)
            assert missing.value.code == 404
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    records = [json.loads(line) for line in output.splitlines() if line.strip()]  # JSON, every line
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records), output
    loggers = {r["logger"] for r in records}
    assert {"seen.server", "uvicorn.error", "uvicorn.access"} <= loggers, output
    access = [r["message"] for r in records if r["logger"] == "uvicorn.access"]
    assert "GET /healthz 200" in access
    assert "POST /slack/events 200" in access
    assert "GET /[name]-[name]/[name]-[name] 404" in access  # staff names, read from the database
    assert f"GET {WITHHELD} 404" in access  # a path of words
    assert all(r["status"] in (200, 404) for r in records if r["logger"] == "uvicorn.access")
    for secret in [*secrets, "?", "HTTP/1.1", "color_message"]:
        assert secret not in output, secret


def test_uvicorn_access_lines_keep_method_path_and_status_only():
    """The access line as uvicorn writes it, cut down; a method HTTP does not define, or a line in
    a shape this uvicorn does not write, keeps nothing the client sent."""
    cut = UvicornRecords()

    def line(*args: object) -> logging.LogRecord:
        record = logging.LogRecord("uvicorn.access", logging.INFO, "h11_impl.py", 1, ACCESS, args, None)
        record.color_message = "in colour"
        assert cut.filter(record)
        assert not hasattr(record, "color_message")
        return record

    record = line("10.0.0.7:51234", "POST", "/slack/events?name=Sam+Worker", "1.1", 200)
    assert (record.getMessage(), record.status) == ("POST /slack/events 200", 200)
    assert line("10.0.0.7:51234", "SAMWORKER", "/healthz", "1.1", 405).getMessage() == (
        "[other method] /healthz 405"
    )
    assert line("10.0.0.7:51234", "GET /?name=Sam+Worker").getMessage() == (
        "HTTP request (access line withheld: unknown format)"
    )


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


def test_bolt_does_not_warn_of_an_unused_token(monkeypatch, caplog, factory):
    """Seen gives Bolt the client made from SLACK_BOT_TOKEN: Bolt's "As you gave `client` as well,
    `token` will be unused" is not logged at every start."""
    from bot.slack.app import build_app

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    with caplog.at_level(logging.INFO):
        build_app(factory, token="xoxb-test", signing_secret="s", token_verification_enabled=False)
    assert "will be unused" not in caplog.text


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
        "reactions:write",
        "channels:history",
        "groups:history",
        "im:history",
        "files:write",  # the weekly report's chart and /seen stats' (files_upload_v2)
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
                    "user_id": "U0SW",
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
                    "user_id": "U0SW",
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
        reply = SlackSender(url, fake).command("U0SW", "help")
        assert reply.status == 404  # no HTTP events endpoint in Socket Mode
    finally:
        process.terminate()
        process.wait(timeout=10)
        sockets.stop()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    """(status, seconds) of a POST of `body` to `url`/slack/events."""
    request = urllib.request.Request(url + "/slack/events", data=body, method="POST", headers=headers)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            status = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.monotonic() - start


def test_an_unsigned_megabyte_costs_seen_serve_nothing(tmp_path, fake):
    """Issue 9 item 1: a 1 MB body with a bad signature, made of what made the log filter's old
    e-mail pattern slow, is refused within 1 s, and /healthz answers within 1 s meanwhile (it froze
    the process for minutes: slack_bolt logged the body and the filter scanned it in quadratic time)."""
    port = free_port()
    env = {**serve_env(fake, f"sqlite:///{tmp_path / 'serve.sqlite'}"), "SEEN_LOG_LEVEL": "info"}
    process = start_serve(port, env)
    url = f"http://127.0.0.1:{port}"
    now = str(int(time.time()))
    bodies = [b"text=" + b"a" * 1_000_000, b"payload=" + b"a.b-c+" * 166_666]
    signatures = ["v0=" + "0" * 64, "v0=forged"]
    try:
        assert wait_for_health(url, process)[0] == 200
        for body in bodies:
            for signature in signatures:
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": now,
                    "X-Slack-Signature": signature,
                }
                with ThreadPoolExecutor(1) as pool:
                    posted = pool.submit(_post, url, body, headers)
                    time.sleep(0.05)
                    start = time.monotonic()
                    with urllib.request.urlopen(url + "/healthz", timeout=30) as r:
                        assert r.status == 200
                    assert time.monotonic() - start < 1
                    status, seconds = posted.result()
                assert status == 401 and seconds < 1, (status, seconds)
                start = time.monotonic()
                with urllib.request.urlopen(url + "/healthz", timeout=30) as r:
                    assert r.status == 200 and time.monotonic() - start < 1
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert "aaaaaaaaaa" not in output and "a.b-c+a.b-c+" not in output


def test_a_stale_signed_note_leaves_no_trace_in_the_logs(tmp_path, fake, world):
    """Issue 9 item 2: a correctly signed `/seen note` that arrives 400 s late gets 401, and neither
    its text nor its response_url appears anywhere in what the server process wrote, at the most
    talkative log level (slack_bolt logged the whole refused body)."""
    port = free_port()
    env = {**serve_env(fake, f"sqlite:///{tmp_path / 'seen.sqlite'}"), "SEEN_LOG_LEVEL": "debug"}
    process = start_serve(port, env)
    url = f"http://127.0.0.1:{port}"
    note = "Grandmother Ottoline described bruising on the left forearm"
    try:
        assert wait_for_health(url, process)[0] == 200
        sender = SlackSender(url, fake)
        stale = int(time.time()) - 400
        reply = sender.command("U0SW", f"note C-1042 {note}", timestamp=stale)
        assert reply.status == 401
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    for secret in (
        "Ottoline",
        "bruising",
        "forearm",
        "Grandmother",
        "response_url",
        fake.response_url("cmd1"),
    ):
        assert secret not in output, secret
    assert "refused a request" in output  # the refusal itself is logged, without the body
