"""The case-file contract of DESIGN.md, in process: what a valid file becomes, and that every
error names its field (CaseFileError)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.policies import load_policy
from scheduler.rules.casefile import CaseFileError, parse_case_json, parse_case_mapping
from scheduler.rules.engine import evaluate
from tests.rules.builders import WORKED_EXAMPLE, brief, case_json


def test_worked_example_parses_to_the_facts() -> None:
    cf = parse_case_json(WORKED_EXAMPLE)
    assert cf.policy == "hillingdon"
    assert cf.as_of == datetime(2026, 12, 22, 9, tzinfo=UTC)
    c = cf.case
    assert (c.child.ref, c.child.date_of_birth) == ("C-1042", date(2025, 9, 1))
    assert c.plan.started == date(2026, 12, 17)
    assert c.plan.review_conferences == (date(2027, 3, 10),)
    assert c.plan.core_group_meetings == (date(2027, 1, 14),)
    assert c.plan.visit_interval_working_days is None
    [v] = c.contacts
    assert (v.kind, v.by, v.qualified, v.child_seen, v.seen_alone) == (
        "home_visit", "lead_social_worker", True, True, "yes",
    )  # fmt: skip
    assert v.recorded_at == datetime(2026, 12, 21, 15, tzinfo=UTC)
    [s] = c.agency_sightings
    assert s.agency == "school"
    [dec] = c.decisions
    assert (dec.rule, dec.outcome, dec.within_working_days) == (
        "CB-NOTSEEN-DISCUSS", "further_visit", 3,
    )  # fmt: skip


def test_defaults_for_optional_fields() -> None:
    data = case_json()
    data["plan"] = {"started": "2026-12-17"}
    data["contacts"] = [
        {"at": "2026-12-21T10:30:00+00:00", "kind": "home_visit", "by": "duty_social_worker",
         "child_seen": False}
    ]  # fmt: skip
    del data["agency_sightings"], data["decisions"]
    c = parse_case_mapping(data).case
    assert c.plan.plan_number == 1
    assert c.plan.exploitation_concerns is False
    assert c.plan.ended is None
    [v] = c.contacts
    assert v.qualified is True
    assert (v.no_one_home, v.risk_worsened, v.new_injury, v.recorded_at) == (
        False, False, False, None,
    )  # fmt: skip
    assert c.agency_sightings == () and c.decisions == ()


def test_instants_with_z_and_other_offsets() -> None:
    """Instants are ISO 8601 with an offset; `Z` and +01:00 are the same instants as +00:00."""
    data = case_json(as_of="2026-12-22T09:00:00Z")
    data["contacts"][0]["at"] = "2026-12-21T11:30:00+01:00"
    cf = parse_case_mapping(data)
    assert cf.as_of == datetime(2026, 12, 22, 9, tzinfo=UTC)
    assert cf.case.contacts[0].at == datetime(2026, 12, 21, 10, 30, tzinfo=UTC)
    policy = load_policy("hillingdon")
    assert brief(evaluate(policy, cf.case, cf.as_of)) == [
        ("HI-VISIT-20WD", "2027-01-21", "due", "lead_social_worker")
    ]


def test_facts_are_kept_in_time_order_whatever_the_file_order() -> None:
    """Same facts in any order: same case, same obligations (CB-NOTSEEN-AGAIN and friends depend
    on the order of visits)."""
    base = case_json(policy="central-bedfordshire", as_of="2027-02-16T09:00:00+00:00")
    base["plan"] = {"started": "2027-02-01", "review_conferences": ["2027-05-01", "2027-03-01"]}
    base["contacts"] = [
        {"at": f"2027-02-{day:02d}T10:00:00+00:00", "kind": "home_visit",
         "by": "lead_social_worker", "child_seen": seen}
        for day, seen in ((3, True), (10, False), (12, False), (15, False))
    ]  # fmt: skip
    base["decisions"] = [
        {"at": "2027-02-10T14:00:00+00:00", "rule": "CB-NOTSEEN-DISCUSS", "by": "team_manager",
         "outcome": "further_visit", "within_working_days": 2},
        {"at": "2027-02-12T14:00:00+00:00", "rule": "CB-NOTSEEN-AGAIN", "by": "team_manager",
         "outcome": "reviewed"},
    ]  # fmt: skip
    policy = load_policy("central-bedfordshire")
    expected = parse_case_mapping(base)
    assert expected.case.plan.review_conferences == (date(2027, 3, 1), date(2027, 5, 1))
    want = evaluate(policy, expected.case, expected.as_of)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = json.loads(json.dumps(base))
        rng.shuffle(shuffled["contacts"])
        rng.shuffle(shuffled["decisions"])
        cf = parse_case_mapping(shuffled)
        assert cf.case == expected.case
        assert evaluate(policy, cf.case, cf.as_of) == want


def test_contacts_before_the_plan_start_are_kept_but_ignored() -> None:
    """Facts before the ICPC start no clock: a visit on 16 Dec meets neither HI-INITIAL-1WK nor
    HI-BEFORE-CG (14 Jan) nor HI-BEFORE-REVIEW (10 Mar)."""
    data = case_json(as_of="2026-12-18T09:00:00+00:00")
    data["contacts"][0]["at"] = "2026-12-16T23:30:00+00:00"  # 16 Dec in London (GMT)
    data["contacts"][0]["recorded_at"] = "2026-12-17T08:00:00+00:00"
    cf = parse_case_mapping(data)
    assert len(cf.case.contacts) == 1
    assert brief(evaluate(load_policy("hillingdon"), cf.case, cf.as_of)) == [
        ("HI-INITIAL-1WK", "2026-12-24", "due", "lead_social_worker"),
        ("HI-BEFORE-CG", "2027-01-14", "due", "lead_social_worker"),
        ("HI-BEFORE-REVIEW", "2027-03-10", "due", "lead_social_worker"),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["child"].update(ref="  "), "child.ref"),
        (lambda d: d["child"].update(date_of_birth="2025-9-1"), "child.date_of_birth"),
        (lambda d: d["plan"].update(plan_number=0), "plan.plan_number"),
        (lambda d: d["plan"].update(plan_number=True), "plan.plan_number"),
        (lambda d: d["plan"].update(exploitation_concerns="no"), "plan.exploitation_concerns"),
        (lambda d: d["plan"].update(core_group_meetings="2027-01-14"), "plan.core_group_meetings"),
        (lambda d: d["contacts"][0].update(qualified=1), "contacts[0].qualified"),
        (lambda d: d["contacts"][0].update(child_seen=False, seen_alone="yes"),
         "contacts[0].seen_alone"),
        (lambda d: d["contacts"][0].update(no_one_home=True), "contacts[0].no_one_home"),
        (lambda d: d["contacts"].append("a visit"), "contacts[1]"),
        (lambda d: d["agency_sightings"][0].pop("agency"), "agency_sightings[0].agency"),
        (lambda d: d["decisions"][0].update(by="judge"), "decisions[0].by"),
        (lambda d: d["decisions"][0].update(within_working_days=-1),
         "decisions[0].within_working_days"),
    ],
)  # fmt: skip
def test_errors_name_the_field(change, field: str) -> None:
    data = case_json()
    change(data)
    with pytest.raises(CaseFileError) as raised:
        parse_case_mapping(data)
    assert str(raised.value).startswith(field), str(raised.value)


def test_naive_as_of_is_refused() -> None:
    """DESIGN.md: instants are aware datetimes, never naive."""
    with pytest.raises(CaseFileError, match=r"^as_of: needs a UTC offset"):
        parse_case_mapping(case_json(as_of="2026-12-22T09:00:00"))


def test_the_engine_refuses_a_naive_now() -> None:
    cf = parse_case_json(WORKED_EXAMPLE)
    with pytest.raises(ValueError, match="aware"):
        evaluate(load_policy("hillingdon"), cf.case, datetime(2026, 12, 22, 9))  # noqa: DTZ001


def test_dates_are_yyyy_mm_dd_only() -> None:
    data = case_json()
    data["plan"]["started"] = "2026-W51-4"
    with pytest.raises(CaseFileError, match=r"^plan\.started"):
        parse_case_mapping(data)


def test_as_of_is_kept_with_its_offset() -> None:
    cf = parse_case_mapping(case_json(as_of="2026-12-22T10:00:00+01:00"))
    assert cf.as_of.utcoffset() == timedelta(hours=1)
    assert cf.as_of == datetime(2026, 12, 22, 9, tzinfo=UTC)
