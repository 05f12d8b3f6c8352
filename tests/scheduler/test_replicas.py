"""Several replicas: only the lease holder sweeps; two deliverers draining at once never send a
row twice (row claims with FOR UPDATE SKIP LOCKED on PostgreSQL). SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.delivery import deliver_due
from scheduler.leader import LEASE, take_lease
from scheduler.loop import Runtime
from scheduler.messenger import OutgoingMessage
from scheduler.policy_catalogue import bundled_catalogue
from storage.demo import load_demo
from storage.models import Outbox

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)


class Counting:
    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> str:
        with self.lock:
            self.sent[message.key] += 1
        return f"ref:{message.key}"


def test_only_the_lease_holder_sweeps(factory: sessionmaker[Session]) -> None:
    assert take_lease(factory, "sweep", "a", NOW)
    assert not take_lease(factory, "sweep", "b", NOW + timedelta(seconds=10))
    assert take_lease(factory, "sweep", "a", NOW + timedelta(seconds=20))  # renewed by its holder
    assert take_lease(factory, "sweep", "b", NOW + timedelta(seconds=21) + LEASE)  # a went quiet


def test_two_jobs_of_one_holder_taking_a_new_lease_at_once_both_hold_it(
    factory: sessionmaker[Session],
) -> None:
    """At start the sweep's tick and the weekly post's job of one process take the first lease at
    the same moment: the one whose INSERT loses still holds it (it is its own), so the start-up
    sweep is not skipped; a second replica taking it at once does not."""
    barrier = threading.Barrier(6)
    held: dict[str, list[bool]] = {"a": [], "b": []}

    def take(holder: str) -> None:
        barrier.wait()
        held[holder].append(take_lease(factory, "sweep", holder, NOW))

    threads = [threading.Thread(target=take, args=(h,)) for h in ("a",) * 4 + ("b",) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winner = "a" if any(held["a"]) else "b"
    assert all(held[winner]) and not any(held["b" if winner == "a" else "a"])


def test_a_second_replica_does_not_sweep(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        load_demo(session, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    first = Runtime(factory, Counting(), holder="replica-1")
    second = Runtime(factory, Counting(), holder="replica-2")
    leader, report, _ = first.sweep_step(NOW)
    assert leader and report is not None and report.written > 0
    assert second.sweep_step(NOW + timedelta(minutes=1)) == (False, None, 0)


def test_two_deliverers_at_once_send_each_row_once(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        load_demo(session, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    Runtime(factory, Counting(), holder="sweeper").sweep_step(NOW)
    with factory() as session:
        rows = session.scalar(select(func.count()).select_from(Outbox))
    assert rows and rows > 10
    messenger = Counting()
    barrier = threading.Barrier(2)

    def drain(worker: str) -> None:
        barrier.wait()
        while deliver_due(factory, messenger, NOW, worker=worker, batch=3).sent:
            pass

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(messenger.sent.values()) == rows
    assert max(messenger.sent.values()) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).where(Outbox.status != "sent")) == 0
