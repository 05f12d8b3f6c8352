"""Fuzz: case files (DESIGN.md's contract) through `seen evaluate` and `seen explain`, in process
(scheduler.cli.main with the case file on standard input). Every input exits 0 with JSON on
standard output, or 2 with exactly one line on standard error naming what was wrong; never a
traceback, never another exit code."""

from __future__ import annotations

import io
import json
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import Any
from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st

from scheduler.cli import main
from scheduler.rules.casefile import DECISION_OUTCOMES
from scheduler.rules.model import CONTACT_KINDS, ROLES, SEEN_ALONE
from tests.fuzz.strategies import EDGE_DATES, EDGE_INSTANTS, long_text, mutated_json
from tests.fuzz.tally import TALLY, fuzz_settings, looks_like_traceback
from tests.rules.builders import case_json

# The DESIGN.md worked example under Central Bedfordshire, with a second home visit where no one was
# home and no note was left.
CASE = case_json(
    policy="central-bedfordshire",
    contacts=[
        *case_json()["contacts"],
        {
            "at": "2026-12-18T10:30:00+00:00",
            "kind": "home_visit",
            "by": "duty_social_worker",
            "child_seen": False,
            "no_one_home": True,
            "note_left": False,
            "note_not_left_reason": "domestic abuse",
        },
    ],
)
# Values of the contract in the wrong places, and edge values of its types.
EXTRA = [
    "hillingdon",
    "central-bedfordshire",
    "no-such-policy",
    "/dev/null",
    *EDGE_DATES,
    *EDGE_INSTANTS,
    *CONTACT_KINDS,
    *ROLES,
    *SEEN_ALONE,
    *DECISION_OUTCOMES,
    "HI-VISIT-20WD",
    "cb-notseen-discuss",
    11,
    20,
    21,
    0,
    -1,
    2**63,
    True,
    False,
    [],
    {},
]
RAW = [
    "",
    " ",
    "not json",
    "{",
    "null",
    "[]",
    '"a string"',
    "1" * 5000,  # more digits than int() takes
    '{"plan": ' + "9" * 5000 + "}",
    "[" * 100_000,  # deeper than the JSON decoder recurses
    '{"a": ' * 50_000,
    '{"policy": NaN}',
    '{"policy": Infinity}',
    '{"policy": "central-bedfordshire", "policy": "hillingdon"}',
    "\ufeff{}",
    '"\\ud800"',
]
ERROR_LINE = re.compile(r"^seen (evaluate|explain): \S[^\n]*$")


@st.composite
def case_text(draw: st.DrawFn) -> str:
    shape = draw(st.integers(0, 19))
    if shape == 0:
        return draw(st.sampled_from(RAW))
    if shape == 1:
        return draw(st.text(max_size=80) | long_text(100, 3000))
    case: Any = CASE
    if shape == 2:
        case = dict(CASE, policy="hillingdon")
    doc = draw(mutated_json(case, max_mutations=3, extra=EXTRA))
    return json.dumps(doc, indent=draw(st.sampled_from([None, 2])))


def run_cli(argv: list[str], stdin: str) -> tuple[int | None, str, str, bool]:
    """(exit code, stdout, stderr, raised): `main` run as the `seen` command runs it."""
    out, err = io.StringIO(), io.StringIO()
    raised = False
    with mock.patch.object(sys, "stdin", io.StringIO(stdin)), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException as exc:  # what the command line would show as a traceback
            raised = True
            code = None
            err.write(f"{type(exc).__name__}: {exc}")
    return code, out.getvalue(), err.getvalue(), raised


@given(text=case_text(), command=st.sampled_from(["evaluate", "evaluate", "evaluate", "explain"]))
@fuzz_settings(900)
@example(text="[" * 100_000, command="evaluate")
@example(text="1" * 5000, command="evaluate")
@example(text=json.dumps(dict(CASE, as_of="0001-01-01T00:00:00+00:00")), command="evaluate")
@example(text=json.dumps(dict(CASE, plan=dict(CASE["plan"], started="0001-01-01"))), command="evaluate")
@example(text=json.dumps(dict(CASE, plan=dict(CASE["plan"], started="9999-12-31"))), command="evaluate")
def test_seen_evaluate_exits_0_or_2_with_one_line(text: str, command: str) -> None:
    code, out, err, raised = run_cli([command, "-"], text)
    traceback = raised or looks_like_traceback(err) or code not in (0, 2)
    TALLY.record(f"casefile/{command}", traceback=traceback, accepted=code == 0)
    assert not traceback, (code, err[-2000:])
    if code == 0:
        assert err == ""
        if command == "evaluate":
            result = json.loads(out)
            assert set(result) == {"child", "policy", "as_of", "obligations"}
    else:
        assert out == ""
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert ERROR_LINE.match(err.rstrip("\n")), err
