"""The `seen` command. Bad input exits 2 with one line on stderr naming what was wrong."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from scheduler import policy_show
from scheduler.policies import load_policy
from scheduler.rules.casefile import CaseFile, CaseFileError, parse_case_json
from scheduler.rules.engine import CaseError, evaluate
from scheduler.rules.explain import explain_text
from scheduler.rules.policy import Policy, PolicyError


class UsageError(Exception):
    """A bad argument or input file: printed as one line, exit 2."""


def _read_input(path: str | None) -> str:
    if path in (None, "-"):
        if sys.stdin.isatty():
            raise UsageError("case file: give a FILE or pipe the case file on standard input")
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"case file: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _case_and_policy(args: argparse.Namespace) -> tuple[CaseFile, Policy]:
    case_file = parse_case_json(_read_input(args.file))
    policy = load_policy(args.policy or case_file.policy)
    return case_file, policy


def cmd_evaluate(args: argparse.Namespace) -> int:
    case_file, policy = _case_and_policy(args)
    obligations = evaluate(policy, case_file.case, case_file.as_of)
    out = {
        "child": case_file.case.child.ref,
        "policy": policy.id,
        "as_of": case_file.as_of.isoformat(),
        "obligations": [o.as_json() for o in obligations],
    }
    print(json.dumps(out, indent=2))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    case_file, policy = _case_and_policy(args)
    obligations = evaluate(policy, case_file.case, case_file.as_of)
    print(explain_text(policy, case_file.case, case_file.as_of, obligations))
    return 0


def _add_case_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="case file (JSON); standard input when absent or -")
    p.add_argument("--policy", help="bundled policy name or path to a policy .toml (overrides the file's)")


COMMANDS: dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {
    "evaluate": ("print a case's open obligations as JSON", _add_case_args, cmd_evaluate),
    "explain": ("say in words why each obligation is due", _add_case_args, cmd_explain),
    "policy": ("policy show NAME [--on DATE]: the rule catalogue", policy_show.add_args, policy_show.run),
}


def register(
    name: str,
    help_text: str,
    add_args: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> None:
    COMMANDS[name] = (help_text, add_args, run)


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = argparse.ArgumentParser(prog="seen", description="Every child on a plan seen on time.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_args, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
        p.set_defaults(run=run)
    return parser


def _load_commands() -> None:
    """Commands that need storage or the bot register themselves from their own modules."""
    import scheduler.commands  # noqa: F401


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line usage error
        return int(exc.code or 0) and 2
    try:
        return args.run(args)
    except (UsageError, CaseFileError, CaseError, PolicyError) as exc:
        print(f"seen {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # `python -m scheduler.cli`: run the one registry, not a copy of it
    from scheduler import cli

    sys.exit(cli.main())
