"""Benchmark: sweep time for a large caseload, and the naive peer's (run by hand, not a test).

    .venv/bin/python tests/bench/bench_sweep.py [--children 20000,100000] [--runs 2] [--repeats 5]

For each caseload size, builds (once; reused when its database exists) a caseload where each child
has a year of visits, then times: the cold full sweep (nothing swept before: every child
evaluated, outbox written), `--runs` times, with its CPU seconds (this process and its worker
processes); steady-state sweeps at the same instant and a minute later (nothing changed: only
children whose facts changed or whose next threshold passed are evaluated); a sweep after 100
children got a new visit; the sweep at the next local midnight, after one a second before it
(how many children it evaluates, against how many children's obligations change at midnight:
the engine run at both instants), and at the next morning's reminder time.

Then, in the same run, the naive peer for the same children: one APScheduler 3 job per child in
APScheduler's SQLAlchemyJobStore on a SQLite file, with the child's next reminder (its next
threshold after Seen's sweep, or a year ahead when it has none) as the job's run time. What is
timed is the peer's cold start: adding every child's job to an empty job store (working out the
run times is not counted, which favours the peer). Prints the medians and the ratio.

Targets (issue 13): cold sweep on SQLite under 2 s for 20,000 children and under 10 s for 100,000;
PostgreSQL within 1.5 times; Seen at least 14 times faster than the naive peer.
Set SEEN_DATABASE_URL to a PostgreSQL URL to sweep there instead of SQLite (one database per
size: the URL's database name with `_<children>` appended, created when missing); the naive peer
stays on SQLite, as specified.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from scheduler.policies import load_policy
from scheduler.rules.engine import evaluate
from scheduler.sweep import sweep
from storage.cases import cases_for_children
from storage.db import make_engine, session_factory, upgrade
from storage.models import Child, ChildSweepState, Contact, Outbox, Plan, PlanMeeting, Staff, Team

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
LONDON = load_policy("central-bedfordshire").timezone


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


def cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def timed(factory, now: datetime, **kw) -> tuple[float, int, int, float]:  # type: ignore[no-untyped-def]
    cpu, t0 = cpu_seconds(), time.perf_counter()
    report = sweep(factory, now, **kw)
    return time.perf_counter() - t0, report.evaluated, report.written, cpu_seconds() - cpu


def changed_at(factory, before: datetime, after: datetime) -> int:  # type: ignore[no-untyped-def]
    """How many children's obligations differ between two instants (the engine run twice)."""
    with factory() as s:
        policy_of = dict(
            s.execute(select(Child.id, Team.policy_id).join(Team, Team.id == Child.team_id)).all()
        )
        ids = sorted(policy_of)
        changed = 0
        for i in range(0, len(ids), 5000):
            for child_id, case in cases_for_children(s, ids[i : i + 5000], free_text=False).items():
                policy = load_policy(policy_of[child_id])
                changed += evaluate(policy, case, before) != evaluate(policy, case, after)
    return changed


def forget_sweeps(factory) -> None:  # type: ignore[no-untyped-def]
    """Nothing swept, nothing in the outbox: the next sweep is cold."""
    with factory.begin() as s:
        s.execute(ChildSweepState.__table__.delete())
        s.execute(Outbox.__table__.delete())


def naive_reminder(case_ref: str) -> None:
    """The naive peer's job: remind about one child (never run here; only stored)."""


def naive_peer(factory, path: Path) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds for the naive peer's cold start: one APScheduler job per child, added to an empty
    SQLAlchemyJobStore on SQLite, each at the child's next reminder."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    with factory() as s:
        jobs = s.execute(
            select(Child.id, Child.case_ref, ChildSweepState.next_threshold_at)
            .join(ChildSweepState, ChildSweepState.child_id == Child.id)
            .order_by(Child.id)
        ).all()
    path.unlink(missing_ok=True)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")}, timezone=UTC
    )
    scheduler.start(paused=True)  # stored, never run
    try:
        t0 = time.perf_counter()
        for child_id, case_ref, run_at in jobs:
            if run_at is None:  # nothing can change for the child with time: a year ahead
                run_at = NOW + timedelta(days=365)
            scheduler.add_job(
                f"{__name__}:naive_reminder",
                "date",
                run_date=run_at if run_at.tzinfo else run_at.replace(tzinfo=UTC),
                args=[case_ref],
                id=f"child-{child_id}",
                replace_existing=True,
                misfire_grace_time=None,
            )
        return time.perf_counter() - t0, len(jobs)
    finally:
        scheduler.shutdown(wait=False)
        path.unlink(missing_ok=True)


