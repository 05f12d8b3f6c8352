"""The derived facts several rules share (scheduler/rules/facts.py), each on its own: the last
qualifying home visit, the interval in force (CB-FREQ-CHANGE, CB-FREQ-FLOOR) and the visit due
date (CB-VISIT-10WD, HI-VISIT-20WD). Central Bedfordshire plan start Monday 1 February 2027:
1 Feb + 10 WD = 15 Feb; 10 Feb + 10 WD = 24 Feb; 10 Feb + 5 WD = 17 Feb. Hillingdon plan start
17 Dec 2026: + 7 days = 24 Dec; 21 Dec + 20 WD = 21 Jan 2027."""

from __future__ import annotations

import pytest

from scheduler.rules.facts import CaseError, Facts
from tests.rules.builders import LEAD, at, case, cb, d, decision, hi, visit

START = "2027-02-01"
NOW = at("2027-02-12T12:00")


def facts(c, policy=None, now=NOW) -> Facts:  # type: ignore[no-untyped-def]
    return Facts(policy or cb(), c, now)


def test_last_visit_is_the_last_qualifying_home_visit_cb_visit_10wd() -> None:
    """CB-VISIT-10WD: a school visit and a not-seen home visit are no qualifying visit; a
    visit after `now` has not happened yet."""
    seen = visit("2027-02-10T10:00")
    c = case(
        START,
        seen,
        visit("2027-02-11T10:00", kind="school_visit"),
        visit("2027-02-11T15:00", seen=False),
        visit("2027-02-13T10:00"),
    )
    f = facts(c)
    assert f.last_visit == seen
    assert f.visit_anchor == d("2027-02-10")
    assert facts(case(START)).last_visit is None


def test_visit_due_from_the_plan_start_or_the_last_visit_cb_visit_10wd() -> None:
    """CB-VISIT-10WD: 1 Feb + 10 WD = 15 Feb with no visit; 10 Feb + 10 WD = 24 Feb after one."""
    assert facts(case(START)).visit_due == d("2027-02-15")
    assert facts(case(START, visit("2027-02-10T10:00"))).visit_due == d("2027-02-24")


def test_visit_due_before_the_initial_visit_is_the_initial_visits_hi_visit_20wd() -> None:
    """HI-VISIT-20WD, HI-INITIAL-1WK: before any visit the due date is the initial visit's
    (17 Dec + 7 days); after it, 20 WD from it (21 Jan)."""
    now = at("2026-12-22T09:00")
    assert facts(case("2026-12-17"), hi(), now).visit_due == d("2026-12-24")
    assert facts(case("2026-12-17", visit("2026-12-21T10:30")), hi(), now).visit_due == d("2027-01-21")


def _eight_then_five_proposed_by(by: str):  # type: ignore[no-untyped-def]
    change = decision("2027-02-11T10:00", "CB-FREQ-CHANGE", by, "interval_changed", 5)
    return case(START, visit("2027-02-10T10:00"), visit_interval_working_days=8, decisions=(change,))


def test_interval_in_force_is_the_plans_then_the_chairs_cb_freq_change() -> None:
    """CB-FREQ-CHANGE: the plan's 8 WD is in force until the CP Chair agrees 5; a team manager's
    proposal changes nothing (RULES.md R1). The due date follows: 10 Feb + 5 WD = 17 Feb."""
    base = case(START, visit("2027-02-10T10:00"), visit_interval_working_days=8)
    assert facts(base).interval_in_force[0] == 8
    assert facts(_eight_then_five_proposed_by("team_manager")).interval_in_force[0] == 8
    f = facts(_eight_then_five_proposed_by("cp_chair"))
    assert f.interval_in_force[0] == 5 and "cp chair" in f.interval_in_force[1]
    assert f.visit_due == d("2027-02-17")


def test_interval_in_force_above_the_floor_is_refused_cb_freq_floor_boundary() -> None:
    """CB-FREQ-FLOOR boundary: 10 WD is allowed, 11 is a CaseError naming the field."""
    assert facts(case(START, visit_interval_working_days=10)).interval_in_force[0] == 10
    with pytest.raises(CaseError, match=r"plan\.visit_interval_working_days: 11"):
        _ = facts(case(START, visit_interval_working_days=11)).interval_in_force


def test_facts_need_an_aware_now() -> None:
    """CB-VISIT-10WD: `now` without a time zone is refused (aware datetimes only)."""
    with pytest.raises(ValueError, match="aware"):
        Facts(cb(), case(START), at("2027-02-12T12:00").replace(tzinfo=None))


def test_decided_on_or_after_keeps_only_the_rules_deciders_cb_20cd_lsw() -> None:
    """CB-20CD-LSW R1: a lead social worker's decision is kept as a fact but not returned."""
    c = case(
        START,
        decisions=(
            decision("2027-02-10T10:00", "CB-20CD-LSW", LEAD, "risk_assessed"),
            decision("2027-02-11T10:00", "CB-20CD-LSW", "team_manager", "risk_assessed"),
        ),
    )
    f = facts(c)
    assert len(f.decisions["CB-20CD-LSW"]) == 2
    assert [x.by for x in f.decided_on_or_after(cb().rules["CB-20CD-LSW"], d("2027-02-01"))] == [
        "team_manager"
    ]


def test_aged_from_is_the_birthday_as_age_years_counts_it_cb_seen_alone_boundary() -> None:
    """CB-SEEN-ALONE boundary: a child born 29 Feb 2020 turns 4 on 29 Feb 2024 and 5 on 1 March
    2025 (not a leap year), the day age_years first says 5."""
    f = facts(case(START, dob="2020-02-29"))
    four, five = f.aged_from(4), f.aged_from(5)
    assert four is not None and five is not None
    assert four.date() == d("2024-02-29") and five.date() == d("2025-03-01")
    assert f.age_years(d("2025-02-28")) == 4 and f.age_years(d("2025-03-01")) == 5
    assert facts(case(START)).aged_from(4) is None


def test_visits_from_a_local_day_hi_before_cg_boundary() -> None:
    """HI-BEFORE-CG boundary: the first qualifying visit on or after a local day: a visit at
    23:30 BST on 31 May 2027 (22:30 UTC) is on 31 May, not 1 June."""
    late = visit("2027-05-31T22:30")
    f = facts(case(START, visit("2027-05-20T10:00"), late), now=at("2027-06-02T12:00"))
    assert f.visits[f.visits_from(d("2027-05-31"))] == late
    assert f.visits_from(d("2027-06-01")) == len(f.visits)
