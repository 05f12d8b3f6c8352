"""`seen run`, `seen db upgrade`, `seen import`, `seen simulate` (listed in scheduler.cli.COMMANDS;
`evaluate` and `explain` are in scheduler.case_commands, `keys`, `retention` and `export` in
scheduler.data_commands, `serve` in bot.cli_commands)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from scheduler.messenger import ConsoleMessenger, Messenger
from scheduler.policies import load_policy
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.usage import UsageError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, not {text!r}") from None


def _logging() -> None:
    """JSON lines on standard error, with no personal data (scheduler.logs)."""
    from scheduler.logs import configure_logging

    configure_logging()


# -- seen db upgrade ---------------------------------------------------------------------------
def db_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["upgrade"], help="upgrade: apply the migrations")
    p.add_argument("--database-url", help="default: SEEN_DATABASE_URL, else the SQLite file")


def cmd_db(args: argparse.Namespace) -> int:
    from storage.db import upgrade

    upgrade(args.database_url)
    print("database schema is up to date")
    return 0


# -- seen import -------------------------------------------------------------------------------
def import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="caseload CSV or JSON files (see README)")
    p.add_argument("--database-url", help="default: SEEN_DATABASE_URL, else the SQLite file")


def _import_files(factory, paths: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Each file in its own transaction: a bad file writes nothing and stops the command."""
    from storage.importer import ImportFileError, import_csv, import_json

    lines = []
    for path in paths:
        if not Path(path).is_file():
            raise UsageError(f"{path}: no such file")
        importer = import_json if path.lower().endswith(".json") else import_csv
        try:
            with factory.begin() as session:
                lines.append(f"{path}: {importer(session, Path(path), policies=bundled_catalogue())}")
        except ImportFileError as exc:
            raise UsageError(f"{path}: {exc}") from None
    return lines


def cmd_import(args: argparse.Namespace) -> int:
    from storage.db import make_engine, session_factory, upgrade

    engine = make_engine(args.database_url)
    upgrade(engine)
    for line in _import_files(session_factory(engine), args.files):
        print(line)
    return 0


# -- seen run ----------------------------------------------------------------------------------
def run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sweep-minutes", type=float, default=float(os.environ.get("SEEN_SWEEP_MINUTES", 5)))
    p.add_argument(
        "--no-demo",
        action="store_true",
        help="do not load the demo caseload into an empty database",
    )
    p.add_argument(
        "--no-retention-purge",
        action="store_true",
        help="do not purge closed cases past SEEN_RETENTION_YEARS daily (also SEEN_RETENTION_PURGE=off)",
    )


def cmd_run(
    args: argparse.Namespace,
    messenger: Messenger | None = None,
    messenger_for: Callable[[Any], Messenger] | None = None,
) -> int:
    """Run the scheduler, delivering through `messenger`, or through the one `messenger_for` makes
    from the session factory (a platform whose messenger reads the database, as Teams's does);
    `seen run` gives the chat platform's from `bot.cli_commands`; the console messenger when
    neither is given."""
    from sqlalchemy import func, select

    from scheduler.logs import watch_staff
    from scheduler.loop import Runtime, policy_mornings, retention_schedule, run_forever
    from storage.crypto import DataKeyError
    from storage.db import make_engine, session_factory
    from storage.models import Child
    from storage.retention import RetentionError, retention_years

    _logging()
    retention_at = None if args.no_retention_purge else retention_schedule()
    try:
        engine = make_engine()
        if retention_at is not None:
            retention_years()  # a bad SEEN_RETENTION_YEARS stops the start, not the 02:15 purge
    except (DataKeyError, RetentionError) as exc:  # PostgreSQL without SEEN_DATA_KEY: refuse to start
        raise UsageError(str(exc)) from None
    upgrade_when_reachable(engine, float(os.environ.get("SEEN_DATABASE_WAIT_SECONDS", 300)))
    factory = session_factory(engine)
    watch_staff(factory)  # the log filter removes these staff names wherever they appear
    with factory.begin() as session:
        if not args.no_demo and not session.scalar(select(func.count()).select_from(Child)):
            from storage.demo import load_demo

            load_demo(session, policies=bundled_catalogue())
            logging.getLogger("seen").info("empty database: loaded the bundled demo caseload")
    if messenger is None and messenger_for is not None:
        messenger = messenger_for(factory)
    run_forever(
        Runtime(factory, messenger or ConsoleMessenger()),
        sweep_minutes=args.sweep_minutes,
        mornings=policy_mornings(factory),
        retention_at=retention_at,
    )
    return 0


