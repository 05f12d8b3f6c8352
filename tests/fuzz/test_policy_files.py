"""Fuzz: policy files (scheduler.rules.policy.policy_from_toml). The bundled policies with lines
changed (a value replaced by another type, an edge value or another key's value; a line deleted,
repeated or garbled; a key or table renamed) and as documents with their structure mutated. Every
file loads, or raises PolicyError naming the key (or saying the TOML cannot be read): one line,
never another exception."""

from __future__ import annotations

import json
import math
import re
import tomllib
from datetime import date
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from scheduler.policies import HERE, bundled_names
from scheduler.rules.casefile import parse_case_mapping
from scheduler.rules.engine import evaluate
from scheduler.rules.policy import Policy, PolicyError, policy_from_toml
from tests.fuzz.strategies import mutated_json
from tests.fuzz.tally import TALLY, fuzz_settings, looks_like_traceback

BUNDLED = {name: (HERE / f"{name}.toml").read_text(encoding="utf-8") for name in bundled_names()}
TOML_VALUES = [
    '"x"',
    '""',
    '" "',
    "-1",
    "0",
    "1",
    "4",
    "99999999999999999999",
    "1.5",
    "nan",
    "inf",
    "true",
    "false",
    "[]",
    '[1, "a"]',
    "[[]]",
    "{}",
    '{ to = "owner" }',
    "1979-05-27",
    "1979-05-27T07:32:00",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    '"Europe/Atlantis"',
    '"../../../../etc/passwd"',
    '"/"',
    '"' + "a" * 300 + '"',
    '"UTC"',
    '"Etc/GMT+14"',
    '"ZZ"',
    '"GB"',
    '"XYZ"',
    '"team_manager"',
    '"owner"',
    '"deadline"',
    '"prompt"',
    '"cp_chair"',
    '["cp_chair", "nobody"]',
    '["2026-13-01"]',
    '["2026-12-25", 5]',
    "[2026-12-25, 2026-12-28]",
    "[1979-05-27T07:32:00]",
    '"\\u0000"',
    '"25:00"',
    '"8:30pm"',
    '"home_visit_interval"',
    '"frequency_floor"',
    '"no_such_kind"',
    '"plan_start"',
    '"review_conferences"',
]
GARBAGE = [
    "[",
    "]]",
    "= 1",
    "[rules.]",
    "[rules.cb-lower]",
    "[rules.CB-X]",
    "[extra]",
    "x = ",
    '"unterminated',
    "\x00",
]
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_\-]+)(\s*=\s*)(.*)$")
TABLE_LINE = re.compile(r"^\[([^\]]+)\]")


@st.composite
def policy_text(draw: st.DrawFn) -> tuple[str, str | None]:
    """(text, "table.key" whose value was replaced ("" for the top-level table), when that was the
    only change)."""
    lines = draw(st.sampled_from(sorted(BUNDLED.values()))).splitlines()
    replaced: str | None = None
    n = draw(st.integers(1, 3))
    for _ in range(n):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "value", "delete", "repeat", "garbage", "rename"]))
        if op == "value" and (m := KEY_LINE.match(lines[i])):
            lines[i] = m[1] + m[2] + m[3] + draw(st.sampled_from(TOML_VALUES))
            table = next((t[1] for line in reversed(lines[:i]) if (t := TABLE_LINE.match(line))), "")
            replaced = f"{table}.{m[2]}" if n == 1 else None
        elif op == "delete":
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        elif op == "garbage":
            lines.insert(i, draw(st.sampled_from(GARBAGE) | st.text(max_size=20)))
        elif op == "rename" and (m := KEY_LINE.match(lines[i]) or TABLE_LINE.match(lines[i])):
            new = draw(st.sampled_from(["kind", "id", "steps", "unknown_key", "RULES", "rules.CB-NEW"]))
            lines[i] = lines[i].replace(m[2] if m.re is KEY_LINE else m[1], new, 1)
    return "\n".join(lines) + "\n", replaced


def _toml(value: Any) -> str:
    """A value as TOML (inline tables and arrays; None is left out, as TOML has no null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value if v is not None) + "]"
    items = ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items() if v is not None)
    return "{ " + items + " }"


@st.composite
def policy_document(draw: st.DrawFn) -> str:
    """A bundled policy read, its structure mutated, and written back as TOML."""
    data = tomllib.loads(draw(st.sampled_from(sorted(BUNDLED.values()))))
    doc = draw(mutated_json(data, max_mutations=3, extra=[json.loads(v) for v in TOML_VALUES if _is_json(v)]))
    if not isinstance(doc, dict):
        return f"value = {_toml(doc)}\n" if doc is not None else ""
    return "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in doc.items() if v is not None)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


KEY_PATH = re.compile(r"^(policy: not valid TOML: |\S.*?: )")  # "<key>: <what is wrong>"


CASE = parse_case_mapping(
    {
        "policy": "any",
        "as_of": "2026-12-22T09:00:00+00:00",
        "child": {"ref": "C-1042", "date_of_birth": "2025-09-01"},
        "plan": {"started": "2026-11-02", "review_conferences": ["2027-01-20"], "core_group_meetings": []},
        "contacts": [
            {
                "at": "2026-11-20T10:30:00+00:00",
                "kind": "home_visit",
                "by": "lead_social_worker",
                "child_seen": False,
            },
            {
                "at": "2026-11-05T10:30:00+00:00",
                "kind": "home_visit",
                "by": "lead_social_worker",
                "child_seen": True,
                "seen_alone": "no",
                "seen_alone_reason": "asleep",
                "bedroom_seen": False,
            },
        ],
    }
)


def usable(policy: Policy) -> None:
    """A policy that loads can be used: the engine evaluates a case under it, and its calendar
    counts working days."""
    evaluate(policy, CASE.case, CASE.as_of)
    assert policy.calendar.add_working_days(date(2026, 12, 24), 1) > date(2026, 12, 24)
    assert all(type(d) is date for d in policy.calendar.closure_days)  # else no day would match


def _check(text: str, replaced: str | None, test: str) -> None:
    traceback = False
    accepted = True
    try:
        try:
            policy = policy_from_toml(text)
            assert isinstance(policy, Policy)
            usable(policy)
        except PolicyError as exc:
            accepted = False
            message = str(exc)
            assert "\n" not in message and KEY_PATH.match(message), message
            assert not looks_like_traceback(message), message
            if replaced and not message.startswith("policy: not valid TOML"):
                table, key = replaced.rsplit(".", 1)
                assert key in message or (table and table in message), (replaced, message)
        except Exception:
            traceback = True
            raise
    finally:
        TALLY.record(test, traceback=traceback, accepted=accepted)


@given(case=policy_text())
@fuzz_settings(900)
@example(case=(BUNDLED["hillingdon"].replace('"Europe/London"', '"' + "a" * 300 + '"'), ".timezone"))
@example(case=(BUNDLED["hillingdon"].replace('"Europe/London"', '"Europe/London\\u0000"'), ".timezone"))
@example(
    case=(BUNDLED["hillingdon"].replace('subdivision = "ENG"', 'subdivision = "XYZ"'), "calendar.subdivision")
)
@example(
    case=(BUNDLED["hillingdon"].replace("closure_days = []", "closure_days = [2026-12-24T00:00:00]"), None)
)
def test_policy_file_loads_or_names_the_key(case: tuple[str, str | None]) -> None:
    text, replaced = case
    _check(text, replaced, "policy/lines")


@given(text=policy_document())
@fuzz_settings(500)
def test_policy_document_loads_or_names_the_key(text: str) -> None:
    _check(text, None, "policy/structure")