def database_for(children: int, db: str) -> str:
    """The caseload's database URL: a SQLite file per size, or a PostgreSQL database per size."""
    url = os.environ.get("SEEN_DATABASE_URL")
    if not url:
        return f"sqlite:///{db.format(children=children)}"
    base = make_url(url)
    name = f"{base.database}_{children}"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as c:
        if not c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            c.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def bench(children: int, args: argparse.Namespace) -> tuple[float, float]:
    """Prints the figures for one caseload size; returns the medians of the cold sweep and the peer."""
    url = database_for(children, args.db)
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as s:
        have = s.scalar(select(func.count()).select_from(Child))
    if have != children:  # a database with this caseload already is reused
        if have:
            raise SystemExit(f"{url.split('@')[-1]} has {have} children, not {children}: remove it first")
        print(f"building a caseload of {children} children in {url.split('@')[-1]} ...")
        t0 = time.perf_counter()
        build(factory, children)
        print(f"built in {time.perf_counter() - t0:.0f} s")
    with factory() as s:
        contacts = s.scalar(select(func.count()).select_from(Contact))
    print(f"\n== {children} children, {contacts} contacts ({engine.dialect.name})")
    colds, cpus = [], []
    for _ in range(args.runs):
        forget_sweeps(factory)
        cold, evaluated, written, cpu = timed(factory, NOW)
        colds.append(cold)
        cpus.append(cpu)
        print(f"cold full sweep: {cold:.2f} s, {cpu:.2f} s CPU ({evaluated} evaluated, {written} written)")
    steady = []
    for k in range(args.repeats):
        seconds, evaluated, written, _ = timed(factory, NOW + timedelta(seconds=k + 1))
        steady.append(seconds)
    print(
        f"steady-state sweep: median {statistics.median(steady) * 1000:.0f} ms "
        f"(min {min(steady) * 1000:.0f}, max {max(steady) * 1000:.0f}; {evaluated} evaluated, "
        f"{written} written in the last)"
    )
    with factory.begin() as s:
        s.execute(update(Child).where(Child.id <= 100).values(facts_version=Child.facts_version + 1))
    seconds, evaluated, written, _ = timed(factory, NOW + timedelta(minutes=5))
    print(f"sweep after 100 children changed: {seconds * 1000:.0f} ms ({evaluated} evaluated)")
    midnight = datetime.combine(NOW.astimezone(LONDON).date() + timedelta(days=1), clock(), LONDON)
    before = midnight - timedelta(seconds=1)
    timed(factory, before)  # what fell due during the day (reminders, hour deadlines) is swept first
    changed = changed_at(factory, before, midnight)
    seconds, evaluated, written, _ = timed(factory, midnight)
    print(
        f"midnight sweep ({midnight.isoformat()}): {evaluated} of {children} children evaluated "
        f"({seconds:.2f} s, {written} written); the obligations of {changed} changed then"
    )
    morning = datetime.combine(midnight.date(), clock(8, 30), LONDON)
    seconds, evaluated, written, _ = timed(factory, morning)
    print(
        f"morning sweep (08:30 local, reminders): {evaluated} evaluated ({seconds:.2f} s, {written} written)"
    )
    peers = []
    for _ in range(args.runs if args.peer else 0):
        seconds, jobs = naive_peer(factory, Path(args.db.format(children=f"naive-{children}")))
        peers.append(seconds)
        print(
            f"naive peer (APScheduler 3, one job per child, SQLAlchemyJobStore on SQLite): "
            f"{seconds:.1f} s for {jobs} jobs"
        )
    cold, peer = statistics.median(colds), statistics.median(peers) if peers else float("nan")
    target = 2.0 * children / 20_000 * (1.5 if engine.dialect.name == "postgresql" else 1.0)
    print(
        f"median of {args.runs}: cold sweep {cold:.2f} s (target {target:.1f} s), "
        f"{statistics.median(cpus):.2f} s CPU; naive peer {peer:.1f} s; Seen {peer / cold:.1f} times "
        "faster (target 14)"
    )
    engine.dispose()
    return cold, peer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", default="20000,100000", help="caseload sizes, comma-separated")
    parser.add_argument("--db", default="var/bench-sweep-{children}.sqlite")
    parser.add_argument("--runs", type=int, default=2, help="cold sweeps and peer starts per size")
    parser.add_argument("--repeats", type=int, default=5, help="steady-state sweeps per size")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip the naive peer")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
    results = {n: bench(n, args) for n in (int(x) for x in args.children.split(","))}
    print("\nsummary (medians):")
    for n, (cold, peer) in results.items():
        print(f"  {n:>7} children: cold sweep {cold:.2f} s, naive peer {peer:.1f} s, ratio {peer / cold:.1f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
