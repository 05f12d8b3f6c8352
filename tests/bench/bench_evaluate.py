"""Benchmark: evaluate() time per child on a synthetic caseload (run by hand, not a test).

    .venv/bin/python tests/bench/bench_evaluate.py [--children 100000] [--repeats 5]

Each child has a year of contacts under its council's policy (home visits every 6-12 working
days, some not seen, some at school, agency sightings, the odd decision). Prints the median and
spread of per-child time over the repeats. Target (issue 2): under 50 µs per child.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from scheduler.policies import load_policy
from scheduler.rules.engine import evaluate
from scheduler.rules.model import AgencySighting, Case, Child, Contact, Decision, Plan


def synthetic_case(rng: random.Random, i: int, now: datetime, hillingdon: bool) -> Case:
    started = (now - timedelta(days=365 + rng.randrange(30))).date()
    at = datetime.combine(started, datetime.min.time(), UTC) + timedelta(hours=10)
    contacts: list[Contact] = []
    sightings: list[AgencySighting] = []
    decisions: list[Decision] = []
    while at < now - timedelta(days=1):
        at += timedelta(days=rng.randint(7, 16), minutes=rng.randrange(300))
        seen = rng.random() > 0.08
        kind = "home_visit" if rng.random() > 0.1 else "school_visit"
        contacts.append(
            Contact(
                at=at,
                kind=kind,
                by="lead_social_worker" if rng.random() > 0.15 else "duty_social_worker",
                qualified=rng.random() > 0.02,
                child_seen=seen,
                seen_alone=("yes" if rng.random() > 0.2 else "no") if seen else None,
                seen_alone_reason="asleep" if seen else None,
                bedroom_seen=rng.random() > 0.4 if seen else None,
                child_awake=True,
                recorded_at=at + timedelta(hours=rng.randint(1, 30)) if rng.random() > 0.01 else None,
                no_one_home=not seen and rng.random() > 0.5,
                note_left=True,
            )
        )
        if not seen:
            decisions.append(
                Decision(at + timedelta(hours=3), "CB-NOTSEEN-DISCUSS", "team_manager", "further_visit", 3)
            )
        if rng.random() > 0.7:
            sightings.append(AgencySighting(at - timedelta(days=2), "school"))
    reviews = tuple(started + timedelta(days=d) for d in (90, 270, 450))
    core_groups = tuple(started + timedelta(days=d) for d in range(42, 500, 42))
    return Case(
        child=Child(f"C-{i:06d}", date(2015 + rng.randrange(11), 1 + rng.randrange(12), 1)),
        plan=Plan(
            started=started,
            plan_number=1 + (rng.random() > 0.8),
            review_conferences=reviews,
            core_group_meetings=core_groups,
        ),
        contacts=tuple(contacts),
        agency_sightings=tuple(sightings),
        decisions=tuple(decisions),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    now = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
    rng = random.Random(42)
    policies = [load_policy("central-bedfordshire"), load_policy("hillingdon")]
    t0 = time.perf_counter()
    cases = [synthetic_case(rng, i, now, i % 2 == 1) for i in range(args.children)]
    built = time.perf_counter() - t0
    contacts = sum(len(c.contacts) for c in cases)
    print(
        f"caseload: {len(cases)} children, {contacts} contacts "
        f"({contacts / len(cases):.1f} a child), built in {built:.1f} s"
    )
    per_child: list[float] = []
    obligations = 0
    for _ in range(args.repeats):
        obligations = 0
        t0 = time.perf_counter()
        for i, case in enumerate(cases):
            obligations += len(evaluate(policies[i % 2], case, now))
        per_child.append((time.perf_counter() - t0) / len(cases) * 1e6)
    print(f"obligations: {obligations} ({obligations / len(cases):.2f} a child)")
    print(
        f"evaluate() per child: median {statistics.median(per_child):.1f} µs, "
        f"min {min(per_child):.1f} µs, max {max(per_child):.1f} µs over {args.repeats} runs"
    )
    print(f"target 50 µs: median is {statistics.median(per_child) / 50:.2f}x the target")


if __name__ == "__main__":
    main()
