"""Chat outages (issue 5): Slack rate limiting (429 with Retry-After), answering 500, timing out,
refusing connections, for minutes and for hours, and one team channel that does not exist. The
real sweep, outbox, delivery loop and Slack messenger (slack_sdk's WebClient and its retry
handlers) on the demo caseload; for each: no message lost, none sent twice, the outbox drains
when Slack is back, and Retry-After is honoured."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from scheduler import delivery
from scheduler.delivery import OUTAGE_AFTER
from scheduler.messenger import OutgoingMessage
from tests.faults.conftest import START, Harness, tally
from tests.faults.faulty_slack import FaultySlack

MON = START.replace(hour=0, minute=0)


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute)


def window(
    start: datetime, end: datetime, begin: Callable[[], None], fake: FaultySlack
) -> Callable[[datetime], None]:
    """A fault from `start` until `end` (simulated), lifted afterwards."""

    def fault(now: datetime) -> None:
        if start <= now < end:
            begin()
        else:
            fake.heal()

    return fault


# The morning burst: the due lists and the 08:30 reminders and prompts of Monday.
OUTAGE = (at(8, 25), at(8, 50))


def test_rate_limited_for_a_while_retry_after_honoured(harness: Harness, reference, sleeps) -> None:
    """Slack answers 429 with Retry-After: 30 to every call for 25 minutes over the morning burst.
    slack_sdk's RateLimitErrorRetryHandler waits what Slack asked before its one retry; then
    delivery waits it too (DeliveryError.retry_after): no conversation is asked again sooner, and
    a run stops after OUTAGE_AFTER such failures instead of trying every message."""
    fake = harness.fake
    harness.run(fault=window(*OUTAGE, lambda: fake.answer_status(429, 30), fake), marks=OUTAGE)
    tally(harness, "429 Retry-After 30s, 25 min", reference().keys)
    limited = [a for a in fake.attempts if a.outcome == "429"]
    assert limited, "the outage was not met"
    assert sleeps and min(sleeps) >= 30  # the handler slept what Slack said before its one retry
    by_conversation: dict[str, list[datetime]] = {}
    for a in limited:
        by_conversation.setdefault(a.to, []).append(a.at)  # type: ignore[arg-type]
    for to, times in by_conversation.items():
        moments = Counter(times)
        assert max(moments.values()) <= 2, (to, moments)  # a call and the handler's one retry
        ordered = sorted(moments)
        assert all(b - a >= timedelta(seconds=30) for a, b in itertools.pairwise(ordered)), (to, ordered)
    per_run = Counter(a.at for a in limited)
    assert max(per_run.values()) <= 2 * OUTAGE_AFTER, per_run


def test_server_errors_for_minutes(harness: Harness, reference) -> None:
    """Slack answers 500 to everything for 25 minutes."""
    fake = harness.fake
    harness.run(fault=window(*OUTAGE, lambda: fake.answer_status(500), fake), marks=OUTAGE)
    tally(harness, "500s, 25 min", reference().keys)
    assert any(a.outcome == "500" for a in fake.attempts)


def test_connection_refused_for_minutes(harness: Harness, reference) -> None:
    """The Slack server is stopped for 25 minutes (connections refused), then started again on
    the same port."""
    fake = harness.fake
    calls = []

    def stop() -> None:
        if fake.is_up:
            calls.append(len(fake.calls))
            fake.down()

    harness.run(fault=window(*OUTAGE, stop, fake), marks=OUTAGE)
    tally(harness, "connection refused, 25 min", reference().keys)
    assert calls, "the outage was not met"


def test_timeouts_for_minutes(harness: Harness, reference) -> None:
    """Slack takes longer than the client's timeout for 3 minutes, yet posts the messages it got:
    the client never hears. Nothing is posted a second time (a row that failed once is in doubt:
    delivery looks for it before sending again), and a run meeting a timeout stops rather than
    wait out a timeout per message."""
    fake = harness.fake
    outage = (at(8, 29), at(8, 32))
    started = time.monotonic()
    harness.run(fault=window(*outage, lambda: fake.slow(1.5), fake), marks=outage)
    took = time.monotonic() - started
    tally(harness, "timeouts, 3 min", reference().keys)
    delayed = [a for a in fake.attempts if a.outcome == "delayed"]
    assert delayed, "the outage was not met"
    assert took < 30, f"{took:.0f}s: the loop waited out a timeout per message"


def test_slack_down_for_hours(harness: Harness, reference) -> None:
    """Slack refuses connections from 08:25 to 11:40: longer than the retries of an hour or so;
    nothing is given up on (parked) for a transient failure, and everything goes when Slack is
    back."""
    fake = harness.fake
    outage = (at(8, 25), at(11, 40))
    harness.run(fault=window(*outage, lambda: fake.down() if fake.is_up else None, fake), marks=outage)
    tally(harness, "connection refused, 3 h 15 min", reference().keys)
    # Once Slack is back, what waited goes within one backoff step (at most BACKOFF_MAX), not an
    # hour later: these are a child's overdue alerts and a manager's 24-hour prompts.
    waited = [r for r in harness.rows() if r.send_after < outage[1] and r.sent_at >= outage[0]]
    assert waited
    assert max(r.sent_at for r in waited) <= outage[1] + delivery.BACKOFF_MAX
    assert timedelta(minutes=10) >= delivery.BACKOFF_MAX


def test_a_failing_team_channel_does_not_hold_up_direct_messages(harness: Harness, reference) -> None:
    """The Central Bedfordshire team channel does not exist (channel_not_found) all along: its
    posts are parked, visibly, and every direct message goes at the time it would have."""
    fake = harness.fake
    bad = "C0CBDEMO01"
    fake.bad_channels.add(bad)
    harness.run()
    rows = harness.rows()
    on_bad = frozenset(r.key for r in rows if r.recipient_channel == bad and r.recipient_staff_id is None)
    assert on_bad
    tally(harness, "team channel channel_not_found", reference().keys - on_bad, parked=on_bad)
    healthy = reference().sent_at
    for r in rows:
        if r.key not in on_bad:
            assert r.sent_at == healthy[r.key], r.key  # not held up
    assert all("channel_not_found" in (r.last_error or "") for r in rows if r.key in on_bad)


class Stalling:
    """The runtime's messenger, but a send by `thread` once the wall clock has passed `after`
    seconds waits until `resume` is set (announcing it with `stalled`)."""

    def __init__(self, inner: Any, wall: list[float], after: float) -> None:
        self.inner = inner
        self.wall = wall
        self.after = after
        self.thread: threading.Thread | None = None
        self.stalled = threading.Event()
        self.resume = threading.Event()

    def find_sent(self, key: str) -> str | None:
        return self.inner.find_sent(key)

    def send(self, message: OutgoingMessage) -> str:
        if threading.current_thread() is self.thread and self.wall[0] >= self.after:
            self.stalled.set()
            self.resume.wait(timeout=30)
        return self.inner.send(message)


def test_overlapping_delivery_runs_with_a_slow_slack(
    harness: Harness, reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack answers slowly (20 s a call, under the client's timeout) while the sweep job's
    delivery run sends the morning's first batch. The delivery job's run (or another replica's)
    starts 3 minutes later, when the first run's claims (a 2-minute lease) look expired, and goes
    through the rows the first run has not reached yet. No row is sent by both: a run starts no
    send after half its lease and gives the rest back."""
    fake = harness.fake
    wall = [0.0]  # seconds, as delivery's monotonic clock sees them
    monkeypatch.setattr(delivery, "monotonic", lambda: wall[0])

    def slow_call(_method: str) -> None:
        wall[0] += 20

    harness.runtime.sweep_step(START)  # the morning's first rows, not delivered yet
    stalling = Stalling(harness.runtime.messenger, wall, after=180)
    harness.runtime.messenger = stalling
    fake.on_call = slow_call
    first = threading.Thread(target=harness.runtime.deliver_job, args=(START,))
    stalling.thread = first
    first.start()
    while first.is_alive() and not stalling.stalled.is_set():
        time.sleep(0.005)
    harness.runtime.deliver_job(START + timedelta(minutes=3))  # the first run may still be going
    stalling.resume.set()
    first.join(timeout=60)
    fake.on_call = None
    harness.runtime.messenger = stalling.inner
    harness.now = START + timedelta(minutes=4)
    harness.run()
    tally(harness, "overlapping runs, slow Slack", reference().keys)
