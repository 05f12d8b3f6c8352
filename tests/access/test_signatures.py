"""Request signatures over real HTTP (issue 4 item 7, issue 5 item 5): a request Slack did not sign
now, with this app's secret, over exactly this body, gets 401 and changes nothing; a signed one
replayed (as an attacker would, or Slack retrying) stores its fact once; and no path answers
without a valid signature except GET /healthz.

"Changes nothing" is checked strictly: the row count of every table, the audit log included, is the
same after the request, and the app made no Web API call or response_url post."""

from __future__ import annotations

import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.bot.conftest import SECRET, Running, SlackSender
from tests.storage.conftest import count_rows

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Raw:
    status: int
    body: str
    headers: dict[str, str]


def send(
    url: str,
    path: str = "/slack/events",
    *,
    body: bytes | None = b"",
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> Raw:
    request = urllib.request.Request(
        url + path, data=body if method not in ("GET", "HEAD") else None, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return Raw(r.status, r.read().decode("utf-8", "replace"), dict(r.headers))
    except urllib.error.HTTPError as exc:
        return Raw(exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers))


def sign(body: str, timestamp: str, secret: str = SECRET, version: str = "v0") -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return f"{version}=" + hmac.new(secret.encode(), base, sha256).hexdigest()


def command_body(app: Running, text: str, trigger: str) -> str:
    return urlencode(
        {
            "command": "/seen",
            "text": text,
            "user_id": "U0SW",
            "team_id": "T0001",
            "channel_id": "C0NORTH",
            "response_url": app.fake.response_url(trigger),
            "trigger_id": trigger,
        }
    )


def post_signed(app: Running, body: str, timestamp: int | str, signature: str, **extra: str) -> Raw:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
        **extra,
    }
    return send(app.url, body=body.encode(), headers=headers)


class Unchanged:
    """Asserts that the database and the fake Slack saw nothing from the requests in the block."""

    def __init__(self, app: Running) -> None:
        self.app = app

    def __enter__(self) -> Unchanged:
        with self.app.factory() as s:
            self.rows = count_rows(s)
        self.calls = len(self.app.fake.calls)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return
        time.sleep(0.3)  # anything the app would do after acknowledging has happened by now
        with self.app.factory() as s:
            assert count_rows(s) == self.rows
        assert self.app.fake.calls[self.calls :] == []


NOTE = "note C-1042 written by someone who is not Slack"


def test_a_correctly_signed_request_is_accepted(app: Running) -> None:
    """The control: the helpers sign as Slack does, so each 401 below is the check, not the helper."""
    now = int(time.time())
    body = command_body(app, "help", "trig.sig.ok")
    assert post_signed(app, body, now, sign(body, str(now))).status == 200
    for skew in (-240, 240):  # inside Slack's five minutes, either way
        assert post_signed(app, body, now + skew, sign(body, str(now + skew))).status == 200


@pytest.mark.parametrize(
    "skew",
    [-301, -6 * 60, -3600, -(10**6), 301, 6 * 60, 3600, 10**6],
    ids=lambda s: f"{'stale' if s < 0 else 'future'}{abs(s)}s",
)
def test_stale_or_future_timestamps_are_refused(app: Running, skew: int) -> None:
    """More than five minutes old (a replay) or ahead (a clock attack): 401, even correctly signed."""
    ts = int(time.time()) + skew
    body = command_body(app, NOTE, f"trig.sig.skew{skew}")
    with Unchanged(app):
        reply = post_signed(app, body, ts, sign(body, str(ts)))
        assert reply.status == 401, reply.body


def test_a_body_altered_after_signing_is_refused(app: Running) -> None:
    now = str(int(time.time()))
    signed = command_body(app, "help", "trig.sig.body")
    altered = command_body(app, NOTE, "trig.sig.body")
    with Unchanged(app):
        assert post_signed(app, altered, now, sign(signed, now)).status == 401
        assert post_signed(app, signed + "&text=due", now, sign(signed, now)).status == 401
        assert post_signed(app, signed[:-1], now, sign(signed, now)).status == 401


