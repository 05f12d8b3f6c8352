"""The sweep woken by new facts (scheduler.wakeup, storage.notify): a not-seen visit is prompted to
the team manager at once (RULES.md CB-NOTSEEN-DISCUSS, "raised with a manager at once" as
CB-RISK-WORSE) without waiting for the interval sweep: in the process that stored it, and from
another process (a poll of the SQLite file; LISTEN/NOTIFY on PostgreSQL). A wake-up racing the
interval sweep sends nothing twice; only the sweep's leader sweeps. SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from scheduler.leader import LEASE
from scheduler.loop import Runtime
from scheduler.rules import model
from scheduler.wakeup import Waker, Wakeup
from storage import facts, notify
from storage.models import Child, LeaderLease, Outbox, Staff
from tests.scheduler.test_replicas import Counting
from tests.storage.conftest import NOW, make_child

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "CB-NOTSEEN-DISCUSS"
WITHIN = 10.0  # seconds: generous; a wake-up takes well under one


def not_seen(at: datetime = NOW) -> model.Contact:
    return model.Contact(at=at, kind="home_visit", by="lead_social_worker", qualified=True, child_seen=False)


def store_not_seen(factory: sessionmaker[Session], child_id: int, lead_id: int, at: datetime = NOW) -> None:
    with factory.begin() as session:
        facts.record_contact(session, child_id, not_seen(at), by_staff=lead_id, now=at)


def prompts(sent: Counting, case_ref: str = "C-1042") -> list[str]:
    with sent.lock:
        return [k for k in sent.sent if k.startswith(f"{case_ref}:{PROMPT}:") and ":prompt:" in k]


def wait_until(condition: Callable[[], object], seconds: float = WITHIN) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


@contextmanager
def waking(runtime: Runtime, *, across_processes: bool) -> Iterator[Waker]:
    waker = Waker(runtime, lambda: NOW + timedelta(minutes=1), across_processes=across_processes)
    waker.start()
    try:
        yield waker
    finally:
        waker.stop()


def a_swept_child(
    factory: sessionmaker[Session], case_ref: str = "C-1042"
) -> tuple[int, int, Runtime, Counting]:
    """A Central Bedfordshire child, swept once at NOW (the interval sweep), and its runtime."""
    with factory() as session:
        child, lead, _manager = make_child(session, policy="central-bedfordshire", case_ref=case_ref)
    sent = Counting()
    runtime = Runtime(factory, sent, holder="leader")
    runtime.tick(NOW)
    return child.id, lead.id, runtime, sent


def test_a_not_seen_visit_is_prompted_at_once_in_the_same_process(factory: sessionmaker[Session]) -> None:
    """CB-NOTSEEN-DISCUSS: the manager's prompt goes out on the commit of the visit, with no
    interval sweep or delivery run after it."""
    child_id, lead_id, runtime, sent = a_swept_child(factory)
    assert prompts(sent) == []  # nothing to prompt before the visit
    notify.announce(factory)  # as the bot does (bot.core.context.Core)
    with waking(runtime, across_processes=False):
        store_not_seen(factory, child_id, lead_id)
        assert wait_until(lambda: prompts(sent)), "no prompt within 10 s"
    [key] = prompts(sent)
    assert sent.sent[key] == 1
    with factory() as session:  # it went to the child's team manager
        manager = session.scalar(select(Staff).where(Staff.role == "team_manager"))
        assert manager is not None and key.endswith(f":s{manager.id}")


def test_only_the_woken_children_are_swept(factory: sessionmaker[Session]) -> None:
    first, first_lead, runtime, sent = a_swept_child(factory, "C-1042")
    with factory() as session:
        second, second_lead, _ = make_child(session, policy="central-bedfordshire", case_ref="C-2001")
    runtime.tick(NOW)
    store_not_seen(factory, first, first_lead)
    store_not_seen(factory, second.id, second_lead.id)
    report = runtime.wake_job({first}, NOW + timedelta(minutes=1))
    assert report is not None and report.evaluated == 1
    assert prompts(sent, "C-1042") and not prompts(sent, "C-2001")
    runtime.tick(NOW + timedelta(minutes=5))  # the interval sweep still finds the other one
    assert prompts(sent, "C-2001")
    assert max(sent.sent.values()) == 1


def test_a_replica_that_does_not_lead_does_not_sweep_when_woken(factory: sessionmaker[Session]) -> None:
    child_id, lead_id, _leader, sent = a_swept_child(factory)
    store_not_seen(factory, child_id, lead_id)
    other = Counting()
    follower = Runtime(factory, other, holder="follower")
    assert follower.wake_job({child_id}, NOW + timedelta(minutes=1)) is None
    with factory() as session:
        assert not session.scalar(select(func.count()).select_from(Outbox).where(Outbox.rule == PROMPT))
    assert not other.sent and not prompts(sent)


def test_a_wake_up_for_children_already_swept_does_not_take_the_lease(factory: sessionmaker[Session]) -> None:
    """The same commit heard of twice (this process's own and the database's word): the second
    wake-up finds nothing to sweep and costs a read, not the lease (here, no take-over either)."""
    child_id, lead_id, leader, sent = a_swept_child(factory)
    store_not_seen(factory, child_id, lead_id)
    assert leader.wake_job({child_id}, NOW + timedelta(minutes=1)).evaluated == 1  # type: ignore[union-attr]
    later = NOW + timedelta(minutes=2) + LEASE  # the leader's lease has run out
    report = Runtime(factory, Counting(), holder="follower").wake_step({child_id}, later)
    assert report is not None and report.evaluated == 0
    with factory() as session:
        assert session.get(LeaderLease, "sweep").holder == "leader"  # type: ignore[union-attr]
    assert len(prompts(sent)) == 1


def test_wake_ups_racing_the_interval_sweep_send_nothing_twice(factory: sessionmaker[Session]) -> None:
    """Visits stored for 12 children while the interval sweep and delivery run back to back
    beside the wake-ups (and a second replica, also woken, that does not lead): every outbox row
    is sent exactly once, and every child's prompt is among them."""
    refs = [f"C-{1000 + i}" for i in range(12)]
    children = []
    with factory() as session:
        for ref in refs:
            child, lead, _ = make_child(session, policy="central-bedfordshire", case_ref=ref)
            children.append((child.id, lead.id))
    sent = Counting()
    leader = Runtime(factory, sent, holder="leader")
    leader.tick(NOW)
    follower = Runtime(factory, sent, holder="follower")
    notify.announce(factory)
    stop = threading.Event()

    def interval() -> None:
        while not stop.is_set():
            leader.sweep_job(NOW + timedelta(minutes=1))
            follower.sweep_job(NOW + timedelta(minutes=1))

    racing = threading.Thread(target=interval)
    with waking(leader, across_processes=False), waking(follower, across_processes=False):
        racing.start()
        writers = [threading.Thread(target=store_not_seen, args=(factory, c, lead)) for c, lead in children]
        for w in writers:
            w.start()
        for w in writers:
            w.join(timeout=60)
        assert wait_until(lambda: all(prompts(sent, ref) for ref in refs), 30)
        stop.set()
        racing.join(timeout=60)
    leader.tick(NOW + timedelta(minutes=1))  # anything left is sent now, and nothing again
    assert max(sent.sent.values()) == 1, [k for k, n in sent.sent.items() if n > 1]
    with factory() as session:
        rows = session.scalar(select(func.count()).select_from(Outbox))
        unsent = session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status != "sent"))
    assert rows == len(sent.sent) and unsent == 0