def upgrade_when_reachable(engine, wait_seconds: float) -> None:  # type: ignore[no-untyped-def]
    """`seen run` starts before its database does (a reboot, a PostgreSQL restart): migrate as
    soon as the database answers, trying again after 1, 2, 4 … (at most 30) seconds, each try
    logged; after `wait_seconds` (SEEN_DATABASE_WAIT_SECONDS, default 300) the last error stands
    and the command ends with its one line."""
    import time

    from sqlalchemy.exc import DBAPIError

    from storage.db import unreachable, upgrade

    deadline = time.monotonic() + wait_seconds
    delay = 1.0
    while True:
        try:
            upgrade(engine)
            return
        except DBAPIError as exc:
            if exc.statement is not None or time.monotonic() + delay > deadline:
                raise
            url = engine.url.render_as_string(hide_password=False)
            logging.getLogger("seen").warning(f"{unreachable(exc, url)}; trying again in {delay:g} s")
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


# -- seen simulate -----------------------------------------------------------------------------
def simulate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--caseload", required=True, help="caseload CSV or JSON (as for seen import)")
    p.add_argument("--from", dest="start", required=True, type=_date, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, type=_date, help="last day, YYYY-MM-DD")
    p.add_argument("--policy", help="use this policy (name or .toml path) for every team")
    p.add_argument("--events", help="simulated replies: JSON list or JSON lines (see docs)")
    p.add_argument("--db", help="database file or URL; resumes a run killed part-way (default: throwaway)")
    p.add_argument("--out", help="append the messages here instead of standard output")
    p.add_argument("--max-step-minutes", type=float, default=60)


def cmd_simulate(args: argparse.Namespace) -> int:
    from sqlalchemy import select, update

    from scheduler.simulate import JsonLinesMessenger, SimulationError, load_events, simulate
    from storage.db import make_engine, session_factory, upgrade
    from storage.models import SchedulerState, Team

    if args.end < args.start:
        raise UsageError("--to: is before --from")
    if args.end - args.start > timedelta(days=800):
        raise UsageError("--to: a simulation covers at most 800 days")
    policy = load_policy(args.policy) if args.policy else None
    events_text = ""
    if args.events:
        try:
            events_text = Path(args.events).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--events: cannot read {args.events}: {exc.strerror}") from None
    try:
        events = load_events(events_text)
    except SimulationError as exc:
        raise UsageError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="seen-simulate-") as tmp:
        if args.db and "://" in args.db:  # a database URL, e.g. a throwaway PostgreSQL database
            engine = make_engine(args.db)
        else:
            engine = make_engine(f"sqlite:///{Path(args.db) if args.db else Path(tmp) / 'sim.sqlite'}")
        upgrade(engine)
        factory = session_factory(engine)
        with factory() as session:
            imported = session.get(SchedulerState, "simulate.imported") is not None
        if not imported:
            _import_files(factory, [args.caseload])
            with factory.begin() as session:
                if args.policy:
                    session.execute(update(Team).values(policy_id=args.policy))
                session.add(
                    SchedulerState(
                        name="simulate.imported", value=args.caseload, updated_at=_begin(args.start)
                    )
                )
        with factory() as session:
            ids = set(session.scalars(select(Team.policy_id)))
        tz = (policy or load_policy(sorted(ids)[0] if ids else "hillingdon")).timezone
        messenger = JsonLinesMessenger(args.out if args.out else sys.stdout)
        crash_injection(engine, messenger, os.environ.get("SEEN_SIMULATE_CRASH", ""))
        try:
            simulate(
                factory,
                messenger,
                args.start,
                args.end,
                events,
                tz,
                timedelta(minutes=args.max_step_minutes),
            )
        except SimulationError as exc:
            raise UsageError(str(exc)) from None
        finally:
            engine.dispose()
    return 0


def crash_injection(engine, messenger, spec: str) -> None:  # type: ignore[no-untyped-def]
    """Fault injection for the crash-safety tests: `commit:N` kills this process (SIGKILL) as its
    N-th database transaction commits, `send:N` right after its N-th message is handed over and
    before delivery records it as sent. Unset: nothing."""
    if not spec:
        return
    import signal

    from sqlalchemy import event

    what, _, count = spec.partition(":")
    left = [int(count)]

    def tick() -> None:
        left[0] -= 1
        if left[0] <= 0:
            os.kill(os.getpid(), signal.SIGKILL)

    if what == "commit":

        @event.listens_for(engine, "commit")
        def _after_commit(conn) -> None:  # type: ignore[no-untyped-def]
            tick()

    elif what == "send":
        send = messenger.send

        def send_then_maybe_die(message):  # type: ignore[no-untyped-def]
            ref = send(message)
            tick()
            return ref

        messenger.send = send_then_maybe_die
    else:
        raise UsageError(f"SEEN_SIMULATE_CRASH: must be commit:N or send:N, not {spec!r}")


def _begin(day: date):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, time

    return datetime.combine(day, time(), UTC)
