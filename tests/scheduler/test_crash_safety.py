"""Crash safety: `seen simulate` killed with SIGKILL at 50 random points of a simulated fortnight
(Christmas inside), restarted each time, prints exactly the messages of an uninterrupted run: no
more, no fewer, in the same order. The kill points are drawn at random among the process's
database commits (a sweep, a claim, a delivery mark, the clock) and just after a message is
handed to the messenger but before delivery records it (the in-doubt case). On SQLite and on
PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from tests.storage.conftest import postgres_database

DATA = Path(__file__).parent / "data"
KILLS = 50


def _simulate(db: str, out: Path, crash: str | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "SEEN_SIMULATE_CRASH"}
    if crash:
        env["SEEN_SIMULATE_CRASH"] = crash
    args = [
        sys.executable,
        "-m",
        "scheduler.cli",
        "simulate",
        "--caseload",
        str(DATA / "christmas.csv"),
        "--events",
        str(DATA / "christmas-events.jsonl"),
        "--from",
        "2026-12-14",
        "--to",
        "2026-12-27",
        "--db",
        db,
        "--out",
        str(out),
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


def test_fifty_kills_change_nothing(db_url: str, tmp_path: Path) -> None:
    """Nothing lost, nothing twice (DESIGN.md: outbox keys, claims, in-doubt rows, the saved
    clock), whatever the moment of the kill."""
    reference = tmp_path / "uninterrupted.jsonl"
    assert _simulate(db_url, reference) == 0  # db_url: a new, empty database
    expected = reference.read_text().splitlines()
    assert len(expected) > 30

    rng = random.Random(20261224)
    with ExitStack() as stack:
        db = (
            f"sqlite:///{tmp_path / 'killed.sqlite'}"
            if db_url.startswith("sqlite")
            else stack.enter_context(postgres_database("seen_test_killed"))
        )
        _kill_fifty_times(db, tmp_path, expected, rng)


def _kill_fifty_times(db: str, tmp_path: Path, expected: list[str], rng: random.Random) -> None:
    out = tmp_path / "killed.jsonl"
    kills = 0
    while kills < KILLS:
        crash = rng.choice([f"commit:{rng.randint(1, 6)}", "send:1"])
        if _simulate(db, out, crash) == 0:
            break  # the run finished before this kill point: the run is complete
        kills += 1
    assert kills == KILLS, f"only {kills} kills before the run completed; choose earlier points"
    assert _simulate(db, out) == 0
    assert out.read_text().splitlines() == expected
