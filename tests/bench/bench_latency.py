"""Benchmark (not a test): how soon a not-seen visit logged in Slack reaches the team manager as a
prompt (RULES.md CB-NOTSEEN-DISCUSS; a child not seen is raised with a manager at once).

    .venv/bin/python tests/bench/bench_latency.py [--visits 100] [--seconds 60]
        [--arrangement single|two|both] [--database sqlite|postgres]

`seen serve` runs as a real process (HTTP, uvicorn) against the fake Slack Web API
(tests/bot/fake_slack.py), which takes 150 ms to answer each call. `--visits` signed `/seen log
C-… not-seen` commands, one for each child of ten teams, are sent at random moments over
`--seconds`; the figure is the time from sending a command to the manager's prompt (the outbox key
in the post's metadata) being answered by the fake Slack, p50 and p99. The interval sweep is set to
an hour (SEEN_SWEEP_MINUTES) and delivery runs every 15 s, so only the wake-up
(scheduler.wakeup) can bring the prompt within seconds. Target: p99 under 5 s.

Arrangements: `single`, one `seen serve` with its scheduler (SQLite by default); `two`, `seen serve
--no-scheduler` beside `seen run` (PostgreSQL by default: LISTEN/NOTIFY; SQLite: the file poll).
PostgreSQL needs SEEN_TEST_POSTGRES_URL (a throwaway database is made on that server and dropped);
without it `both` runs the single arrangement only. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import Child, Plan, Staff, Team  # noqa: E402
from tests.bench.load_slash import free_port, pct, wait_healthy  # noqa: E402
from tests.bot.conftest import SECRET, TOKEN, seen_at_home  # noqa: E402
from tests.bot.fake_slack import FakeSlack  # noqa: E402

# one data key for the processes of a run (PostgreSQL refuses to store case notes unencrypted)
os.environ.setdefault("SEEN_DATA_KEY", Fernet.generate_key().decode("ascii"))
TEAMS = 10
SLACK_LATENCY = 0.150
PROMPT = "CB-NOTSEEN-DISCUSS"
TARGET_P99 = 5.0


def make_world(url: str, visits: int) -> list[tuple[str, str]]:
    """Ten Central Bedfordshire teams, each with a social worker and a manager, and `visits`
    children spread over them, each seen at home a week ago; (worker's Slack id, case reference)
    of each child."""
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    out = []
    seen = datetime.now(UTC) - timedelta(days=7)
    with factory.begin() as s:
        teams = []
        for t in range(TEAMS):
            team = Team(name=f"Team {t}", slack_channel_id=f"C0TEAM{t:02d}", policy_id="central-bedfordshire")
            s.add(team)
            s.flush()
            worker = Staff(
                name=f"Worker {t}",
                chat_user_id=f"U0SW{t:02d}",
                role="social_worker",
                qualified_registered=True,
                team_id=team.id,
                active=True,
            )
            manager = Staff(
                name=f"Manager {t}",
                chat_user_id=f"U0TM{t:02d}",
                role="team_manager",
                qualified_registered=True,
                team_id=team.id,
                active=True,
            )
            s.add_all([worker, manager])
            s.flush()
            teams.append((team, worker))
        for i in range(visits):
            team, worker = teams[i % TEAMS]
            ref = f"C-{5000 + i}"
            child = Child(
                case_ref=ref,
                initials="AB",
                date_of_birth=date(2019, 3, 1),
                team_id=team.id,
                lead_social_worker_id=worker.id,
                facts_version=0,
            )
            s.add(child)
            s.flush()
            s.add(Plan(child_id=child.id, started=seen.date() - timedelta(days=20), plan_number=1))
            s.add(seen_at_home(child.id, worker.id, seen))
            out.append((worker.chat_user_id, ref))
    engine.dispose()
    return out


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="seen-latency-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'latency.sqlite'}"
        return
    from tests.storage.conftest import PG_ENV, postgres_database

    if not os.environ.get(PG_ENV):
        raise SystemExit(f"--database postgres needs {PG_ENV}")
    with postgres_database("seen_latency") as url:
        yield url


@contextmanager
def running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def prompt_times(fake: FakeSlack) -> dict[str, float]:
    """Case reference -> when the first prompt of CB-NOTSEEN-DISCUSS about it was answered."""
    out: dict[str, float] = {}
    for call in fake.of("chat.postMessage"):
        metadata = call.body.get("metadata") or {}
        key = str((metadata.get("event_payload") or {}).get("key", ""))
        ref, _, rest = key.partition(":")
        if rest.startswith(PROMPT + ":") and ":prompt:" in rest:
            out.setdefault(ref, call.at)
    return out


def send_command(port: int, user: str, text: str, fake: FakeSlack) -> None:
    verifier = SignatureVerifier(SECRET)
    body = urlencode(
        {
            "command": "/seen",
            "text": text,
            "user_id": user,
            "team_id": "T0001",
            "channel_id": "C0TEAM00",
            "response_url": fake.response_url(f"latency-{text.split()[1]}"),
            "trigger_id": fake.trigger(),
        }
    )
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            print(f"  {text}: HTTP {response.status}", file=sys.stderr)
    finally:
        conn.close()


def settle(fake: FakeSlack, quiet: float = 3.0, limit: float = 120.0) -> None:
    """Wait until the start-up sweep's messages are out: no call to the fake Slack for `quiet` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with fake.lock:
            last = fake.calls[-1].at if fake.calls else 0.0
        if time.monotonic() - last > quiet:
            return
        time.sleep(0.5)


def run(arrangement: str, kind: str, visits: int, seconds: float, seed: int) -> float:
    fake = FakeSlack(TOKEN).start()
    try:
        with ExitStack() as stack:
            url = stack.enter_context(database(kind))
            children = make_world(url, visits)
            port = free_port()
            env = {
                **os.environ,
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SEEN_SLACK_API_URL": fake.api_url,
                "SEEN_DATABASE_URL": url,
                "SEEN_LOG_LEVEL": os.environ.get("SEEN_LOG_LEVEL", "warning"),
                "SEEN_SWEEP_MINUTES": "60",  # only a wake-up can be quick
                "SEEN_RETENTION_PURGE": "off",
            }
            env.pop("SLACK_APP_TOKEN", None)
            serve = [
                sys.executable,
                "-m",
                "scheduler.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            if arrangement == "two":
                serve.append("--no-scheduler")
                stack.enter_context(running([sys.executable, "-m", "scheduler.cli", "run", "--no-demo"], env))
            server = stack.enter_context(running(serve, env))
            wait_healthy(port, server)
            settle(fake)
            fake.latency = SLACK_LATENCY
            rng = random.Random(seed)
            moments = sorted(rng.uniform(0, seconds) for _ in children)
            order = rng.sample(children, len(children))
            sent: dict[str, float] = {}
            threads = []
            start = time.monotonic()
            for at, (user, ref) in zip(moments, order, strict=True):
                time.sleep(max(0.0, start + at - time.monotonic()))
                sent[ref] = time.monotonic()
                t = threading.Thread(target=send_command, args=(port, user, f"log {ref} not-seen", fake))
                t.start()
                threads.append(t)
            for t in threads:
                t.join(timeout=30)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(prompt_times(fake).keys() & sent.keys()) < len(sent):
                time.sleep(0.5)
            arrived = prompt_times(fake)
            latencies = [arrived[ref] - t for ref, t in sent.items() if ref in arrived]
            missing = len(sent) - len(latencies)
            twice = fake.duplicates()
            where = f"{arrangement} process{'es' if arrangement == 'two' else ''}, {kind}"
            if not latencies:
                print(f"{where}: no prompt arrived")
                return float("inf")
            p50, p99 = pct(latencies, 50), pct(latencies, 99)
            verdict = "met" if p99 < TARGET_P99 and not missing else "NOT met"
            print(
                f"{where}: {len(latencies)} of {len(sent)} prompts in {seconds:g} s of visits; "
                f"command to prompt p50 {p50:.2f} s, p99 {p99:.2f} s, max {max(latencies):.2f} s "
                f"(target p99 < {TARGET_P99:g} s: {verdict}); "
                f"missing {missing}; sent twice {len(twice)}"
            )
            return p99 if not missing and not twice else float("inf")
    finally:
        fake.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="the visits are spread over this long")
    parser.add_argument("--arrangement", choices=["single", "two", "both"], default="both")
    parser.add_argument(
        "--database", choices=["sqlite", "postgres"], help="default: single on SQLite, two on PostgreSQL"
    )
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if not 1 <= args.visits <= 1000 or not 0 < args.seconds <= 3600:
        parser.error("--visits 1..1000, --seconds up to 3600")
    from tests.storage.conftest import PG_ENV

    plans = []
    if args.arrangement in ("single", "both"):
        plans.append(("single", args.database or "sqlite"))
    if args.arrangement in ("two", "both"):
        kind = args.database or "postgres"
        if kind == "postgres" and not os.environ.get(PG_ENV):
            print(f"two processes on PostgreSQL: skipped ({PG_ENV} is not set)")
        else:
            plans.append(("two", kind))
    worst = max(run(a, k, args.visits, args.seconds, args.seed) for a, k in plans)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if worst < TARGET_P99 else 1


if __name__ == "__main__":
    sys.exit(main())