def test_an_altered_timestamp_is_refused(app: Running) -> None:
    now = int(time.time())
    body = command_body(app, NOTE, "trig.sig.ts")
    signature = sign(body, str(now))
    with Unchanged(app):
        for ts in (now - 1, now + 1, f"{now}0", f"{now}.0", f"+{now}", f"{now}\t1"):
            assert post_signed(app, body, ts, signature).status == 401, ts


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "now"},
        {"X-Slack-Signature": "v0=0"},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=abc"},
    ],
    ids=["none", "timestamp only", "signature only", "blank", "not a number", "exponent", "huge", "negative"],
)
def test_missing_or_garbled_headers_are_refused(app: Running, headers: dict[str, str]) -> None:
    body = command_body(app, NOTE, "trig.sig.headers")
    with Unchanged(app):
        reply = send(
            app.url,
            body=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
        assert reply.status == 401, (reply.status, reply.body)


def test_a_signature_made_with_another_secret_is_refused(app: Running) -> None:
    now = str(int(time.time()))
    body = command_body(app, NOTE, "trig.sig.secret")
    with Unchanged(app):
        for secret in ("not-the-secret", "", SECRET + " ", SECRET.upper()):
            assert post_signed(app, body, now, sign(body, now, secret=secret)).status == 401


def test_a_wrong_version_prefix_or_a_mangled_signature_is_refused(app: Running) -> None:
    now = str(int(time.time()))
    body = command_body(app, NOTE, "trig.sig.version")
    good = sign(body, now)
    digest = good.removeprefix("v0=")
    with Unchanged(app):
        for signature in (
            f"v1={digest}",
            f"V0={digest}",
            digest,
            f"v0:{digest}",
            f"v0={digest.upper()}",
            f"v0={digest[:-1]}",
            f"v0={digest}0",
            f"{good},{good}",
        ):
            assert post_signed(app, body, now, signature).status == 401, signature


def _rows(app: Running) -> dict[str, int]:
    with app.factory() as s:
        return count_rows(s)


def test_a_replayed_slash_command_stores_its_fact_once(app: Running) -> None:
    """The same signed request twice (captured and replayed within the five minutes, or Slack's own
    retry, re-signed with a fresh timestamp and X-Slack-Retry-Num): one case note, one visit."""
    for text, table in (
        ("note C-1042 replayed note", "case_notes"),
        ("log C-1042 seen alone bedroom at 2026-11-23 09:00", "contacts"),
    ):
        trigger = app.fake.trigger()
        body = command_body(app, text, trigger)
        answers = len(app.fake.of("response_url"))
        before = _rows(app)
        now = str(int(time.time()))
        signature = sign(body, now)
        assert post_signed(app, body, now, signature).status == 200
        assert post_signed(app, body, now, signature).status == 200  # the replay
        later = str(int(time.time()) + 2)
        retry = post_signed(
            app,
            body,
            later,
            sign(body, later),
            **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert retry.status == 200
        app.fake.wait_for("response_url", count=answers + 3)
        after = _rows(app)
        assert after[table] == before[table] + 1, (table, before[table], after[table])


def test_a_replayed_form_submission_or_button_click_stores_once(app: Running) -> None:
    sender = app.slack
    view = {
        "type": "modal",
        "callback_id": "seen_decision",
        "id": "V-replay",
        "hash": "h",
        "private_metadata": json.dumps(
            {
                "o": "C-1042:CB-NOTSEEN-DISCUSS:team_manager:replay",
                "r": "CB-NOTSEEN-DISCUSS",
                "c": "C-1042",
                "w": "team_manager",
            }
        ),
        "state": {
            "values": {
                "outcome": {"v": {"type": "radio_buttons", "selected_option": {"value": "emergency_action"}}}
            }
        },
    }
    submission = {"type": "view_submission", "user": {"id": "U0TM"}, "trigger_id": "t", "view": view}
    click = {
        "type": "block_actions",
        "user": {"id": "U0TM"},
        "trigger_id": "t2",
        "container": {"type": "message", "channel_id": "D0TM", "message_ts": "1.1"},
        "message": {"ts": "1.1", "text": "prompt"},
        "response_url": app.fake.response_url("replay-ack"),
        "actions": [
            {
                "action_id": "seen_ack",
                "block_id": "seen_actions",
                "type": "button",
                "value": json.dumps(
                    {"o": "C-1042:CB-NOTSEEN-DISCUSS:team_manager:replay", "c": "C-1042", "w": "team_manager"}
                ),
            }
        ],
    }
    before = _rows(app)
    for payload in (submission, click):
        body = urlencode({"payload": json.dumps({"team": {"id": "T0001"}, **payload})})
        now = str(int(time.time()))
        signature = sign(body, now)
        for _ in range(3):
            assert post_signed(app, body, now, signature).status == 200
    app.fake.wait_for("chat.update", count=1)
    time.sleep(0.3)
    after = _rows(app)
    assert after["decisions"] == before["decisions"] + 1
    assert after["case_notes"] == before["case_notes"] + 1
    assert after["acknowledgements"] == before["acknowledgements"] + 1
    del sender


# -- no way in without a signature ---------------------------------------------------------------
PATHS = [
    "/",
    "/slack/events",
    "/slack/events/",
    "/SLACK/EVENTS",
    "//slack/events",
    "/slack/events/../events",
    "/slack/events%2F",
    "/slack/events?ssl_check=0",
    "/slack/install",
    "/slack/oauth_redirect",
    "/slack/commands",
    "/slack/interactive",
    "/metrics",
    "/healthz/",
    "/health",
    "/admin",
    "/api/",
    "/docs",
    "/openapi.json",
    "/.env",
    "/static/../storage/db.py",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FORMS = [
    b"",
    b"command=/seen&text=note+C-1042+x&user_id=U0SW",
    b'{"type":"url_verification","challenge":"x"}',
    b"payload=%5B1%5D",
    b"\xff\xfe not UTF-8",
]


def _metrics_documented() -> bool:
    """/metrics may answer without a signature only if README says it is served that way."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return "/metrics" in readme and "without a signature" in readme


@pytest.mark.parametrize("method", METHODS)
def test_no_path_answers_without_a_signature_but_healthz(app: Running, method: str) -> None:
    with Unchanged(app):
        for path in PATHS:
            for body in FORMS if method not in ("GET", "HEAD") else [b""]:
                for ctype in ("application/x-www-form-urlencoded", "application/json"):
                    reply = send(app.url, path, body=body, method=method, headers={"Content-Type": ctype})
                    where = f"{method} {path} {body[:30]!r}"
                    if path == "/metrics" and reply.status == 200:
                        assert method in ("GET", "HEAD") and _metrics_documented(), where
                        continue
                    # 400: a body that is not what its content type says (refused unread)
                    assert reply.status in (400, 401, 404, 405), (where, reply.status, reply.body[:200])
                    assert "abc" not in reply.body and "Traceback" not in reply.body, where
    for method_ in ("GET", "HEAD"):
        assert send(app.url, "/healthz", method=method_).status == 200


def test_slacks_ssl_check_is_answered_without_acting(app: Running) -> None:
    """Slack's SSL certificate check (ssl_check=1) is answered 200 by Bolt before the signature is
    verified, as Slack sends it; it runs no listener, whatever else the body holds."""
    body = b"ssl_check=1&token=x&command=/seen&text=note+C-1042+ssl&user_id=U0SW&trigger_id=ssl"
    with Unchanged(app):
        reply = send(app.url, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert (reply.status, reply.body) == (200, "")


def test_the_sender_used_by_the_other_tests_signs_like_slack(app: Running) -> None:
    """tests/bot's SlackSender (slack_sdk's SignatureVerifier) and `sign` here agree."""
    sender = SlackSender(app.url, app.fake)
    now = "1700000000"
    assert sender.verifier.generate_signature(timestamp=now, body="a=b") == sign("a=b", now)


def test_metrics_answer_only_the_bearer_of_the_metrics_token() -> None:
    """/metrics (README: for a bearer of SEEN_METRICS_TOKEN only) is the one other path that answers
    without a Slack signature: it wants its own token, and refuses anything else with 401."""
    from bot.slack.server import SeenASGI
    from tests.bot.conftest import UvicornThread

    server = UvicornThread(SeenASGI(None, metrics=lambda: b"seen_up 1\n", metrics_token="m3trics"))
    url = server.start()
    try:
        assert send(url, "/metrics", method="GET").status == 401
        for auth in (
            "Bearer wrong",
            "bearer m3trics",
            "m3trics",
            "Basic bTN0cmljcw==",
            "Bearer m3trics\u00e9",
            "Bearer \u00ff\u00fe",
        ):
            reply = send(url, "/metrics", method="GET", headers={"Authorization": auth})
            assert reply.status == 401, (auth, reply.status, reply.body[:100])
        ok = send(url, "/metrics", method="GET", headers={"Authorization": "Bearer m3trics"})
        assert (ok.status, ok.body) == (200, "seen_up 1\n")
        for method in ("POST", "PUT", "DELETE"):
            assert (
                send(url, "/metrics", method=method, headers={"Authorization": "Bearer m3trics"}).status
                == 404
            )
    finally:
        server.stop()


def test_a_signature_header_that_is_not_ascii_is_refused_with_401(app: Running) -> None:
    """Issue 9 item 6: an X-Slack-Signature holding non-ASCII made Bolt's verifier raise (500 and a
    traceback); it is a signature Slack never sends, so 401."""
    now = str(int(time.time()))
    body = command_body(app, NOTE, "trig.sig.ascii")
    digest = sign(body, now).removeprefix("v0=")
    with Unchanged(app):
        for signature in (f"v0={digest[:-1]}é", "v0=é", "é" * 67):
            reply = post_signed(app, body, now, signature)
            assert reply.status == 401, (signature, reply.status, reply.body)
            assert "Traceback" not in reply.body


def _raw_post(url: str, body: bytes, headers: dict[str, str], *, chunked: bool = False) -> int:
    """The status of a POST to /slack/events over a bare connection (the server may answer before
    reading the whole body and close: what was not sent yet is then not sent)."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        for name, value in headers.items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        try:
            step = 64 * 1024
            for start in range(0, len(body), step):
                piece = body[start : start + step]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_body_over_the_limit_is_refused_with_413_before_its_signature_is_checked(app: Running) -> None:
    """Issue 9 item 1: over MAX_BODY_BYTES (1 MiB) is 413, correctly signed or not, whether the
    length is declared or the body comes in chunks; at the limit a signed body is read and checked."""
    from bot.slack.server import MAX_BODY_BYTES

    now = str(int(time.time()))
    base = command_body(app, "help", "trig.sig.size") + "&pad="
    over = (base + "x" * (MAX_BODY_BYTES + 1 - len(base))).encode()
    at = over[:MAX_BODY_BYTES]
    form = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": now}
    with Unchanged(app):
        for chunked in (False, True):
            signed = {**form, "X-Slack-Signature": sign(over.decode(), now)}
            assert _raw_post(app.url, over, signed, chunked=chunked) == 413
            assert _raw_post(app.url, over, {**form, "X-Slack-Signature": "v0=forged"}, chunked=chunked) in (
                401,
                413,
            )
    assert _raw_post(app.url, at, {**form, "X-Slack-Signature": sign(at.decode(), now)}) == 200
    assert send(app.url, "/healthz", method="GET").status == 200
