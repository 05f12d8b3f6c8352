"""Fixtures of the fuzz suite: the real Bolt app over HTTP on a module-scoped SQLite database (so
hundreds of requests share one server), and the summary line printed at the end of the run."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import AuditLog
from tests.bot.conftest import Running, serving
from tests.fuzz.tally import TALLY
from tests.storage.conftest import count_rows


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY.inputs:
        return
    terminalreporter.write_line(TALLY.line())
    if terminalreporter.config.getoption("verbose") > 0:
        for line in TALLY.detail():
            terminalreporter.write_line(line)
    report = os.environ.get("SEEN_FUZZ_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "inputs": TALLY.inputs,
                    "tracebacks": TALLY.tracebacks,
                    "partial_writes": TALLY.partial_writes,
                    "seconds": round(TALLY.seconds, 1),
                    "by_test": dict(TALLY.by_test),
                    "outcomes": {
                        f"{test} {outcome}": n for (test, outcome), n in sorted(TALLY.outcomes.items())
                    },
                },
                f,
                indent=2,
            )


@pytest.fixture(autouse=True)
def _timed() -> Iterator[None]:
    """Adds each fuzz test's time (not its module's server start) to the summary line."""
    started = time.monotonic()
    yield
    TALLY.seconds += time.monotonic() - started


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The Slack app as tests/bot runs it (uvicorn, signed requests, the fake Web API), shared by
    a module's examples. Mon 23 Nov 2026 11:00 London is the business clock."""
    with serving(tmp_path_factory.mktemp("fuzz-bot") / "seen.sqlite") as running:
        yield running


def snapshot(factory: sessionmaker[Session]) -> tuple[dict[str, int], int]:
    """Rows per table, and how many of the audit rows are refusals (`slack.refused`)."""
    with factory() as s:
        refused = s.scalar(select(func.count()).where(AuditLog.action == "slack.refused")) or 0
        return count_rows(s), refused
