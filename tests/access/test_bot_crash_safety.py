"""Crash safety of the bot (issue 5 item 3): `seen serve` (a real process, HTTP mode) is killed with
SIGKILL between receiving a form submission and answering it, either just before the write
transaction commits or just after it (the fault-injection points of bot.slack.app.crash_point, chosen by
SEEN_TEST_KILL_AT). The database then holds the whole fact or none of it: every table's row count
moved by exactly what a complete submission writes, or not at all. Slack's retry of that request
(the same body, X-Slack-Retry-Num, re-signed with a fresh timestamp as Slack does) to the restarted
process then stores it exactly once, and a second retry changes nothing."""

from __future__ import annotations

import http.client
import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.signature import SignatureVerifier

from storage.db import make_engine, session_factory, upgrade
from tests.bot.conftest import (
    SECRET,
    TOKEN,
    add_world,
    clock_time,
    day,
    free_port,
    radio,
    seen_form,
    serve_env,
    start_serve,
    text,
    view_state,
    wait_for_health,
)
from tests.bot.conftest import select as choose
from tests.bot.fake_slack import FakeSlack
from tests.storage.conftest import count_rows


class Serve:
    """`seen serve --no-scheduler` on a free port, on the database at the given URL."""

    def __init__(self, database: str, fake: FakeSlack, kill_at: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = serve_env(fake, database)
        env.pop("SEEN_TEST_KILL_AT", None)
        if kill_at:
            env["SEEN_TEST_KILL_AT"] = kill_at
        self.process = start_serve(self.port, env)
        status, _ = wait_for_health(self.url, self.process)
        assert status == 200

    def post(self, body: str, *, retry: int = 0) -> tuple[int, str] | None:
        """POST a signed request as Slack sends it; None when the connection died unanswered."""
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
        }
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        request = urllib.request.Request(self.url + "/slack/events", data=body.encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except (OSError, http.client.HTTPException):
            return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack(TOKEN).start()
    yield server
    server.stop()


def _rows(database: str) -> dict[str, int]:
    engine = make_engine(database)
    try:
        with session_factory(engine)() as s:
            return count_rows(s)
    finally:
        engine.dispose()


def _submission(kind: str) -> tuple[str, dict[str, int]]:
    """(the signed form body of a view_submission, the rows a complete one writes)."""
    yesterday = (datetime.now(ZoneInfo("Europe/London")) - timedelta(days=1)).date().isoformat()

    if kind == "visit":  # a family visit: two children, one transaction (CB-RECORD)
        user, callback = "U0SW", "seen_visit_record"
        meta: dict[str, Any] = {"c": "C-1042", "s": ["C-1044"], "x": None}
        values: dict[str, Any] = {
            "at_date": day(yesterday),
            "at_time": clock_time("10:30"),
            "kind": choose("home_visit"),
        }
        for ref in ("C-1042", "C-1044"):
            values |= {
                f"outcome__{ref}": radio("seen"),
                f"alone__{ref}": choose("not_applicable"),
                f"bedroom__{ref}": radio("yes"),
                f"awake__{ref}": radio("yes"),
            }
        whole = {"contacts": 2, "audit_log": 2}
    else:  # CB-NOTSEEN-DISCUSS: the decision and its case note, one transaction
        user, callback = "U0TM", "seen_decision"
        meta = {
            "o": "C-1042:CB-NOTSEEN-DISCUSS:team_manager:crash",
            "r": "CB-NOTSEEN-DISCUSS",
            "c": "C-1042",
            "w": "team_manager",
        }
        values = {
            "outcome": radio("further_visit"),
            "days": choose("3"),
            "note": text("Revisit with the duty worker"),
        }
        whole = {"decisions": 1, "case_notes": 1, "audit_log": 2}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": user, "team_id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "trig.crash",
        "view": {
            **(form := seen_form(callback, meta)),
            "id": f"V0CRASH{kind.upper()}",
            "hash": "h",
            "state": {"values": view_state(form, values)},
        },
    }
    return urlencode({"payload": json.dumps(payload)}), whole


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before[t] for t in after if after[t] != before[t]}


@pytest.mark.parametrize("when", ["before-commit", "after-commit"])
@pytest.mark.parametrize("kind", ["visit", "decision"])
def test_killed_mid_submission_leaves_all_or_nothing_and_the_retry_stores_once(
    db_url: str, fake: FakeSlack, kind: str, when: str
) -> None:
    """On SQLite and, when SEEN_TEST_POSTGRES_URL is set, PostgreSQL (tests/storage's db_url)."""
    database = db_url
    engine = make_engine(database)
    upgrade(engine)
    add_world(session_factory(engine))
    engine.dispose()
    body, whole = _submission(kind)
    before = _rows(database)

    serve = Serve(database, fake, kill_at=f"{kind}-{when}")
    try:
        assert serve.post(body) is None, "the process answered instead of dying"
        assert serve.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        serve.stop()
    crashed = _delta(before, _rows(database))
    assert crashed == ({} if when == "before-commit" else whole), crashed

    serve = Serve(database, fake)  # restarted, as a supervisor would
    try:
        assert serve.post(body, retry=1) == (200, "")  # Slack's retry: accepted, no errors
        assert _delta(before, _rows(database)) == whole
        assert serve.post(body, retry=2) == (200, "")
        assert _delta(before, _rows(database)) == whole
    finally:
        serve.stop()
