"""`seen serve` at start-up, as a process: a bot or app token Slack refuses (invalid_auth), and
Slack not answering auth.test, are one clear line and exit 2, like every configuration error; in
Socket Mode "connected" is logged only once the socket is open, and /healthz fails while it is
not. Bolt's "token will be unused" warning is not logged."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.bot.conftest import ROOT, free_port, serve_env, start_serve, wait_for_health


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "serve", "--no-scheduler", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "wrong"), [("SLACK_BOT_TOKEN", "xoxb-wrong"), ("SLACK_APP_TOKEN", "xapp-wrong")]
)
def test_a_token_slack_refuses_is_one_line_and_exit_2(tmp_path, fake, name, wrong):
    env = {**serve_env(fake, f"sqlite:///{tmp_path / 's.sqlite'}"), name: wrong}
    result = _serve(env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"seen serve: Slack refused {name} (invalid_auth): check the token (README: Running the Slack app)"
    )
    assert result.stdout == ""


def test_slack_unreachable_at_start_is_one_line_and_exit_2(tmp_path, fake):
    env = serve_env(fake, f"sqlite:///{tmp_path / 's.sqlite'}")
    env["SEEN_SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    result = _serve(env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"seen serve: Slack is not reachable at {env['SEEN_SLACK_API_URL']} (")
    assert line.endswith("): check the network, or SEEN_SLACK_API_URL")


def _socket_env(tmp_path, fake) -> dict[str, str]:
    """`seen serve` in Socket Mode against the fake, logging at info."""
    return {
        **serve_env(fake, f"sqlite:///{tmp_path / 'socket.sqlite'}"),
        "SLACK_APP_TOKEN": "xapp-test",
        "SEEN_LOG_LEVEL": "info",
    }


def _messages(output: str) -> list[str]:
    return [json.loads(line)["message"] for line in output.splitlines() if line.startswith("{")]


def test_socket_mode_is_connected_only_once_the_socket_is_open(tmp_path, fake):
    """The socket's address answers nothing: Seen keeps trying, never says it is connected, and
    /healthz answers 503 saying the socket is not connected."""
    fake.socket_url = f"ws://127.0.0.1:{free_port()}/link"
    port = free_port()
    process = start_serve(port, _socket_env(tmp_path, fake))
    try:
        import time
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                raise AssertionError("/healthz answered 200 with the socket down")
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                report = json.loads(exc.read())
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert report["socket_mode"] == "not connected" and report["ok"] is False
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    messages = _messages(output)
    assert not any("connected to Slack" in m for m in messages), output
    assert any("Socket Mode connection to Slack is not open" in m for m in messages), output
    assert "will be unused" not in output


def test_socket_mode_healthz_and_the_connected_line_once_open(tmp_path, fake):
    from tests.bot.fake_socket_mode import FakeSocketMode

    sockets = FakeSocketMode()
    fake.socket_url = sockets.url
    port = free_port()
    process = start_serve(port, _socket_env(tmp_path, fake))
    try:
        sockets.wait_connected()
        status, body = wait_for_health(f"http://127.0.0.1:{port}", process, seconds=20)
        assert status == 200 and json.loads(body)["socket_mode"] == "connected"
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
        sockets.stop()
    messages = _messages(output)
    assert sum("Seen is connected to Slack in Socket Mode" in m for m in messages) == 1, output
    assert "will be unused" not in output
