"""Fault injection: the real sweep, outbox, delivery loop and Slack messenger (slack_sdk's WebClient
with its retry handlers) against a fake Slack server that fails on demand, on SQLite and on
PostgreSQL, driven by a simulated clock.

Each test runs a stretch of working time over the demo caseload with a fault, and compares it with
the same stretch with nothing going wrong (the reference, run once per session on SQLite: which
messages must go out). It counts, by outbox key (Slack message metadata), what reached Slack's
conversations and records the outcome: messages expected, delivered, duplicated, lost, parked (on
purpose) and late-reminder summaries; the table of every fault is printed at the end of the run.
Duplicated and lost are asserted zero, and the outbox must have drained with no claim left.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.http_retry import builtin_handlers, handler
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.slack.messenger import SlackMessenger, make_client, outbox_locator
from scheduler.loop import Runtime
from scheduler.policy_catalogue import bundled_catalogue
from storage.db import make_engine, session_factory, upgrade
from storage.demo import DEMO_AS_OF, load_demo
from storage.models import ChildSweepState, Outbox, Staff
from tests.faults.faulty_slack import FaultySlack
from tests.storage.conftest import db_url  # noqa: F401  (SQLite, and PostgreSQL when configured)

TOKEN = "xoxb-faults"
CLIENT_TIMEOUT = 1  # seconds: a "timeout" fault delays Slack's answers beyond this
# Monday 21 December 2026 before the working day, to Tuesday's mid-morning: prompts, reminders,
# due lists, overdue alerts, repeats and escalations of the demo caseload.
START = datetime(2026, 12, 21, 7, 55, tzinfo=UTC)
END = datetime(2026, 12, 22, 10, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)  # the shortest step (the live loop delivers every 15 s)
MAX_STEP = timedelta(hours=1)
MORNING = time(8, 30)  # the policies' morning_of (London is on UTC in December)


# -- the table ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    fault: str
    db: str
    expected: int
    delivered: int
    duplicated: int
    lost: int
    parked: int = 0  # expected not to arrive (a channel that does not exist), kept visibly
    late_told: int = 0  # late-reminder summaries posted to managers


RESULTS: list[Outcome] = []
LATE_SUMMARY_STAGE = "late-summary"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    tr = terminalreporter
    tr.write_sep("=", "fault injection: messages per fault")
    head = ("fault", "db", "expected", "delivered", "duplicated", "lost", "parked", "late told")
    rows = [
        (r.fault, r.db, r.expected, r.delivered, r.duplicated, r.lost, r.parked, r.late_told) for r in RESULTS
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    for i, row in enumerate([head, *rows]):
        cells = [
            str(x).ljust(w) if j < 2 else str(x).rjust(w)
            for j, (x, w) in enumerate(zip(row, widths, strict=True))
        ]
        tr.write_line("  ".join(cells))
        if i == 0:
            tr.write_line("  ".join("-" * w for w in widths))


# -- slack_sdk's retry handlers sleep in simulated time ------------------------------------------
@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Seconds slept by slack_sdk's retry handlers (Retry-After, backoff), without waiting."""
    slept: list[float] = []
    shim = types.SimpleNamespace(sleep=slept.append)
    monkeypatch.setattr(builtin_handlers, "time", shim)
    monkeypatch.setattr(handler, "time", shim)
    return slept


# -- the world ------------------------------------------------------------------------------------
def db_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@dataclass
class Harness:
    """The demo caseload in a database, the scheduler's Runtime delivering through the real Slack
    messenger to a fault-injecting fake Slack, and a simulated clock."""

    url: str
    engine: Engine
    factory: sessionmaker[Session]
    fake: FaultySlack
    runtime: Runtime
    now: datetime = START
    max_step: timedelta = MAX_STEP

    @property
    def db(self) -> str:
        return db_kind(self.url)

    def tick(self, now: datetime, *, sweep: bool) -> None:
        """What run_forever's jobs do at `now`: a sweep (then delivery), or delivery alone."""
        self.now = now
        self.fake.sim_now = now
        if sweep:
            self.runtime.sweep_job(now)
        else:
            self.runtime.deliver_job(now)
        self.fake.settle()

    def run(
        self,
        until: datetime = END,
        *,
        fault: Callable[[datetime], None] | None = None,
        marks: tuple[datetime, ...] = (),
        down: tuple[datetime, datetime] | None = None,
    ) -> None:
        """Step the simulated clock to `until`, from one moment that matters to the next (a
        child's next threshold, a working morning, a retry, a claim's lease running out, a fault
        starting or ending: `marks`), at most MAX_STEP apart; every step is a sweep and delivery,
        as run_forever's sweep job runs them. `fault(now)` sets the fault for the moment before
        each step. No step runs inside `down` (Seen itself was not running)."""
        marks = tuple(sorted({*marks, *(down or ())}))
        now = self.now
        while now <= until:
            if down is not None and down[0] <= now < down[1]:
                now = down[1]
                continue
            if fault is not None:
                fault(now)
            self.tick(now, sweep=True)
            now = self.next_moment(now, until, marks)
        self.now = now

    def next_moment(self, now: datetime, until: datetime, marks: tuple[datetime, ...]) -> datetime:
        candidates = [now + self.max_step, *(m for m in marks if m > now)]
        if until > now:
            candidates.append(until)
        try:
            with self.factory() as session:
                for query in (
                    select(func.min(ChildSweepState.next_threshold_at)),
                    select(func.min(Outbox.next_attempt_at)).where(Outbox.status == "pending"),
                    select(func.min(Outbox.claimed_until)).where(Outbox.status == "pending"),
                ):
                    at = session.scalar(query)
                    if at is not None:
                        candidates.append(max(at, now + STEP))
        except OperationalError:  # the database is away (a database fault): try again soon
            candidates.append(now + STEP)
        for day in (now.date(), now.date() + timedelta(days=1)):
            at = datetime.combine(day, MORNING, UTC)
            if at > now:
                candidates.append(at)
        return min(candidates)

    def rows(self) -> list[Outbox]:
        with self.factory() as session:
            return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def build_harness(url: str, fake: FaultySlack) -> Harness:
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        load_demo(
            session, as_of=DEMO_AS_OF.date(), now=START - timedelta(days=40), policies=bundled_catalogue()
        )
        for staff in session.scalars(select(Staff).order_by(Staff.id)):
            staff.chat_user_id = f"U{staff.id:04d}"
    messenger = SlackMessenger(
        make_client(TOKEN, fake.api_url, timeout=CLIENT_TIMEOUT), locate=outbox_locator(factory)
    )
    # The harness runs simulated days against a fake Slack with no per-conversation limit: pacing
    # posts one real second apart would only stretch every fault's wall time (the pacing itself is
    # tested in tests/scheduler/test_delivery_concurrency.py).
    messenger.conversation_interval = 0.0
    return Harness(url, engine, factory, fake, Runtime(factory, messenger, holder="faults"))


