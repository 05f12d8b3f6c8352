"""Database faults (issue 5), on PostgreSQL: the server drops every connection of Seen's database
(pg_terminate_backend from an admin connection, what a restart does to its clients) in the middle
of a sweep and in the middle of delivery, or refuses connections for minutes (ALLOW_CONNECTIONS
false). The scheduler's jobs (Runtime.sweep_job and deliver_job, what run_forever runs) log the
error and return; the next runs reconnect (pool_pre_ping) and carry on. The outbox stays
consistent: every message of the reference goes exactly once, claims left by a dropped run run
out (the lease) and rows whose fate was in doubt are looked for in Slack (find_sent) rather than
sent again. SQLite has no server to lose: skipped there."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from scheduler.delivery import LEASE
from scheduler.messenger import OutgoingMessage
from storage.db import normalise_url
from tests.faults.conftest import START, Harness, tally
from tests.faults.test_chat_outages import at
from tests.storage.conftest import PG_ENV

DB_STEP = timedelta(minutes=5)  # run_forever sweeps every 5 minutes: a failed sweep is retried then


class Server:
    """Faults of the PostgreSQL server, seen from Seen's database: dropped connections, and
    connections refused until allowed again."""

    def __init__(self, harness: Harness) -> None:
        self.database = make_url(harness.url).database
        self.admin: Engine = create_engine(normalise_url(os.environ[PG_ENV]), isolation_level="AUTOCOMMIT")
        self.kills = 0
        self.away = False

    def drop_connections(self) -> None:
        """Terminate every backend of the database, and wait until they are gone."""
        with self.admin.connect() as conn:
            pids = list(
                conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                    {"db": self.database},
                ).scalars()
            )
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + 10
            while pids and time.monotonic() < deadline:
                left = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}
                ).scalar()
                if not left:
                    break
                time.sleep(0.02)
        self.kills += 1

    def go_away(self) -> None:
        """Refuse new connections to the database and drop the open ones."""
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS false')
        self.away = True
        self.drop_connections()

    def come_back(self) -> None:
        if self.away:
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS true')
            self.away = False

    def close(self) -> None:
        self.come_back()
        self.admin.dispose()


class StatementTrap:
    """Drops the database's connections just before the `occurrence`-th statement starting with
    `prefix` (whitespace folded) after `arm`."""

    def __init__(self, engine: Engine, server: Server) -> None:
        self.server = server
        self.armed: tuple[str, int] | None = None
        self.sprung: list[str] = []
        self.marking: int | None = None
        event.listen(engine, "before_cursor_execute", self._before)

    def arm(self, prefix: str, occurrence: int = 1) -> None:
        self.armed = (prefix, occurrence)

    def disarm(self) -> None:
        self.armed = None

    def _before(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        if self.armed is None:
            return
        prefix, left = self.armed
        if not " ".join(statement.split()).startswith(prefix):
            return
        if left > 1:
            self.armed = (prefix, left - 1)
            return
        self.armed = None
        self.sprung.append(prefix)
        if isinstance(params, dict) and "id_1" in params:
            self.marking = params["id_1"]  # the outbox row an UPDATE was for
        self.server.drop_connections()


def trap_calls(trap: StatementTrap, step: Any, points: list[tuple[datetime, str, int]]) -> Any:
    """`step` (a Runtime method taking `now`) with the first of `points` whose time has come armed
    during each call, until it has sprung."""

    def trapped(now: datetime) -> Any:
        armed = bool(points) and now >= points[0][0]
        if armed:
            trap.arm(points[0][1], points[0][2])
        try:
            return step(now)
        finally:
            if armed and trap.armed is None:
                points.pop(0)
            trap.disarm()

    return trapped


@pytest.fixture
def pg(harness: Harness) -> Iterator[Server]:
    if harness.db != "postgresql":
        pytest.skip("database faults need a PostgreSQL server (SQLite has none to lose)")
    harness.max_step = DB_STEP
    server = Server(harness)
    yield server
    server.close()


def errors_logged(caplog: pytest.LogCaptureFixture, what: str) -> int:
    return sum(1 for r in caplog.records if r.name == "seen.loop" and what in r.getMessage())


# Where a sweep_step loses its connections, one sweep after another: taking the leader lease,
# choosing the children, loading their facts, writing the outbox rows, writing the sweep state
# (in the outbox rows' transaction), the metrics (which log and carry on), and at 08:30 the due
# lists (the second outbox write of that sweep).
SWEEP_POINTS = [
    (START, "UPDATE leader_lease", 1),
    (START, "SELECT children.id FROM children", 1),
    (START, "SELECT plans.", 1),
    (START, "INSERT INTO outbox", 1),
    (START, "INSERT INTO child_sweep_state", 1),
    (START, "INSERT INTO child_overdue_summary", 1),
    (at(8, 30), "INSERT INTO outbox", 2),
]


def test_connections_dropped_in_the_middle_of_sweeps(
    harness: Harness, pg: Server, reference, seen_log: pytest.LogCaptureFixture
) -> None:
    trap = StatementTrap(harness.engine, pg)
    points = list(SWEEP_POINTS)
    harness.runtime.sweep_step = trap_calls(trap, harness.runtime.sweep_step, points)  # type: ignore[method-assign]
    harness.run()  # every step is run_forever's sweep job: it must not raise
    assert not points and len(trap.sprung) == len(SWEEP_POINTS), trap.sprung
    failed = errors_logged(seen_log, "sweep failed")
    assert failed == len(SWEEP_POINTS) - 1  # all but the metrics' own, which it logs and survives
    tally(harness, f"connections dropped mid-sweep x{len(trap.sprung)}", reference().keys)


class KillingMessenger:
    """The Slack messenger, but right after the n-th message is posted the database drops its
    connections (`dropped`) or goes away for a while (`away`)."""

    def __init__(self, inner: Any, server: Server, dropped: set[int], away: set[int]) -> None:
        self.inner = inner
        self.server = server
        self.dropped_at = dropped
        self.away_at = away
        self.sent = 0
        self.dropped: list[str] = []
        self.away: list[str] = []

    def find_sent(self, key: str) -> str | None:
        return self.inner.find_sent(key)

    def send(self, message: OutgoingMessage) -> str:
        ref = self.inner.send(message)
        self.sent += 1
        if self.sent in self.away_at:
            self.away.append(message.key)
            self.server.go_away()
        elif self.sent in self.dropped_at:
            self.dropped.append(message.key)
            self.server.drop_connections()
        return ref


def test_connections_dropped_in_the_middle_of_delivery(
    harness: Harness, pg: Server, reference, seen_log: pytest.LogCaptureFixture
) -> None:
    """The database drops its connections while a message is being posted (three times in
    Monday's first burst): delivery records it on a new connection (pool_pre_ping), nothing is
    lost. At 08:30 it goes away for 10 minutes right after a post: that row and the rest of the
    run stay claimed; once it is back and the lease has run out, the row is in doubt and found in
    Slack (find_sent), not posted again. From the repeats' runs on, the connections drop in the
    middle of claiming (SELECT ... FOR UPDATE SKIP LOCKED, then its UPDATE) and of marking a row
    sent (that row, too, is found in Slack after its lease)."""
    killing = KillingMessenger(harness.runtime.messenger, pg, dropped={3, 7, 11}, away={20})
    harness.runtime.messenger = killing
    trap = StatementTrap(harness.engine, pg)
    points = [
        (at(11, 50), "SELECT outbox.id", 1),
        (at(11, 50), "UPDATE outbox SET attempts", 1),
        (at(11, 50), "UPDATE outbox SET status", 1),
    ]
    wanted = [p for _, p, _ in points]
    harness.runtime.deliver_step = trap_calls(trap, harness.runtime.deliver_step, points)  # type: ignore[method-assign]
    back: list[datetime] = []

    def fault(now: datetime) -> None:
        if pg.away:
            if not back:
                back.append(now + timedelta(minutes=10))
            elif now >= back[0]:
                pg.come_back()

    harness.run(fault=fault)
    assert len(killing.dropped) == 3 and len(killing.away) == 1 and back
    assert trap.sprung == wanted, trap.sprung
    assert errors_logged(seen_log, "delivery failed") >= 1 + len(trap.sprung)
    rows = {r.key: r for r in harness.rows()}
    by_id = {r.id: r for r in rows.values()}
    for key in killing.dropped:  # recorded at once, on a fresh connection
        assert rows[key].status == "sent" and rows[key].sent_at == rows[key].send_after, key
    in_doubt = [rows[killing.away[0]], by_id[trap.marking]]
    for row in in_doubt:  # found in Slack once the lease ran out, with the first post's ref
        assert row.status == "sent" and row.message_ref, row.key
        assert row.attempts >= 2 and row.sent_at is not None and row.sent_at >= row.send_after + LEASE
    assert rows[killing.away[0]].sent_at >= back[0]  # type: ignore[operator]
    assert len(harness.fake.of("conversations.history")) >= len(in_doubt)
    tally(harness, f"connections dropped mid-delivery x{3 + 1 + len(trap.sprung)}", reference().keys)


def test_database_away_for_minutes(harness: Harness, pg: Server, reference, seen_log) -> None:
    """The database refuses every connection from 08:25 to 08:50 on Monday (the morning burst):
    sweeps and delivery runs fail, are logged, and the loop goes on; when it is back, what fell due
    goes, once, marked late, and the managers are told."""
    outage = (at(8, 25), at(8, 50))

    def fault(now: datetime) -> None:
        if outage[0] <= now < outage[1]:
            if not pg.away:
                pg.go_away()
        else:
            pg.come_back()

    harness.run(fault=fault, marks=outage)
    assert errors_logged(seen_log, "sweep failed") >= 3
    outcome = tally(harness, "database away 25 min", reference().keys)
    assert outcome.late_told >= 1
