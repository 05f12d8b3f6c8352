"""Data-protection commands: `seen keys`, `seen retention purge`, `seen export`.

seen keys generate                 print a new data key (for SEEN_DATA_KEY)
seen keys rotate [--batch N]       re-encrypt every value under the newest key
seen retention purge [--dry-run]   delete closed cases past SEEN_RETENTION_YEARS
seen export C-1042 [--out FILE]    everything held about one child, as JSON
"""

from __future__ import annotations

import argparse

from scheduler.cli import UsageError, register


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
def _keys_args(p: argparse.ArgumentParser) -> None:
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


register("keys", "data keys: `seen keys generate`, `seen keys rotate`", _keys_args, cmd_keys)
