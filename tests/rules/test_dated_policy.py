"""Dated policy versions: a council adds new values with the date they take effect
(`[[rules.ID.changes]]`, in the manner of OpenFisca's dated parameters), and an obligation is
judged by the values in force on the day it was triggered, so history stays right and a change
applies from its date, never retroactively.

The demonstration policy is Central Bedfordshire's with two changes from Monday 1 March 2027:
CB-RECORD's 24 hours become 48, CB-VISIT-10WD's 10 working days become 8. (The bundled file has
no dated change: the procedure says it was amended in March 2024 but not what it said before.)
Dates: Fri 26 Feb + 10 WD = 12 Mar; Mon 1 Mar + 8 WD = 11 Mar; 1 Mar + 10 WD = 15 Mar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scheduler.cli import main as seen
from scheduler.policies import HERE, load_policy
from scheduler.policy_show import catalogue
from scheduler.rules.policy import Policy, PolicyError, policy_from_toml
from tests.rules.builders import at, case, d, local, one, run, seen_cli, visit

CHANGES = """
[[rules.CB-RECORD.changes]]
from = 2027-03-01
within_hours = 48

[[rules.CB-VISIT-10WD.changes]]
from = 2027-03-01
interval_working_days = 8
"""


def dated_text(extra: str = CHANGES) -> str:
    return (HERE / "central-bedfordshire.toml").read_text(encoding="utf-8") + extra


def dated() -> Policy:
    return policy_from_toml(dated_text(), "dated.toml")


def test_cb_record_triggered_before_the_change_is_judged_by_the_old_value() -> None:
    """CB-RECORD: a visit on Fri 26 Feb, not recorded, is due 24 hours later (27 Feb 10:00),
    also when evaluated after the change; a visit on 1 Mar is due 48 hours later."""
    before = case("2027-02-01", visit("2027-02-26T10:00", recorded=None))
    assert one(run(dated(), before, "2027-03-02T09:00"), "CB-RECORD").due == at("2027-02-27T10:00")
    after = case("2027-02-01", visit("2027-03-01T10:00", recorded=None))
    assert one(run(dated(), after, "2027-03-01T12:00"), "CB-RECORD").due == at("2027-03-03T10:00")


def test_cb_record_dated_change_boundary_is_the_local_day() -> None:
    """CB-RECORD boundary: 23:59 London on 28 Feb is under the old 24 hours, 00:00 on 1 Mar
    under the new 48 (GMT, so London and UTC agree)."""
    late = case("2027-02-01", visit("2027-02-28T23:59", recorded=None))
    assert one(run(dated(), late, "2027-03-01T09:00"), "CB-RECORD").due == at("2027-03-01T23:59")
    first = case("2027-02-01", visit("2027-03-01T00:00", recorded=None))
    assert one(run(dated(), first, "2027-03-01T09:00"), "CB-RECORD").due == at("2027-03-03T00:00")


def test_cb_visit_10wd_interval_in_force_on_the_last_visit() -> None:
    """CB-VISIT-10WD: the last visit on Fri 26 Feb keeps 10 WD (12 Mar) after the change; a visit
    on Mon 1 Mar runs 8 WD (11 Mar). The bundled policy has 10 WD throughout (15 Mar)."""
    before = case("2027-02-01", visit("2027-02-26T10:00"))
    assert one(run(dated(), before, local("2027-03-02")), "CB-VISIT-10WD").due == d("2027-03-12")
    after = case("2027-02-01", visit("2027-03-01T10:00"))
    assert one(run(dated(), after, local("2027-03-02")), "CB-VISIT-10WD").due == d("2027-03-11")
    bundled = load_policy("central-bedfordshire")
    assert one(run(bundled, after, local("2027-03-02")), "CB-VISIT-10WD").due == d("2027-03-15")


def test_rule_on_gives_the_values_in_force_cb_record() -> None:
    """CB-RECORD: Rule.on(day) is the version in force; the first values stay in Rule.params."""
    rule = dated().rules["CB-RECORD"]
    assert rule.params.within_hours == 24
    assert rule.on(d("2027-02-28")).within_hours == 24
    assert rule.on(d("2027-03-01")).within_hours == 48


def test_policy_show_on_a_date_before_and_after_the_change(tmp_path) -> None:
    """CB-RECORD, CB-VISIT-10WD: `seen policy show FILE --on DATE` prints the numbers in force."""
    path = tmp_path / "dated.toml"
    path.write_text(dated_text(), encoding="utf-8")
    before = seen_cli("policy", "show", str(path), "--on", "2027-02-28")
    assert before.returncode == 0, before.stderr
    assert "numbers: within_hours = 24" in before.stdout
    assert "interval_working_days = 10," in before.stdout
    after = seen_cli("policy", "show", str(path), "--on", "2027-03-01")
    assert "numbers: within_hours = 48" in after.stdout
    assert "interval_working_days = 8," in after.stdout
    assert "from 2027-03-01: within_hours 24 -> 48" in after.stdout


def test_policy_show_prints_every_rule_with_its_source_and_deciders(capsys) -> None:
    """CB-NOTSEEN-DISCUSS, CB-ACCESS: the catalogue names each rule's source, owner and deciders."""
    assert seen(["policy", "show", "central-bedfordshire", "--on", "2027-01-04"]) == 0
    out = capsys.readouterr().out
    policy = load_policy("central-bedfordshire")
    assert all(f"{rule_id}  [" in out for rule_id in policy.rules)
    assert "CB-NOTSEEN-DISCUSS  [§3]  not_seen_discuss" in out
    assert "owner: practice manager; deciders: practice manager, head of service" in out
    assert "rules in force on 2027-01-04" in catalogue(policy, d("2027-01-04"))


