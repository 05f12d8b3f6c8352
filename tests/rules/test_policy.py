"""Policies as validated TOML: both bundled policies load with every rule ID of RULES.md, and a
broken policy raises PolicyError naming the key, e.g. `rules.CB-VISIT-10WD.interval_working_days`.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from scheduler.policies import HERE, bundled_names, load_policy
from scheduler.rules.engine import evaluate
from scheduler.rules.policy import PolicyError, policy_from_mapping, policy_from_toml
from tests.rules.builders import WORKED_EXAMPLE, case, d, local, seen_cli, visit

CB_IDS = [
    "CB-VISIT-10WD", "CB-FREQ-FLOOR", "CB-FREQ-CHANGE", "CB-BEDROOM-ALT", "CB-SEEN-ALONE",
    "CB-BABY-AWAKE", "CB-RECORD", "CB-RISK-WORSE", "CB-NEW-INJURY", "CB-NOTSEEN-DISCUSS",
    "CB-NOTSEEN-REVISIT", "CB-NOTSEEN-AGAIN", "CB-ACCESS", "CB-20CD-LSW", "CB-30WD-ANY",
    "CB-STEPDOWN",
]  # fmt: skip
HI_IDS = [
    "HI-QUALIFIED", "HI-INITIAL-1WK", "HI-OUTCOME", "HI-RECORD-24H", "HI-NOONE-NOTE",
    "HI-VISIT-20WD", "HI-NOTSEEN-REVISIT", "HI-AWAY", "HI-BEFORE-REVIEW", "HI-BEFORE-CG",
    "HI-SEEN-ALONE",
]  # fmt: skip


def bundled(name: str) -> dict[str, Any]:
    return tomllib.loads((HERE / f"{name}.toml").read_text(encoding="utf-8"))


def test_bundled_policies_are_the_two_of_rules_md() -> None:
    assert bundled_names() == ["central-bedfordshire", "hillingdon"]


def test_central_bedfordshire_loads_with_every_cb_rule_id() -> None:
    policy = load_policy("central-bedfordshire")
    assert policy.id == "central-bedfordshire"
    assert str(policy.timezone) == "Europe/London"
    assert sorted(policy.rules) == sorted(CB_IDS)
    assert policy.rules["CB-VISIT-10WD"].params.interval_working_days == 10
    assert policy.rules["CB-NOTSEEN-REVISIT"].params.max_working_days == 5
    assert policy.rules["CB-20CD-LSW"].params.calendar_days == 20
    assert policy.rules["CB-30WD-ANY"].params.working_days == 30
    assert policy.rules["CB-SEEN-ALONE"].params.consecutive_visits == 2
    assert policy.rules["CB-SEEN-ALONE"].params.min_age_years == 4
    assert policy.rules["CB-BABY-AWAKE"].params.baby_under_months == 18
    assert policy.rules["CB-RECORD"].params.within_hours == 24
    assert policy.rules["CB-STEPDOWN"].params.long_plan_months == 15
    assert policy.max_interval() == (10, "CB-FREQ-FLOOR")
    assert policy.require_qualified is False
    assert policy.social_worker_roles == {"lead_social_worker", "duty_social_worker"}


def test_hillingdon_loads_with_every_hi_rule_id() -> None:
    policy = load_policy("hillingdon")
    assert policy.id == "hillingdon"
    assert sorted(policy.rules) == sorted(HI_IDS)
    assert policy.rules["HI-VISIT-20WD"].params.interval_working_days == 20
    assert policy.rules["HI-INITIAL-1WK"].params.within_days == 7
    assert policy.rules["HI-RECORD-24H"].params.within_hours == 24
    assert policy.rules["HI-NOTSEEN-REVISIT"].params.at_risk_working_days == 3
    assert policy.rules["HI-OUTCOME"].params.seen == "successful statutory visit"
    assert policy.rules["HI-OUTCOME"].params.not_seen == "unsuccessful statutory visit"
    assert policy.max_interval() == (20, "HI-VISIT-20WD")
    assert policy.require_qualified is True  # HI-QUALIFIED


# -- broken policies name the key --------------------------------------------------------------
def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        table = data
        for p in path[:-1]:
            table = table[p]
        del table[path[-1]]

    return change


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        table = data
        for p in path[:-1]:
            table = table[p]
        table[path[-1]] = value

    return change


BROKEN: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    # (policy, what, change, key the message must name)
    ("central-bedfordshire", "missing rule parameter",
     _drop(("rules", "CB-VISIT-10WD", "interval_working_days")),
     "rules.CB-VISIT-10WD.interval_working_days"),
    ("central-bedfordshire", "unknown rule parameter",
     _set(("rules", "CB-VISIT-10WD", "interval_days"), 10), "rules.CB-VISIT-10WD.interval_days"),
    ("central-bedfordshire", "wrong type: string for a number",
     _set(("rules", "CB-VISIT-10WD", "interval_working_days"), "10"),
     "rules.CB-VISIT-10WD.interval_working_days"),
    ("central-bedfordshire", "wrong type: boolean for a number",
     _set(("rules", "CB-NOTSEEN-REVISIT", "max_working_days"), True),
     "rules.CB-NOTSEEN-REVISIT.max_working_days"),
    ("central-bedfordshire", "zero interval",
     _set(("rules", "CB-VISIT-10WD", "interval_working_days"), 0),
     "rules.CB-VISIT-10WD.interval_working_days"),
    ("hillingdon", "HI-NOTSEEN-REVISIT: a number too large for date arithmetic",
     _set(("rules", "HI-NOTSEEN-REVISIT", "at_risk_working_days"), 99999999999999999999),
     "rules.HI-NOTSEEN-REVISIT.at_risk_working_days"),
    ("central-bedfordshire", "bad enumeration",
     _set(("rules", "CB-VISIT-10WD", "first_due_from"), "tomorrow"),
     "rules.CB-VISIT-10WD.first_due_from"),
    ("central-bedfordshire", "unknown kind",
     _set(("rules", "CB-VISIT-10WD", "kind"), "home_visit_every"), "rules.CB-VISIT-10WD.kind"),
    ("central-bedfordshire", "missing kind", _drop(("rules", "CB-RECORD", "kind")),
     "rules.CB-RECORD.kind"),
    ("hillingdon", "bad role in a role list",
     _set(("rules", "HI-VISIT-20WD"),
          {"kind": "frequency_change", "source": "§7", "summary": "x", "deciders": ["boss"]}),
     "rules.HI-VISIT-20WD.deciders"),
    ("central-bedfordshire", "every rule says where it comes from",
     _drop(("rules", "CB-RECORD", "source")), "rules.CB-RECORD.source"),
    ("hillingdon", "a summary is one line",
     _set(("rules", "HI-AWAY", "summary"), "two\nlines"), "rules.HI-AWAY.summary"),
    ("central-bedfordshire", "R1: a rule taking decisions names its deciders",
     _drop(("rules", "CB-NOTSEEN-DISCUSS", "deciders")), "rules.CB-NOTSEEN-DISCUSS.deciders"),
    ("hillingdon", "bad role in the visits table",
     _set(("visits", "social_worker_roles"), ["lead_social_worker", "student"]),
     "visits.social_worker_roles"),
    ("hillingdon", "bad role on the ladder",
     _set(("ladder", "steps"), [{"to": "director", "after_hours": 4, "from": "prompt"}]),
     "ladder.steps[0].to"),
    ("hillingdon", "bad timezone", _set(("timezone",), "Europe/Atlantis"), "timezone"),
    ("hillingdon", "missing timezone", _drop(("timezone",)), "timezone"),
    ("hillingdon", "missing calendar table", _drop(("calendar",)), "calendar"),
    ("hillingdon", "missing calendar key", _drop(("calendar", "closure_days")),
     "calendar.closure_days"),
    ("hillingdon", "bad closure day", _set(("calendar", "closure_days"), ["2026-13-01"]),
     "calendar.closure_days"),
    ("hillingdon", "unknown country", _set(("calendar", "country"), "XX"), "calendar.country"),
    ("hillingdon", "bad clock time", _set(("reminders", "morning_of"), "half past eight"),
     "reminders.morning_of"),
    ("hillingdon", "wrong type for a flag", _set(("visits", "require_qualified"), "yes"),
     "visits.require_qualified"),
    ("hillingdon", "unknown table", _set(("extras",), {"a": 1}), "extras"),
    ("hillingdon", "unknown key in a table", _set(("reminders", "colour"), "red"),
     "reminders.colour"),
    ("hillingdon", "bad rule ID", _set(("rules", "hi visit"), {"kind": "qualified_visitor"}),
     "rules.hi visit"),
    ("hillingdon", "missing outcome label", _drop(("rules", "HI-OUTCOME", "seen")),
     "rules.HI-OUTCOME.seen"),
    ("hillingdon", "bad meetings enumeration",
     _set(("rules", "HI-BEFORE-CG", "meetings"), "strategy_meetings"),
     "rules.HI-BEFORE-CG.meetings"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "change", "key"),
    [pytest.param(n, c, k, id=what) for n, what, c, k in BROKEN],
)
def test_broken_policy_names_the_key(name: str, change: Callable[[dict[str, Any]], None], key: str) -> None:
    data = copy.deepcopy(bundled(name))
    change(data)
    with pytest.raises(PolicyError) as raised:
        policy_from_mapping(data)
    message = str(raised.value)
    # top-level keys are named bare or as `policy.<key>`
    assert message.startswith((key, f"policy.{key}")), message


def test_no_rules_is_an_error() -> None:
    data = bundled("hillingdon")
    data["rules"] = {}
    with pytest.raises(PolicyError, match=r"^rules"):
        policy_from_mapping(data)


def test_not_toml_is_an_error() -> None:
    with pytest.raises(PolicyError, match="not valid TOML"):
        policy_from_toml("id = = 3", "council.toml")


def test_unknown_policy_name() -> None:
    with pytest.raises(PolicyError, match=r"^policy: unknown policy 'camelot'"):
        load_policy("camelot")


# -- a council's own policy file ---------------------------------------------------------------
def own_policy_text() -> str:
    """A council's own file: the bundled CB settings (calendar, reminders, ladder) with its own id,
    a Christmas shutdown 29-31 Dec 2026, and one rule of its own under its own ID."""
    text = (HERE / "central-bedfordshire.toml").read_text(encoding="utf-8")
    head = text[: text.index("[rules.")]
    head = head.replace('id = "central-bedfordshire"', 'id = "exampleshire"')
    head = head.replace("closure_days = []", 'closure_days = ["2026-12-29", "2026-12-30", "2026-12-31"]')
    assert 'id = "exampleshire"' in head and "2026-12-29" in head
    return head + (
        "[rules.EX-VISIT-15WD]\n"
        'source = "§1"\n'
        'summary = "A home visit at least every 15 working days"\n'
        'kind = "home_visit_interval"\n'
        "interval_working_days = 15\n"
        'first_due_from = "plan_start"\n'
    )


def test_a_councils_own_policy_file_by_path(tmp_path) -> None:
    """A council reuses the rule kinds under its own IDs and closure days: a home visit on
    21 Dec 2026 + 15 WD, 29-31 Dec closed: 22-24 Dec (3), 4-8 Jan (8), 11-15 (13), 18-19 (15)."""
    path = tmp_path / "exampleshire.toml"
    path.write_text(own_policy_text(), encoding="utf-8")
    policy = load_policy(str(path))
    c = case("2026-12-17", visit("2026-12-21T10:30"))
    [o] = evaluate(policy, c, local("2026-12-22", "12:00"))
    assert (o.rule, o.due, o.status, o.owner) == (
        "EX-VISIT-15WD", d("2027-01-19"), "due", "lead_social_worker",
    )  # fmt: skip


def test_seen_evaluate_with_policy_path(tmp_path) -> None:
    """`seen evaluate --policy path.toml` overrides the case file's policy."""
    path = tmp_path / "exampleshire.toml"
    path.write_text(own_policy_text(), encoding="utf-8")
    result = seen_cli("evaluate", "--policy", str(path), stdin=WORKED_EXAMPLE)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["policy"] == "exampleshire"
    assert [(o["rule"], o["due"], o["status"]) for o in out["obligations"]] == [
        ("EX-VISIT-15WD", "2027-01-19", "due")
    ]


def test_case_file_policy_field_may_be_a_path(tmp_path) -> None:
    path = tmp_path / "exampleshire.toml"
    path.write_text(own_policy_text(), encoding="utf-8")
    data = json.loads(WORKED_EXAMPLE)
    data["policy"] = str(path)
    result = seen_cli("evaluate", stdin=json.dumps(data))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["obligations"][0]["due"] == "2027-01-19"


def test_seen_evaluate_with_a_broken_policy_file(tmp_path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(own_policy_text().replace("interval_working_days = 15", ""), encoding="utf-8")
    result = seen_cli("evaluate", "--policy", str(path), stdin=WORKED_EXAMPLE)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "rules.EX-VISIT-15WD.interval_working_days" in lines[0]
    assert "Traceback" not in result.stderr
