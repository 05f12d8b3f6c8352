"""Load script (not a test): N concurrent signed Teams message activities over loopback at `seen
serve` on Teams (the Teams SDK app behind uvicorn, in its own process), reporting the HTTP
acknowledgement latency (p50, p99, max) over several rounds. The target is p99 under 300 ms.

    .venv/bin/python tests/bench/load_teams.py [--concurrent 50] [--rounds 3]

It starts the fake Bot Connector (tests/teams/fake_connector.py), which publishes the signing keys
the app checks every activity's token against and takes the app's answers, a throwaway SQLite
database with a few teams and children, and the server; every request goes to 127.0.0.1 only, and
the run stops by itself. The messages are typed commands in the 1:1 chat (due, team, child, home,
help, note): the app acknowledges each at once and answers after (bot/teams/later.py); the run
also checks that every answer reached the connector. The server signs in
with the fake connector's bot token (passed to its process) instead of Microsoft Entra.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import Staff  # noqa: E402
from tests.bot.conftest import add_world  # noqa: E402
from tests.teams.conftest import APP_ID, TENANT, personal_message  # noqa: E402
from tests.teams.fake_connector import FakeConnector  # noqa: E402

TOKEN_ENV = "SEEN_LOAD_BOT_TOKEN"  # the fake connector's bot token, for the server's process only
PEOPLE = {"U0SW": "aad-load-sw", "U0TM": "aad-load-tm", "U0SW2": "aad-load-sw2"}
COMMANDS = [
    ("aad-load-sw", "due"),
    ("aad-load-tm", "team"),
    ("aad-load-sw", "child C-1042"),
    ("aad-load-sw2", "due"),
    ("aad-load-tm", "home"),
    ("aad-load-sw", "note C-1042 load test note"),
    ("aad-load-sw", "help"),
]


def serve_child(port: int, database_url: str) -> None:
    """The server's process: `seen serve` on Teams, with the fake connector's bot token."""
    from bot.teams.server import serve
    from scheduler.logs import configure_logging

    configure_logging()
    token = os.environ.pop(TOKEN_ENV)
    serve(
        host="127.0.0.1",
        port=port,
        scheduler=False,
        database_url=database_url,
        token=lambda scope, tenant: token,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Ready when the messaging endpoint answers (401: an activity without a token)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"seen serve exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("POST", "/api/messages", body=b"{}", headers={"Content-Type": "application/json"})
            if conn.getresponse().status == 401:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("seen serve on Teams did not start")


def one(
    port: int,
    body: bytes,
    token: str,
    out: list[float],
    errors: list[str],
    go: threading.Barrier,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.connect()  # connected before the start, so the time measured is the request's
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    go.wait()
    started = time.perf_counter()
    try:
        conn.request("POST", "/api/messages", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status not in (200, 201, 202):
            errors.append(f"HTTP {response.status}")
        out.append(elapsed)
    except OSError as exc:
        errors.append(str(exc))
    finally:
        conn.close()


def run_round(port: int, fake: FakeConnector, n: int, round_no: int) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    go = threading.Barrier(n)
    threads = []
    for i in range(n):
        aad, text = COMMANDS[i % len(COMMANDS)]
        activity = personal_message(fake, aad, text)
        activity["id"] = f"load-{round_no}-{i}"
        fake.open(activity["conversation"]["id"])
        args = (port, json.dumps(activity).encode(), fake.sign(), latencies, errors, go)
        t = threading.Thread(target=one, args=args)
        threads.append(t)
        t.start()
    for t in threads:
        t.join(timeout=30)
    return latencies, errors


def wait_answers(fake: FakeConnector, expected: int, seconds: float = 60) -> int:
    """The answers taken by the connector once `expected` arrived (or `seconds` passed): the answers
    follow the acknowledgements, and a round starts once the one before is answered."""
    deadline = time.monotonic() + seconds
    while len(fake.activity_calls()) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return sum(c.status == 201 for c in fake.activity_calls())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-child", nargs=2, metavar=("PORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        serve_child(int(args.serve_child[0]), args.serve_child[1])
        return 0
    if not 1 <= args.concurrent <= 200 or not 1 <= args.rounds <= 20:
        parser.error("--concurrent 1..200, --rounds 1..20")

    fake = FakeConnector(APP_ID).start()
    with tempfile.TemporaryDirectory(prefix="seen-load-teams-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'load.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        factory = session_factory(engine)
        add_world(factory)
        with factory.begin() as s:
            for slack, aad in PEOPLE.items():
                s.execute(update(Staff).where(Staff.chat_user_id == slack).values(chat_user_id=aad))
        engine.dispose()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
        env.update(
            TEAMS_CLIENT_ID=APP_ID,
            TEAMS_CLIENT_SECRET="not-used-the-token-is-given",
            TEAMS_TENANT_ID=TENANT,
            SEEN_TEAMS_OPENID_METADATA_URL=fake.openid_url,
            SEEN_TEAMS_SERVICE_URL=fake.url,
            SEEN_DATABASE_URL=url,
            SEEN_LOG_LEVEL="warning",
            **{TOKEN_ENV: fake.bot_token},
        )
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve-child", str(port), url], cwd=ROOT, env=env
        )
        try:
            wait_ready(port, server)
            run_round(port, fake, 5, 0)  # warm up: the signing keys, the policies, the connections
            expected = 5
            wait_answers(fake, expected)
            all_latencies: list[float] = []
            medians: list[float] = []
            failures = 0
            for r in range(1, args.rounds + 1):
                latencies, errors = run_round(port, fake, args.concurrent, r)
                expected += args.concurrent
                wait_answers(fake, expected)
                failures += len(errors)
                all_latencies += latencies
                medians.append(pct(latencies, 50))
                print(
                    f"round {r}: {len(latencies)} acknowledged, {len(errors)} failed; "
                    f"p50 {pct(latencies, 50) * 1000:.1f} ms, p99 {pct(latencies, 99) * 1000:.1f} ms, "
                    f"max {max(latencies) * 1000:.1f} ms"
                )
            p50, p99 = pct(all_latencies, 50) * 1000, pct(all_latencies, 99) * 1000
            print(
                f"all: {len(all_latencies)} message activities, {args.concurrent} at a time: "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms "
                f"(target p99 < 300 ms: {'met' if p99 < 300 else 'NOT met'}); "
                f"median of the rounds' p50 {statistics.median(medians) * 1000:.1f} ms; "
                f"mean {statistics.mean(all_latencies) * 1000:.1f} ms; failures {failures}"
            )
            taken = wait_answers(fake, expected)
            print(f"answers posted to the connector: {taken} of {expected}")
            failures += expected - taken
            return 0 if p99 < 300 and failures == 0 else 1
        finally:
            server.terminate()
            server.wait(timeout=10)
            fake.stop()


if __name__ == "__main__":
    sys.exit(main())
