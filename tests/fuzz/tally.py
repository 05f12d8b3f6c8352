"""The fuzz suite's tally: how many generated inputs were tried, and how many of them produced a
traceback or a partial write. `conftest.py` prints it at the end of the run, e.g.

    fuzz: 7412 inputs in 191 s, 0 tracebacks, 0 partial writes

Every fuzz test records each input here *before* asserting, so a failing run still counts the
input that failed. Examples per test are scaled by SEEN_FUZZ_SCALE (default 1; e.g. 10 for a
nightly run). Generation is derandomized: CI tries the same inputs on every run.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("SEEN_FUZZ_SCALE", "1") or 1)

# What a Python traceback (or an exception's repr leaking into a message) looks like.
_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|"
    r"\b(?:[A-Z][A-Za-z]*Error|Exception|KeyError|StopIteration)\b(?:\(|:)"
)


def looks_like_traceback(text: str | None) -> bool:
    return bool(text) and _TRACEBACK.search(text) is not None


def fuzz_settings(examples: int, **extra: Any) -> settings:
    """Hypothesis settings for a fuzz test: `examples` scaled by SEEN_FUZZ_SCALE, reproducible."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
        **extra,
    )


@dataclass
class Tally:
    inputs: int = 0
    tracebacks: int = 0
    partial_writes: int = 0
    by_test: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (test, accepted|refused)
    seconds: float = 0.0  # spent in the fuzz tests (conftest.py times each one)

    def record(
        self, test: str, *, traceback: bool = False, partial_write: bool = False, accepted: bool | None = None
    ) -> None:
        self.inputs += 1
        self.by_test[test] += 1
        if accepted is not None:
            self.outcomes[test, "accepted" if accepted else "refused"] += 1
        self.tracebacks += bool(traceback)
        self.partial_writes += bool(partial_write)

    def detail(self) -> list[str]:
        return [
            f"  {test}: {n} inputs"
            + "".join(
                f", {self.outcomes[test, o]} {o}" for o in ("accepted", "refused") if self.outcomes[test, o]
            )
            for test, n in sorted(self.by_test.items())
        ]

    def line(self) -> str:
        return (
            f"fuzz: {self.inputs} inputs in {self.seconds:.0f} s, {self.tracebacks} tracebacks, "
            f"{self.partial_writes} partial writes"
        )


TALLY = Tally()


def unchanged_but_refusal_audit(before: dict[str, int], after: dict[str, int], refusals: int) -> bool:
    """No partial write: every table has the rows it had, except that the audit log may have
    gained the `slack.refused` rows counted in `refusals` (a refusal is itself audited)."""
    expected = dict(before, audit_log=before["audit_log"] + refusals)
    return after == expected
