"""Benchmark: sweep time for a large caseload (run by hand, not a test).

    .venv/bin/python tests/bench/bench_sweep.py [--children 100000] [--db PATH] [--repeats 5]

Builds (once; reused when --db exists) a caseload where each child has a year of visits, then
times: a cold full sweep (every child evaluated, outbox written), steady-state sweeps at the same
instant and a minute later (nothing changed: only children whose facts changed or whose next
threshold passed are evaluated), and a sweep after 100 children got a new visit.
Targets (issue 3): steady state under 0.5 s, cold under 30 s on a 2-core machine.
Set SEEN_DATABASE_URL to a PostgreSQL URL to measure there instead of SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, update

from scheduler.sweep import sweep
from storage.db import make_engine, session_factory, upgrade
from storage.models import Child, ChildSweepState, Contact, Outbox, Plan, PlanMeeting, Staff, Team

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)


def build(factory, children: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    teams_n = max(children // 50, 2)
    with factory.begin() as s:
        s.execute(
            insert(Team),
            [
                {
                    "id": t + 1,
                    "name": f"Team {t + 1}",
                    "slack_channel_id": f"CT{t + 1}",
                    "policy_id": "central-bedfordshire" if t % 2 else "hillingdon",
                }
                for t in range(teams_n)
            ],
        )
        staff = []
        for t in range(teams_n):
            for k, role in enumerate(("social_worker",) * 8 + ("team_manager", "practice_manager")):
                staff.append(
                    {
                        "id": t * 10 + k + 1,
                        "name": f"S{t}-{k}",
                        "role": role,
                        "team_id": t + 1,
                        "qualified_registered": True,
                        "active": True,
                        "chat_user_id": f"U{t}x{k}",
                    }
                )
        s.execute(insert(Staff), staff)
    batch = 5000
    for start in range(0, children, batch):
        kids, plans, meetings, contacts = [], [], [], []
        for i in range(start, min(start + batch, children)):
            team = i % teams_n
            kids.append(
                {
                    "id": i + 1,
                    "case_ref": f"C-{i + 1:06d}",
                    "initials": "AB",
                    "date_of_birth": date(2015 + i % 11, 1 + i % 12, 1),
                    "team_id": team + 1,
                    "lead_social_worker_id": team * 10 + 1 + i % 8,
                    "facts_version": 0,
                }
            )
            started = (NOW - timedelta(days=365 + i % 30)).date()
            plans.append(
                {
                    "id": i + 1,
                    "child_id": i + 1,
                    "started": started,
                    "plan_number": 1,
                    "exploitation_concerns": False,
                }
            )
            for d in (90, 270, 380):
                meetings.append(
                    {"plan_id": i + 1, "kind": "review_conference", "held_on": started + timedelta(days=d)}
                )
            at = datetime.combine(started, datetime.min.time(), UTC) + timedelta(hours=10)
            while at < NOW - timedelta(days=2):
                at += timedelta(days=rng.randint(7, 14), minutes=rng.randrange(300))
                seen = rng.random() > 0.05
                contacts.append(
                    {
                        "child_id": i + 1,
                        "at": at,
                        "kind": "home_visit",
                        "by_role": "lead_social_worker",
                        "by_staff_id": None,
                        "qualified": True,
                        "child_seen": seen,
                        "seen_alone": "yes" if seen else None,
                        "bedroom_seen": seen,
                        "child_awake": True,
                        "recorded_at": at + timedelta(hours=3),
                        "no_one_home": False,
                        "note_left": None,
                        "risk_worsened": False,
                        "new_injury": False,
                        "alone_concerns": False,
                        "created_at": at,
                    }
                )
        with factory.begin() as s:
            s.execute(insert(Child), kids)
            s.execute(insert(Plan), plans)
            s.execute(insert(PlanMeeting), meetings)
            s.execute(insert(Contact), contacts)
        print(f"  built {min(start + batch, children)} children", flush=True)


def timed(factory, now: datetime, **kw) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    report = sweep(factory, now, **kw)
    return time.perf_counter() - t0, report.evaluated, report.written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--db", default="var/bench-sweep.sqlite")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("SEEN_DATABASE_URL") or f"sqlite:///{args.db}"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as s:
        have = s.scalar(select(func.count()).select_from(Child))
    if have != args.children:  # a database with this caseload already is reused
        if have:
            raise SystemExit(f"{url} has {have} children, not {args.children}: remove it first")
        print(f"building a caseload of {args.children} children in {url.split('@')[-1]} ...")
        t0 = time.perf_counter()
        build(factory, args.children)
        print(f"built in {time.perf_counter() - t0:.0f} s")
    with factory.begin() as s:  # start from nothing swept
        s.execute(ChildSweepState.__table__.delete())
        s.execute(Outbox.__table__.delete())
    with factory() as s:
        contacts = s.scalar(select(func.count()).select_from(Contact))
    print(f"caseload: {args.children} children, {contacts} contacts")
    cold, evaluated, written = timed(factory, NOW)
    print(f"cold full sweep: {cold:.1f} s ({evaluated} children evaluated, {written} messages written)")
    steady = []
    for k in range(args.repeats):
        seconds, evaluated, written = timed(factory, NOW + timedelta(seconds=k + 1))
        steady.append(seconds)
    print(
        f"steady-state sweep: median {statistics.median(steady) * 1000:.0f} ms "
        f"(min {min(steady) * 1000:.0f}, max {max(steady) * 1000:.0f}; {evaluated} evaluated, "
        f"{written} written in the last)"
    )
    with factory.begin() as s:
        s.execute(update(Child).where(Child.id <= 100).values(facts_version=Child.facts_version + 1))
    seconds, evaluated, written = timed(factory, NOW + timedelta(minutes=5))
    print(f"sweep after 100 children changed: {seconds * 1000:.0f} ms ({evaluated} evaluated)")
    print(f"targets: steady {statistics.median(steady) / 0.5:.2f}x of 0.5 s, cold {cold / 30:.2f}x of 30 s")


if __name__ == "__main__":
    main()
