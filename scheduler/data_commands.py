"""Data-protection commands: `seen keys`, `seen retention purge`, `seen export`.

seen keys generate                 print a new data key (for SEEN_DATA_KEY)
seen keys rotate [--batch N]       re-encrypt every value under the newest key
seen retention purge [--dry-run]   delete closed cases past SEEN_RETENTION_YEARS
seen export C-1042 [--out FILE]    everything held about one child, as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from scheduler.usage import UsageError


def _factory(url: str | None):  # type: ignore[no-untyped-def]
    from storage.crypto import DataKeyError
    from storage.db import make_engine, session_factory, upgrade

    try:
        engine = make_engine(url)
    except DataKeyError as exc:
        raise UsageError(str(exc)) from None
    upgrade(engine)
    return session_factory(engine)


def _database_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", help="default: SEEN_DATABASE_URL, else the SQLite file")


# -- seen keys ------------------------------------------------------------------------------------
def keys_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["generate", "rotate"])
    p.add_argument("--batch", type=int, default=500, help="rotate: values per transaction (default 500)")
    _database_arg(p)


def cmd_keys(args: argparse.Namespace) -> int:
    from storage.crypto import DataKeyError, generate_key

    if args.action == "generate":
        print(generate_key())
        return 0
    if args.batch < 1:
        raise UsageError("--batch: must be at least 1")
    from storage.rotation import rotate_keys

    try:
        report = rotate_keys(_factory(args.database_url), batch=args.batch)
    except DataKeyError as exc:
        raise UsageError(str(exc)) from None
    print(report)
    return 0


# -- seen retention purge -------------------------------------------------------------------------
def retention_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["purge"])
    p.add_argument("--dry-run", action="store_true", help="count what would be deleted; change nothing")
    _database_arg(p)


def cmd_retention(args: argparse.Namespace) -> int:
    from storage.retention import RetentionError, purge_closed, retention_years

    try:
        years = retention_years()
    except RetentionError as exc:
        raise UsageError(str(exc)) from None
    print(purge_closed(_factory(args.database_url), years=years, dry_run=args.dry_run))
    return 0


# -- seen export ----------------------------------------------------------------------------------
def export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("case_ref", help="the child's case reference, e.g. C-1042")
    p.add_argument("--out", help="write the JSON here (created owner-only) instead of standard output")
    _database_arg(p)


def cmd_export(args: argparse.Namespace) -> int:
    from scheduler.policy_catalogue import bundled_catalogue
    from storage.crypto import DataKeyError
    from storage.export import UnknownChildError, export_child

    factory = _factory(args.database_url)
    try:
        with factory.begin() as session:  # the audit row is committed before anything is written out
            document = export_child(session, args.case_ref, policies=bundled_catalogue())
    except (UnknownChildError, DataKeyError) as exc:
        raise UsageError(str(exc)) from None
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        path = Path(args.out)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise UsageError(f"--out: cannot write {path}: {exc.strerror}") from None
        print(f"{args.case_ref}: exported to {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
