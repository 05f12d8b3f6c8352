"""`seen evaluate` and `seen explain`: the engine on one case file, no database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from scheduler.policies import load_policy
from scheduler.rules.casefile import CaseFile, parse_case_json
from scheduler.rules.engine import evaluate
from scheduler.rules.explain import explain_text
from scheduler.rules.policy import Policy
from scheduler.usage import UsageError

# A case file is one child's record: a few KB, a few hundred KB for a child known for decades. The
# input is read up to this and no further (`seen evaluate /dev/zero` ran out of memory).
MAX_CASE_FILE_BYTES = 10 * 1024 * 1024


def case_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="case file (JSON); standard input when absent or -")
    p.add_argument("--policy", help="bundled policy name or path to a policy .toml (overrides the file's)")


def _bounded_read(stream: BinaryIO | TextIO, name: str) -> str:
    data = stream.read(MAX_CASE_FILE_BYTES + 1)
    if len(data) > MAX_CASE_FILE_BYTES:
        raise UsageError(f"case file: {name} is over {MAX_CASE_FILE_BYTES // (1024 * 1024)} MiB")
    if isinstance(data, str):  # a text stream standing in for standard input
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"case file: {name} is not UTF-8 text") from None


def read_case_input(path: str | None) -> str:
    """The case file's text, from `path` or standard input; at most MAX_CASE_FILE_BYTES."""
    if path in (None, "-"):
        if sys.stdin.isatty():
            raise UsageError("case file: give a FILE or pipe the case file on standard input")
        return _bounded_read(getattr(sys.stdin, "buffer", sys.stdin), "standard input")
    try:
        with Path(path).open("rb") as f:
            return _bounded_read(f, path)
    except OSError as exc:
        raise UsageError(f"case file: cannot read {path}: {exc.strerror or exc}") from None


def _case_and_policy(args: argparse.Namespace) -> tuple[CaseFile, Policy]:
    case_file = parse_case_json(read_case_input(args.file))
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
