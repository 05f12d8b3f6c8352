"""Reusable case files, one or more per rule ID (tests/rules/cases/NAME.json, in the DESIGN.md
case-file format), each run through `seen evaluate` as a separate process and compared with the
hand-checked NAME.expected.json beside it.

An expected file holds a `note` with the hand computation and either `obligations` (each rule,
due, status, owner, and optionally `summary_contains`) or `exit` and `stderr_names` for a case the
engine must refuse.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.rules.builders import ALL_RULE_IDS, CASES, REPO

CASE_FILES = sorted(p for p in CASES.glob("*.json") if not p.name.endswith(".expected.json"))


def _evaluate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "evaluate", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case file through `seen evaluate`, a few processes at a time."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((p.stem for p in CASE_FILES), pool.map(_evaluate, CASE_FILES), strict=True))


def _expected(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(f"{path.stem}.expected.json").read_text(encoding="utf-8"))


def _due_key(due: str) -> str:
    """An obligation's deadline as a comparable UTC-ish text (a date is the end of its day)."""
    return due if "T" in due else f"{due}T23:59:59"


def test_every_rule_id_has_a_case_file() -> None:
    """Every rule ID of RULES.md has a case file named after it."""
    names = {p.stem.upper() for p in CASE_FILES}
    assert names >= ALL_RULE_IDS, sorted(ALL_RULE_IDS - names)


def test_every_case_has_its_expected_file() -> None:
    for path in CASE_FILES:
        assert path.with_name(f"{path.stem}.expected.json").is_file(), path.name
        assert _expected(path)["note"], path.name


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem.upper() for p in CASE_FILES])
def test_seen_evaluate_matches_the_hand_checked_obligations(path: Path, results) -> None:
    """Each rule ID's case file (the test id is the rule ID) gives exactly the obligations
    worked out by hand from RULES.md."""
    expected = _expected(path)
    result = results[path.stem]
    assert "Traceback" not in result.stderr
    if "exit" in expected:
        assert result.returncode == expected["exit"], result.stdout
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        for name in expected["stderr_names"]:
            assert name in lines[0], lines[0]
        return
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert out["child"] == data["child"]["ref"]
    assert out["policy"] == data["policy"]
    got = out["obligations"]
    want = expected["obligations"]

    def core(o: dict[str, Any]) -> tuple[str, str, str, str]:
        return (o["rule"], o["due"], o["status"], o["owner"])

    assert sorted(map(core, got)) == sorted(map(core, want)), expected["note"]
    keys = [_due_key(o["due"]) for o in got]
    assert keys == sorted(keys), "obligations are listed by deadline"
    for o in got:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d\+00:00)?", o["due"]), o["due"]
        assert o["summary"]
    for w in want:
        needles = w.get("summary_contains", [])
        for needle in [needles] if isinstance(needles, str) else needles:
            matching = [o for o in got if core(o) == core(w)]
            assert any(needle in o["summary"] for o in matching), (needle, matching)
