"""Benchmark: the obligation history behind `seen report`, 12 months for 1,500 children (run by
hand, not a test).

    .venv/bin/python tests/bench/bench_report.py [--children 1500] [--months 12] [--repeats 3]

The children are bench_evaluate's synthetic ones, half under each policy. Prints the evaluations
made (each fact and each day `change_days` names, against one a day plus each fact), and the
median and spread of the wall time over the repeats, for the history alone and for the
whole report (scheduler.reports.measures, ten teams). Target (issue 14): under 10 seconds for 1,500
children and 12 months on a 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_evaluate import synthetic_case

from scheduler.policies import load_policy
from scheduler.reports import Child, measures
from scheduler.rules.history import change_instants, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1500)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    end = datetime(2026, 12, 1, tzinfo=UTC)
    start = end - timedelta(days=round(args.months * 30.44))
    rng = random.Random(42)
    policies = [load_policy("central-bedfordshire"), load_policy("hillingdon")]
    cases = [(policies[i % 2], synthetic_case(rng, i, end, i % 2 == 1)) for i in range(args.children)]
    walked = sum(len(change_instants(p, c, start, end)) for p, c in cases)
    facts = sum(
        sum(1 for f in (*c.contacts, *c.decisions, *c.agency_sightings) if start < f.at <= end)
        for _, c in cases
    )
    daily = facts + (end - start).days * len(cases)
    times = []
    instances = 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        instances = sum(len(history(p, c, start, end)) for p, c in cases)
        times.append(time.perf_counter() - t0)
    print(f"children {args.children}, months {args.months}, obligation instances {instances}")
    print(f"evaluations {walked} ({walked / len(cases):.0f} a child; one a day plus each fact: {daily})")
    print(
        f"history: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}) over {args.repeats} repeats; target 10 s"
    )
    children = [Child(f"Team {i % 10}", f"Worker {i % 60}", p, c) for i, (p, c) in enumerate(cases)]
    first, last = start.strftime("%Y-%m"), (end - timedelta(days=1)).strftime("%Y-%m")
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        rows = measures(children, first, last, end)
        times.append(time.perf_counter() - t0)
    print(
        f"the whole report ({first} to {last}, {len(rows)} rows, ten teams): median "
        f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}); target 10 s"
    )


if __name__ == "__main__":
    main()