@pytest.fixture
def fake() -> Iterator[FaultySlack]:
    server = FaultySlack(TOKEN).start()
    yield server
    server.stop()
    assert server.seen_faults() == [], "Slack would refuse, cut or misread what Seen sent"


@pytest.fixture
def harness(db_url: str, fake: FaultySlack, sleeps: list[float]) -> Iterator[Harness]:  # noqa: F811
    h = build_harness(db_url, fake)
    yield h
    h.engine.dispose()


# -- the reference: what a run with nothing going wrong delivers ---------------------------------
@dataclass(frozen=True)
class Reference:
    keys: frozenset[str]  # every message that must reach Slack (late summaries aside)
    sent_at: dict[str, datetime]  # when each went


_REFERENCE: dict[tuple[Any, ...], Reference] = {}


def reference_run(
    tmp_path_factory: pytest.TempPathFactory, *, down: tuple[datetime, datetime] | None = None
) -> Reference:
    """An undisturbed run on SQLite (Seen itself not running during `down`, if given)."""
    cache_key = (down,)
    if cache_key not in _REFERENCE:
        path = Path(tmp_path_factory.mktemp("reference")) / "seen.sqlite"
        fake = FaultySlack(TOKEN).start()
        h = build_harness(f"sqlite:///{path}", fake)
        try:
            h.run(down=down)
            counts = fake.delivered()
            assert counts and max(counts.values()) == 1
            sent_at = {r.key: r.sent_at for r in h.rows() if r.sent_at is not None}
            keys = frozenset(k for k in counts if not is_summary(k))
            _REFERENCE[cache_key] = Reference(keys, sent_at)
        finally:
            fake.stop()
            h.engine.dispose()
    return _REFERENCE[cache_key]


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Reference]:
    def get(down: tuple[datetime, datetime] | None = None) -> Reference:
        return reference_run(tmp_path_factory, down=down)

    return get


def is_summary(key: str) -> bool:
    return key.startswith(f"{LATE_SUMMARY_STAGE}:")


# -- counting -------------------------------------------------------------------------------------
def tally(
    h: Harness,
    fault: str,
    expected: frozenset[str],
    *,
    parked: frozenset[str] = frozenset(),
) -> Outcome:
    """Count what reached Slack against what had to, record it for the table, assert nothing was
    lost or sent twice, and that the outbox drained (every row sent, or parked when expected)."""
    counts = h.fake.delivered()
    summaries = sorted(k for k in counts if is_summary(k))
    outcome = Outcome(
        fault=fault,
        db=h.db,
        expected=len(expected),
        delivered=sum(1 for k in expected if counts[k] > 0),
        duplicated=sum(n - 1 for n in counts.values() if n > 1),
        lost=sum(1 for k in expected if counts[k] == 0),
        parked=len(parked),
        late_told=len(summaries),
    )
    RESULTS.append(outcome)
    unexpected = sorted(k for k in counts if k not in expected and not is_summary(k))
    assert outcome.duplicated == 0, [k for k, n in counts.items() if n > 1]
    assert outcome.lost == 0, sorted(k for k in expected if counts[k] == 0)
    assert not unexpected, unexpected
    for r in h.rows():  # the outbox drained: every row sent, or parked when that was expected
        assert r.status == ("parked" if r.key in parked else "sent"), (r.key, r.status, r.last_error)
    with h.factory() as session:
        stuck = session.scalars(select(Outbox.key).where(Outbox.claimed_by.is_not(None))).all()
    assert not stuck, f"rows still claimed: {stuck}"
    return outcome


@pytest.fixture
def seen_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="seen")
    return caplog
