"""Benchmark: the morning burst (run by hand, not a test).

    .venv/bin/python tests/bench/bench_burst.py [--messages 5000] [--conversations 1000] [--runs 2]

Writes `--messages` due outbox rows spread over `--conversations` direct-message conversations
(in shuffled order, as a sweep's reminders and due lists interleave), then drains them through the
Slack messenger against the fake Slack server answering every call after `--latency` seconds and
limiting chat.postMessage to one a second per conversation (Slack's limit), calling the delivery
step back to back as the delivery job does. Prints the time to drain, how many posts were
rate-limited, whether any conversation was sent two messages at once, and whether anything was
sent twice. Target (issue 13): 5,000 messages across 1,000 conversations drained in under 4
minutes, no conversation sent two at once, nothing twice. SQLite, a fresh database each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.slack.messenger import SlackMessenger, make_client, outbox_locator
from scheduler.loop import Runtime
from storage.db import make_engine, session_factory, upgrade
from storage.models import Outbox
from tests.bot.fake_slack import FakeSlack
from tests.scheduler.test_delivery_concurrency import write_burst


def burst(args: argparse.Namespace, path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    now = datetime.now(UTC)
    write_burst(factory, args.conversations, args.messages // args.conversations, now, seed=13)
    fake = FakeSlack().start()
    fake.latency = args.latency
    fake.channel_interval = 1.0
    messenger = SlackMessenger(make_client(fake.token, base_url=fake.api_url), locate=outbox_locator(factory))
    runtime = Runtime(factory, messenger, holder="bench-burst")
    t0 = time.perf_counter()
    runs = 0
    try:
        while True:
            with factory() as s:
                left = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending"))
            if not left:
                break
            runtime.deliver_step(datetime.now(UTC))
            runs += 1
        seconds = time.perf_counter() - t0
    finally:
        fake.stop()
        engine.dispose()
    posts = fake.of("chat.postMessage")
    limited = len(posts) - sum(len(m) for m in fake.history.values())
    with factory() as s:
        sent = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "sent"))
        parked = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "parked"))
    duplicates = fake.duplicates()
    print(
        f"drained {sent} of {args.messages} in {seconds:.1f} s ({runs} delivery runs, {parked} parked); "
        f"{len(posts)} posts, {limited} rate-limited; two at once to one conversation: "
        f"{'yes, ' + str(fake.overlaps) if fake.overlaps else 'no'}; "
        f"sent twice: {'yes, ' + str(len(duplicates)) if duplicates else 'no'}",
        flush=True,
    )
    args.results.append(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds the fake Slack takes per call")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", default="var/bench-burst.sqlite")
    args = parser.parse_args()
    args.results = []
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.messages} messages to "
        f"{args.conversations} conversations, {args.latency * 1000:.0f} ms a call, one post a second "
        f"a conversation; {SlackMessenger.max_in_flight} sends at once",
        flush=True,
    )
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    for _ in range(args.runs):
        burst(args, Path(args.db))
    print(
        f"median of {args.runs}: drained in {statistics.median(args.results):.1f} s (target 240 s); "
        f"load average {os.getloadavg()[0]:.2f} at the end"
    )


if __name__ == "__main__":
    main()
