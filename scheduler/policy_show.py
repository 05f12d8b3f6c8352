"""`seen policy show NAME [--on DATE]`: a policy's rule catalogue as in force on a date.

For each rule: its ID, where in the procedure it comes from, its one-line summary, its kind, its
numbers (the values in force on the date, and any dated change), who its obligations are owed by
and who may decide under it (RULES.md R1). NAME is a bundled policy or a path to a .toml file;
--on defaults to today in the policy's time zone.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from scheduler.policies import load_policy
from scheduler.rules.kinds import KINDS
from scheduler.rules.policy import Policy, Rule


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["show"], help="show: print the rule catalogue")
    p.add_argument("name", metavar="NAME", help="bundled policy name or path to a policy .toml")
    p.add_argument(
        "--on", metavar="YYYY-MM-DD", type=_day, help="the values in force on this date (default today)"
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, not {text!r}") from None


def _value(value: Any) -> str:
    return ", ".join(value) if isinstance(value, tuple) else str(value)


def _words(roles: Sequence[str]) -> str:
    return ", ".join(r.replace("_", " ") for r in roles) or "-"


def _numbers(rule: Rule, on: date) -> str:
    values = {k: v for k, v in asdict(rule.on(on)).items() if v is not None}
    return ", ".join(f"{k} = {_value(v)}" for k, v in values.items()) or "-"


def _changes(rule: Rule) -> list[str]:
    lines = []
    before = asdict(rule.params)
    for since, params in rule.changes:
        after = asdict(params)
        moved = [f"{k} {before[k]} -> {after[k]}" for k in after if after[k] != before[k]]
        lines.append(f"    from {since}: {', '.join(moved)}")
        before = after
    return lines


def catalogue(policy: Policy, on: date) -> str:
    """The rule catalogue of `policy` as in force on `on`, one block per rule."""
    lines = [
        f"{policy.id}: {policy.name}",
        f"rules in force on {on} ({len(policy.rules)}); time zone {policy.timezone}",
    ]
    for rule in policy.rules.values():
        kind = KINDS[rule.kind]
        lines += [
            "",
            f"{rule.id}  [{rule.source}]  {rule.kind}",
            f"  {rule.summary}",
            f"  numbers: {_numbers(rule, on)}",
            f"  owner: {_words(kind.owners)}; deciders: {_words(rule.deciders)}",
        ]
        if rule.changes:
            lines.append("  dated changes:")
            lines += _changes(rule)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.name)
    on = args.on or datetime.now(policy.timezone).date()
    print(catalogue(policy, on))
    return 0