def test_policy_show_bad_name_or_date_exits_2(capsys) -> None:
    """HI-VISIT-20WD: an unknown policy or a bad date is one line on stderr and exit 2."""
    assert seen(["policy", "show", "camelot"]) == 2
    assert "unknown policy 'camelot'" in capsys.readouterr().err
    result = seen_cli("policy", "show", "hillingdon", "--on", "2027-02-30")
    assert result.returncode == 2 and "--on" in result.stderr and "Traceback" not in result.stderr


def _bad(change: str) -> Callable[[], Any]:
    return lambda: policy_from_toml(dated_text(change), "dated.toml")


@pytest.mark.parametrize(
    "change,key",
    [
        (
            "[[rules.CB-RECORD.changes]]\nfrom = 2027-03-01\nwithin_days = 2\n",
            "rules.CB-RECORD.changes[0].within_days",
        ),
        (
            "[[rules.CB-RECORD.changes]]\nfrom = 2027-03-01\nwithin_hours = 0\n",
            "rules.CB-RECORD.changes[0].within_hours",
        ),
        (
            '[[rules.CB-RECORD.changes]]\nfrom = "March"\nwithin_hours = 48\n',
            "rules.CB-RECORD.changes[0].from",
        ),
        ("[[rules.CB-RECORD.changes]]\nwithin_hours = 48\n", "rules.CB-RECORD.changes[0].from"),
        ("[[rules.CB-RECORD.changes]]\nfrom = 2027-03-01\n", "rules.CB-RECORD.changes[0]"),
        (
            "[[rules.CB-RECORD.changes]]\nfrom = 2027-03-01\nwithin_hours = 48\n"
            "[[rules.CB-RECORD.changes]]\nfrom = 2027-03-01\nwithin_hours = 72\n",
            "rules.CB-RECORD.changes[1].from",
        ),
    ],
)
def test_a_broken_dated_change_names_the_key_cb_record(change: str, key: str) -> None:
    """CB-RECORD: a dated change of an unknown or bad parameter, without a date, changing
    nothing, or not after the change before it, is a PolicyError naming the key."""
    with pytest.raises(PolicyError) as exc:
        _bad(change)()
    assert str(exc.value).startswith(key), str(exc.value)
