"""Working hours (scheduler/rules/hours.py, a policy's [working_hours] and [out_of_hours]): 08:30 up
to 17:30 London time on the policy's working days (weekends, England & Wales bank holidays and local
closure days are out), and which prompts are urgent out of hours. Every expected instant below is
worked out by hand from a printed calendar; UTC is London time in winter (GMT) and an hour behind
it in summer (BST)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time

import pytest

from scheduler.policies import HERE, load_policy
from scheduler.rules.hours import WorkingHours
from scheduler.rules.policy import PolicyError, policy_from_mapping, policy_from_toml

CB = load_policy("central-bedfordshire")
HOURS = CB.working_hours


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def is_open(at: datetime) -> bool:
    return HOURS.is_open(at, CB.timezone, CB.calendar)


def next_open(at: datetime) -> datetime:
    return HOURS.next_open(at, CB.timezone, CB.calendar)


def test_bundled_policies_work_08_30_to_17_30_and_name_no_channel() -> None:
    """Both bundled policies: 08:30 to 17:30; no out-of-hours channel until a council names one;
    the urgent prompts are those of a child not seen, risk worsened and a new injury."""
    hi = load_policy("hillingdon")
    for policy in (CB, hi):
        assert (policy.working_hours.start, policy.working_hours.end) == (time(8, 30), time(17, 30))
        assert policy.working_hours.out_of_hours_channel is None
    assert CB.working_hours.urgent_rules == {
        "CB-NOTSEEN-DISCUSS",
        "CB-NOTSEEN-AGAIN",
        "CB-RISK-WORSE",
        "CB-NEW-INJURY",
    }
    assert hi.working_hours.urgent_rules == {"HI-NOTSEEN-REVISIT"}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 11, 26, 8, 29), False),  # Thursday, GMT: before the start
        (utc(2026, 11, 26, 8, 30), True),  # the start itself is in
        (utc(2026, 11, 26, 17, 29), True),
        (utc(2026, 11, 26, 17, 30), False),  # the end itself is out
        (utc(2026, 7, 16, 16, 29), True),  # Thursday, BST: 17:29 London
        (utc(2026, 7, 16, 16, 30), False),  # 17:30 London
        (utc(2026, 7, 16, 7, 29), False),  # 08:29 London
        (utc(2026, 11, 28, 12), False),  # Saturday
        (utc(2026, 12, 28, 12), False),  # Boxing Day's substitute bank holiday
    ],
)
def test_within_working_hours_boundaries(at: datetime, expected: bool) -> None:
    assert is_open(at) is expected


@pytest.mark.parametrize(
    ("at", "expected", "why"),
    [
        (utc(2026, 11, 26, 17, 29), utc(2026, 11, 26, 17, 29), "17:29 is within: unchanged"),
        (utc(2026, 11, 26, 17, 30), utc(2026, 11, 27, 8, 30), "17:30 Thursday: Friday 08:30"),
        (utc(2026, 11, 26, 6), utc(2026, 11, 26, 8, 30), "early Thursday: the same morning"),
        (utc(2026, 11, 27, 20), utc(2026, 11, 30, 8, 30), "Friday evening: Monday 08:30"),
        (utc(2026, 11, 29, 0), utc(2026, 11, 30, 8, 30), "Sunday midnight: Monday 08:30"),
        (utc(2026, 8, 28, 19), utc(2026, 9, 1, 7, 30), "Fri 28 Aug 20:00 BST, bank holiday Monday: Tue"),
        (utc(2026, 4, 2, 19), utc(2026, 4, 7, 7, 30), "Thu before Good Friday and Easter Monday: Tue"),
        (utc(2026, 12, 24, 20), utc(2026, 12, 29, 8, 30), "Christmas Eve: 25 and 28 Dec are holidays"),
        (utc(2026, 10, 23, 19), utc(2026, 10, 26, 8, 30), "Fri 20:00 BST, clocks back Sunday: Mon GMT"),
        (utc(2026, 3, 27, 20), utc(2026, 3, 30, 7, 30), "Fri 20:00 GMT, clocks forward Sunday: Mon BST"),
    ],
)
def test_start_of_the_next_working_hours(at: datetime, expected: datetime, why: str) -> None:
    assert next_open(at) == expected, why


def test_local_closure_days_are_outside_working_hours() -> None:
    """A council's Christmas shutdown (29 to 31 Dec 2026): Christmas Eve evening's next working
    hours are Monday 4 January (1 January is a bank holiday)."""
    text = (HERE / "central-bedfordshire.toml").read_text(encoding="utf-8")
    shut = policy_from_toml(
        text.replace("closure_days = []", 'closure_days = ["2026-12-29", "2026-12-30", "2026-12-31"]')
    )
    assert shut.working_hours.next_open(utc(2026, 12, 24, 20), shut.timezone, shut.calendar) == utc(
        2027, 1, 4, 8, 30
    )
    assert not shut.working_hours.is_open(utc(2026, 12, 30, 12), shut.timezone, shut.calendar)


def test_urgent_out_of_hours_channel_only_for_urgent_rules() -> None:
    """CB-NOTSEEN-DISCUSS is urgent, CB-SEEN-ALONE is not; without a channel nothing goes."""
    hours = WorkingHours(time(8, 30), time(17, 30), "C0EDT0001", frozenset({"CB-NOTSEEN-DISCUSS"}))
    assert hours.urgent_out_of_hours("CB-NOTSEEN-DISCUSS") == "C0EDT0001"
    assert hours.urgent_out_of_hours("CB-SEEN-ALONE") is None
    assert HOURS.urgent_out_of_hours("CB-NOTSEEN-DISCUSS") is None


def _cb(**tables: object) -> dict:
    data = tomllib.loads((HERE / "central-bedfordshire.toml").read_text(encoding="utf-8"))
    for name, table in tables.items():
        if table is None:
            data.pop(name, None)
        else:
            data[name] = table
    return data


def test_a_policy_without_the_tables_works_08_30_to_17_30() -> None:
    """A council's file from before working hours existed still loads, with 08:30 to 17:30, no
    out-of-hours channel and no urgent rules."""
    policy = policy_from_mapping(_cb(working_hours=None, out_of_hours=None))
    assert policy.working_hours == WorkingHours(time(8, 30), time(17, 30))


def test_a_named_channel_and_other_hours_are_read() -> None:
    policy = policy_from_mapping(
        _cb(
            working_hours={"start": "09:00", "end": time(17, 0)},
            out_of_hours={"channel": "C0EDT0001", "urgent_rules": ["CB-RISK-WORSE"]},
        )
    )
    assert policy.working_hours == WorkingHours(time(9), time(17), "C0EDT0001", frozenset({"CB-RISK-WORSE"}))


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"working_hours": {"start": "08:30"}}, "working_hours.end: missing"),
        ({"working_hours": {"start": "8:30pm", "end": "17:30"}}, "working_hours.start: must be a local time"),
        ({"working_hours": {"start": "08:30", "end": "25:00"}}, "working_hours.end: must be a local time"),
        ({"working_hours": {"start": "08:30", "end": 1730}}, "working_hours.end: must be a local time"),
        ({"working_hours": {"start": "08:30+01:00", "end": "17:30"}}, "working_hours.start: must be a local"),
        ({"working_hours": {"start": "17:30", "end": "08:30"}}, "working_hours.end: must be after start"),
        ({"working_hours": {"start": "08:30", "end": "08:30"}}, "working_hours.end: must be after start"),
        ({"working_hours": {"start": "08:30", "end": "17:30", "days": 5}}, "working_hours.days: unknown key"),
        ({"working_hours": "08:30-17:30"}, "working_hours: unknown key"),  # not a table
        ({"out_of_hours": {"channel": ""}}, "out_of_hours.channel: must be a channel id"),
        ({"out_of_hours": {"channel": 5}}, "out_of_hours.channel: must be a channel id"),
        ({"out_of_hours": {"urgent_rules": "CB-RISK-WORSE"}}, "out_of_hours.urgent_rules: must be a list"),
        ({"out_of_hours": {"urgent_rules": ["HI-NOTSEEN-REVISIT"]}}, "'HI-NOTSEEN-REVISIT' is not a rule"),
        ({"out_of_hours": {"email": "edt@council.test"}}, "out_of_hours.email: unknown key"),
        ({"out_of_hours": {"a\nb": 1}}, 'out_of_hours."a\\nb": unknown key'),
    ],
)
def test_a_wrong_table_names_the_key(tables: dict, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from_mapping(_cb(**tables))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