STORE_IN_ANOTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from storage import facts, notify
    from storage.db import make_engine, session_factory
    from scheduler.rules import model

    url, child, lead = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    at = datetime.fromisoformat(sys.argv[4])
    factory = session_factory(make_engine(url))
    notify.announce(factory)  # as `seen serve --no-scheduler` does (bot.core.context.Core)
    contact = model.Contact(
        at=at, kind="home_visit", by="lead_social_worker", qualified=True, child_seen=False
    )
    with factory.begin() as session:
        facts.record_contact(session, child, contact, by_staff=lead, now=at)
    """
)


def test_a_visit_stored_by_another_process_is_prompted_at_once(
    db_url: str, factory: sessionmaker[Session]
) -> None:
    """`seen serve --no-scheduler` beside `seen run`: the other process's commit wakes this one's
    sweep (SQLite: the poll of the file; PostgreSQL: NOTIFY in the storing transaction)."""
    child_id, lead_id, runtime, sent = a_swept_child(factory)
    with waking(runtime, across_processes=True):
        time.sleep(0.5)  # the listener is connected (LISTEN) or has read the file's version
        subprocess.run(
            [
                sys.executable,
                "-c",
                STORE_IN_ANOTHER_PROCESS,
                db_url,
                str(child_id),
                str(lead_id),
                NOW.isoformat(),
            ],
            cwd=ROOT,
            check=True,
            timeout=60,
        )
        assert wait_until(lambda: prompts(sent)), "no prompt within 10 s"
    assert [sent.sent[k] for k in prompts(sent)] == [1]


def test_the_sqlite_poll_reads_only_the_version_until_another_connection_commits(
    tmp_path, factory: sessionmaker[Session]
) -> None:
    if factory.kw["bind"].dialect.name != "sqlite":
        return
    with factory() as session:
        child, lead, _ = make_child(session, policy="central-bedfordshire")
    poll = notify.SqlitePoll(factory.kw["bind"])
    try:
        assert poll.check() == set()
        started = time.perf_counter()
        for _ in range(100):
            assert poll.check() == set()
        steady = (time.perf_counter() - started) / 100
        assert steady < 0.05  # generous: a steady check reads one PRAGMA (microseconds)
        store_not_seen(factory, child.id, lead.id)
        assert poll.check() == {child.id}
        assert poll.check() == set()
    finally:
        poll.close()


def test_payloads_stay_under_the_notify_limit_and_read_back() -> None:
    ids = set(range(1, 5000))
    parts = list(notify.payloads(ids))
    assert len(parts) > 1 and all(len(p) < 8000 for p in parts)
    assert set().union(*(notify.parse_payload(p) for p in parts)) == ids
    assert notify.parse_payload("12,x,,7") == {7, 12}


def test_a_wake_arriving_while_children_are_taken_is_kept() -> None:
    wakeup = Wakeup()
    wakeup.wake([1, 2])
    assert wakeup.wait(0) and wakeup.take() == {1, 2}
    assert not wakeup.wait(0)
    wakeup.wake([3])
    assert wakeup.wait(0) and wakeup.take() == {3}


def test_a_rolled_back_transaction_wakes_nobody(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        child, lead, _ = make_child(session, policy="central-bedfordshire")
    woken: list[set[int]] = []
    unsubscribe = notify.subscribe(factory, woken.append)
    try:
        try:
            with factory.begin() as session:
                facts.record_contact(session, child.id, not_seen(), by_staff=lead.id, now=NOW)
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
        assert woken == []
        store_not_seen(factory, child.id, lead.id)
        assert woken == [{child.id}]
    finally:
        unsubscribe()
    with factory() as session:
        assert session.scalar(select(Child.facts_version).where(Child.id == child.id)) == 1


def test_the_postgresql_listener_listens_again_after_losing_its_connection(
    factory: sessionmaker[Session],
) -> None:
    engine = factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        return
    woken: list[set[int]] = []
    stop = threading.Event()
    listener = threading.Thread(
        target=notify.listen_postgres, args=(engine, woken.append, stop), kwargs={"timeout": 0.2}
    )
    listener.start()
    listening = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = :q"
    ).bindparams(q=f"LISTEN {notify.CHANNEL}")

    def listener_pid() -> int | None:
        with engine.begin() as conn:  # pg_stat_activity is read once a transaction
            return conn.scalar(listening)

    try:
        assert wait_until(listener_pid)
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener_pid()})

        def told() -> bool:
            with engine.begin() as conn:
                conn.execute(select(func.pg_notify(notify.CHANNEL, "42")))
            return {42} in woken

        assert wait_until(told, 15)  # it waits 1 s before connecting again
    finally:
        stop.set()
        listener.join(10)
