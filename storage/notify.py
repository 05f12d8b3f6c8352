"""Word that facts about children were just stored, for the scheduler to sweep those children at
once instead of at its next interval (RULES.md: a child not seen is raised with a manager at once).

A writer of facts marks the child in its session (`changed`, from `facts.bump_facts_version`).
For a session factory that `announce`s:
- on PostgreSQL the storing transaction itself sends `NOTIFY seen_facts` with the child ids as its
  payload, delivered when (and only if) it commits, to every process that `listen_postgres`;
- after the commit, every callback `subscribe`d in this process is called with the child ids.
Another process on the same SQLite file learns of new facts by `poll_sqlite`: `PRAGMA
data_version` once a second (it changes when another connection commits; microseconds to read),
and only when it changed, the audit rows written since (each fact writes one, naming its child).

None of this is needed for correctness: the interval sweep finds every changed child anyway.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Callable, Collection, Iterable
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import AuditLog

log = logging.getLogger("seen.notify")
CHANNEL = "seen_facts"
MAX_PAYLOAD = 7900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
_CHANGED = "seen.changed_children"  # Session.info key: the children whose facts this transaction changed

Callback = Callable[[set[int]], None]


def changed(session: Session, child_id: int) -> None:
    """Note, in `session`, that facts about `child_id` were written in its transaction."""
    session.info.setdefault(_CHANGED, set()).add(child_id)


class _Hub:
    """The callbacks of one session factory, called after each commit that changed facts."""

    def __init__(self) -> None:
        self.callbacks: list[Callback] = []
        self.lock = threading.Lock()

    def before_commit(self, session: Session) -> None:
        ids = session.info.get(_CHANGED)
        if ids and session.get_bind().dialect.name == "postgresql":
            for payload in payloads(ids):
                session.execute(select(func.pg_notify(CHANNEL, payload)))

    def after_commit(self, session: Session) -> None:
        ids = session.info.pop(_CHANGED, None)
        if not ids:
            return
        with self.lock:
            callbacks = list(self.callbacks)
        for callback in callbacks:
            try:
                callback(set(ids))
            except Exception:  # the facts are stored: a failed wake-up waits for the interval sweep
                log.exception("a wake-up after storing facts failed")

    @staticmethod
    def after_rollback(session: Session) -> None:
        session.info.pop(_CHANGED, None)


_hubs: weakref.WeakKeyDictionary[sessionmaker[Session], _Hub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def announce(factory: sessionmaker[Session]) -> None:
    """Sessions of `factory` announce the children whose facts they commit (NOTIFY on PostgreSQL;
    this process's `subscribe`rs). Calling it again changes nothing."""
    _hub(factory)


def subscribe(factory: sessionmaker[Session], callback: Callback) -> Callable[[], None]:
    """Call `callback(child_ids)` after each commit of a session of `factory` that stored facts
    (on the committing thread: it must be quick). Returns the function that unsubscribes."""
    hub = _hub(factory)
    with hub.lock:
        hub.callbacks.append(callback)

    def unsubscribe() -> None:
        with hub.lock:
            if callback in hub.callbacks:
                hub.callbacks.remove(callback)

    return unsubscribe


def _hub(factory: sessionmaker[Session]) -> _Hub:
    with _hubs_lock:
        hub = _hubs.get(factory)
        if hub is None:
            hub = _hubs[factory] = _Hub()
            event.listen(factory, "before_commit", hub.before_commit)
            event.listen(factory, "after_commit", hub.after_commit)
            event.listen(factory, "after_rollback", hub.after_rollback)
        return hub


def payloads(ids: Collection[int]) -> Iterable[str]:
    """The child ids as comma-separated payloads, each under PostgreSQL's limit."""
    part: list[str] = []
    size = 0
    for child_id in sorted(ids):
        text = str(child_id)
        if part and size + len(text) + 1 > MAX_PAYLOAD:
            yield ",".join(part)
            part, size = [], 0
        part.append(text)
        size += len(text) + 1
    if part:
        yield ",".join(part)


def parse_payload(payload: str) -> set[int]:
    """The child ids of a payload; anything that is not an id is ignored."""
    return {int(p) for p in payload.split(",") if p.strip().isdigit()}


# -- across processes ---------------------------------------------------------------------------
def listen_postgres(
    engine: Engine, callback: Callback, stop: threading.Event, *, timeout: float = 1.0
) -> None:
    """Until `stop` is set: LISTEN on a connection of its own and call `callback` with the child ids
    of each notification. A lost connection is opened again (after 1, 2, 4 … at most 30 s); facts
    stored meanwhile wait for the interval sweep."""
    import psycopg

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    delay = 1.0
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                delay = 1.0
                while not stop.is_set():
                    ids: set[int] = set()
                    for note in conn.notifies(timeout=timeout, stop_after=1):
                        ids |= parse_payload(note.payload)
                    # and whatever else has arrived meanwhile, without waiting
                    for note in conn.notifies(timeout=0):
                        ids |= parse_payload(note.payload)
                    if ids:
                        callback(ids)
        except Exception as exc:  # the database away, the connection dropped: try again later
            log.warning(
                "listening for new facts failed (%s); trying again in %g s", type(exc).__name__, delay
            )
            stop.wait(delay)
            delay = min(delay * 2, 30.0)


class SqlitePoll:
    """What another process committed to the same SQLite file: `check()` reads `PRAGMA
    data_version` on a connection of its own and, only when it moved, the audit rows written
    since the last check; it returns the ids of their children."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        self.version = self._version()
        self.last_id = self._one("SELECT COALESCE(MAX(id), 0) FROM audit_log")

    def _one(self, statement: str, *params: Any) -> int:
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement, params)
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def _version(self) -> int:
        return self._one("PRAGMA data_version")

    def check(self) -> set[int]:
        version = self._version()
        if version == self.version:
            return set()
        self.version = version
        cursor = self.connection.cursor()
        try:
            cursor.execute(
                f"SELECT id, child_id FROM {AuditLog.__tablename__} WHERE id > ? ORDER BY id", (self.last_id,)
            )
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if rows:
            self.last_id = rows[-1][0]
        return {child_id for _, child_id in rows if child_id is not None}

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a connection already broken
            self.connection.close()


def poll_sqlite(engine: Engine, callback: Callback, stop: threading.Event, *, every: float = 1.0) -> None:
    """Until `stop` is set: `SqlitePoll.check()` every `every` seconds, `callback` with what it
    finds. A failure is logged and the poll started again a few seconds later."""
    while not stop.is_set():
        try:
            poll = SqlitePoll(engine)
        except Exception as exc:
            log.warning("looking for new facts failed (%s); trying again", type(exc).__name__)
            stop.wait(5 * every)
            continue
        try:
            while not stop.wait(every):
                ids = poll.check()
                if ids:
                    callback(ids)
        except Exception as exc:
            log.warning("looking for new facts failed (%s); trying again", type(exc).__name__)
            stop.wait(5 * every)
        finally:
            poll.close()
