"""The `seen` command: one table of every subcommand, and the one dispatch that runs them.

Each row of COMMANDS names a subcommand, its help, the function that adds its arguments and the
function that runs it, as "module:function": a command's module is imported only when the parser
is built (so `scheduler` does not import `bot` when it is imported). A new subcommand is one row.

Every failure is one line on standard error, never a traceback:
- bad input (UsageError, a bad case file or policy): `seen <command>: <what was wrong>`, exit 2;
- the database cannot be reached: `seen <command>: cannot reach the database <url>: <reason>`,
  the URL without its password, exit 1;
- standard output closed early (`seen evaluate f.json | head -1`): a quiet exit.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.usage import UsageError

__all__ = ["COMMANDS", "Command", "UsageError", "build_parser", "main"]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    add_args: str  # "module:function" taking the subcommand's ArgumentParser
    run: str  # "module:function" taking the parsed arguments, returning the exit status


COMMANDS: tuple[Command, ...] = (
    Command(
        "evaluate",
        "print a case's open obligations as JSON",
        "scheduler.case_commands:case_args",
        "scheduler.case_commands:cmd_evaluate",
    ),
    Command(
        "explain",
        "say in words why each obligation is due",
        "scheduler.case_commands:case_args",
        "scheduler.case_commands:cmd_explain",
    ),
    Command(
        "policy",
        "a policy's rule catalogue: `seen policy show NAME [--on DATE]`",
        "scheduler.policy_show:add_args",
        "scheduler.policy_show:run",
    ),
    Command(
        "run",
        "run the scheduler (and the console or Slack messenger) until stopped",
        "scheduler.commands:run_args",
        "bot.cli_commands:cmd_run",
    ),
    Command(
        "serve",
        "run the chat app (Teams with TEAMS_CLIENT_ID, else Slack) and the scheduler",
        "bot.cli_commands:serve_args",
        "bot.cli_commands:cmd_serve",
    ),
    Command(
        "db",
        "database administration: `seen db upgrade`",
        "scheduler.commands:db_args",
        "scheduler.commands:cmd_db",
    ),
    Command(
        "import",
        "import a caseload export (CSV or JSON) into the database",
        "scheduler.commands:import_args",
        "scheduler.commands:cmd_import",
    ),
    Command(
        "simulate",
        "run the real sweep and delivery over a period on a simulated clock",
        "scheduler.commands:simulate_args",
        "scheduler.commands:cmd_simulate",
    ),
    Command(
        "keys",
        "data keys: `seen keys generate`, `seen keys rotate`",
        "scheduler.data_commands:keys_args",
        "scheduler.data_commands:cmd_keys",
    ),
    Command(
        "retention",
        "delete closed cases past SEEN_RETENTION_YEARS: `seen retention purge [--dry-run]`",
        "scheduler.data_commands:retention_args",
        "scheduler.data_commands:cmd_retention",
    ),
    Command(
        "report",
        "timeliness of visits, decisions and records per team and month (CSV, JSON, chart)",
        "scheduler.report_command:report_args",
        "scheduler.report_command:cmd_report",
    ),
    Command(
        "export",
        "subject access export of one child as JSON",
        "scheduler.data_commands:export_args",
        "scheduler.data_commands:cmd_export",
    ),
    Command(
        "teams",
        "Microsoft Teams: `seen teams package --out seen-teams.zip`",
        "bot.teams.cli_commands:teams_args",
        "bot.teams.cli_commands:cmd_teams",
    ),
)


def _resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seen", description="Every child on a plan seen on time.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        _resolve(command.add_args)(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line usage error
        return int(exc.code or 0) and 2
    try:
        status = _dispatch(args)
        sys.stdout.flush()  # here, where a closed pipe can still be told from a failure
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()


def _dispatch(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import DBAPIError

    from scheduler.rules.casefile import CaseFileError
    from scheduler.rules.engine import CaseError
    from scheduler.rules.policy import PolicyError

    try:
        return _resolve(args.run)(args)
    except (UsageError, CaseFileError, CaseError, PolicyError) as exc:
        print(f"seen {args.command}: {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:
        if exc.statement is not None:  # a statement the database refused: a bug, not an outage
            raise  # (SQLAlchemy raises a DBAPIError with no statement when connecting fails)
        from storage.db import unreachable

        print(
            f"seen {args.command}: {unreachable(exc, getattr(args, 'database_url', None))}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        return 130


def _quiet_broken_pipe() -> int:
    """Standard output was closed by its reader (`| head -1`): stop without a traceback, and
    without Python's own complaint when it flushes standard output at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a standard output with no file descriptor (a test's)
        pass
    return 141  # as a process killed by SIGPIPE, the way other tools end in a pipeline


if __name__ == "__main__":  # `python -m scheduler.cli`: run the one table, not a copy of it
    from scheduler import cli

    sys.exit(cli.main())
