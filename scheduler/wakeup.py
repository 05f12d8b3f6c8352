"""The sweep woken by new facts: a child's visit, decision, acknowledgement or note is swept, and
what it calls for delivered, within seconds of being stored rather than at the next interval
sweep (RULES.md: a child not seen, or risks worsened, are raised with a manager at once).

Word of the stored facts comes (storage.notify) from this process's own commits (`seen serve`
with its scheduler), from PostgreSQL's LISTEN/NOTIFY, or on SQLite from a poll of the database
file once a second (`seen serve --no-scheduler` beside `seen run`). `Waker` keeps the child ids
that arrive in a `Wakeup` and, on a thread of its own, has the runtime sweep just those children
(`Runtime.wake_job`: only the sweep's leader sweeps); a second thread delivers what the sweeps
wrote, so that the next children are swept while the messages of the last are being sent.

The interval sweep stays the safety net: a wake-up that is lost (the database away, a dropped
LISTEN connection) only waits for it. A wake-up racing the interval sweep sends nothing twice:
the two take turns within the process, only the leader sweeps, every outbox row has its key,
and a child swept by one is not evaluated again by the other (its facts version is seen).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import notify

log = logging.getLogger("seen.wakeup")
POLL_SECONDS = 1.0  # SQLite: how often another process's commits are looked for


class Wakeable(Protocol):
    factory: sessionmaker[Session]

    def wake_job(self, children: set[int], now: datetime, deliver: Callable[[], object]) -> object: ...

    def deliver_job(self, now: datetime) -> object: ...


class Wakeup:
    """Children waiting to be swept, and the signal that some are."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: set[int] = set()
        self._event = threading.Event()

    def wake(self, children: Iterable[int]) -> None:
        with self._lock:
            self._children.update(children)
        self._event.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    def take(self) -> set[int]:
        """The children woken since the last take (cleared before they are read, so a wake
        arriving meanwhile is taken next time, never lost)."""
        self._event.clear()
        with self._lock:
            children, self._children = self._children, set()
        return children


class Waker:
    """Sweeps the woken children of `runtime`'s database on a thread of its own, fed by this
    process's commits and by the other processes' (LISTEN on PostgreSQL; a poll on SQLite)."""

    def __init__(
        self,
        runtime: Wakeable,
        clock: Callable[[], datetime],
        *,
        poll_seconds: float = POLL_SECONDS,
        across_processes: bool = True,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.wakeup = Wakeup()
        self.delivery = threading.Event()  # set when a sweep wrote messages
        self.poll_seconds = poll_seconds
        self.across_processes = across_processes
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> Waker:
        self._unsubscribe = notify.subscribe(self.runtime.factory, self.wakeup.wake)
        self._thread(self._run, "seen-wakeup")
        self._thread(self._deliver, "seen-wakeup-deliver")
        engine = self.runtime.factory.kw.get("bind")
        if self.across_processes and isinstance(engine, Engine):
            listener = _listener(engine)
            if listener is not None:
                self._thread(
                    lambda: listener(engine, self.wakeup.wake, self.stopping, self.poll_seconds),
                    "seen-wakeup-listen",
                )
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.stopping.set()
        self.wakeup.wake(())  # the sweeping thread stops waiting
        self.delivery.set()  # and so does the delivering one
        for thread in self.threads:
            thread.join(timeout)

    def _thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _run(self) -> None:
        while not self.stopping.is_set():
            if not self.wakeup.wait(self.poll_seconds):
                continue
            children = self.wakeup.take()
            if children and not self.stopping.is_set():
                self.runtime.wake_job(children, self.clock(), self.delivery.set)

    def _deliver(self) -> None:
        while not self.stopping.is_set():
            if not self.delivery.wait(self.poll_seconds):
                continue
            self.delivery.clear()  # before delivering: what a sweep writes meanwhile goes next time
            if not self.stopping.is_set():
                self.runtime.deliver_job(self.clock())


Listener = Callable[[Engine, notify.Callback, threading.Event, float], None]


def _listener(engine: Engine) -> Listener | None:
    """How this database tells of other processes' facts: LISTEN on PostgreSQL, a poll of a SQLite
    file; none for an in-memory SQLite database (no other process can reach it)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return lambda e, cb, stop, every: notify.listen_postgres(e, cb, stop, timeout=every)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return lambda e, cb, stop, every: notify.poll_sqlite(e, cb, stop, every=every)
    return None
