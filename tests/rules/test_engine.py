"""The engine as a whole: obligations in deadline order, their keys, the plan-start cut, what
an ended plan still owes, siblings tracked on their own, and the JSON shape of an obligation."""

from __future__ import annotations

import pytest

from scheduler.rules.engine import evaluate
from tests.rules.builders import (
    LEAD,
    TM,
    at,
    brief,
    case,
    cb,
    d,
    hi,
    local,
    of,
    one,
    run,
    visit,
)


def test_obligations_are_listed_by_deadline() -> None:
    """CB-RECORD, CB-VISIT-10WD, CB-NOTSEEN-DISCUSS, CB-NOTSEEN-REVISIT: earliest deadline first."""
    c = case("2027-02-01", visit("2027-02-10T10:00", seen=False, recorded=None))
    obs = run(cb(), c, at("2027-02-10T12:00"))
    assert brief(obs) == [
        ("CB-NOTSEEN-DISCUSS", "2027-02-11T10:00:00+00:00", "due", TM),
        ("CB-RECORD", "2027-02-11T10:00:00+00:00", "due", LEAD),
        ("CB-VISIT-10WD", "2027-02-15", "due", LEAD),
        ("CB-NOTSEEN-REVISIT", "2027-02-17", "due", LEAD),
    ]


def test_deadline_order_does_not_depend_on_the_offset_written() -> None:
    """CB-RECORD: visits at 09:00 UTC (written 10:00+01:00) and 09:30 UTC: the first record is
    due first."""
    c = case(
        "2027-02-01",
        visit("2027-02-10T10:00:00+01:00", recorded=None),
        visit("2027-02-10T09:30:00+00:00", recorded=None),
    )
    obs = of(run(cb(), c, at("2027-02-10T12:00")), "CB-RECORD")
    assert [o.due for o in obs] == [at("2027-02-11T09:00"), at("2027-02-11T09:30")]


def test_date_and_instant_deadlines_in_order_in_summer_time() -> None:
    """CB-VISIT-10WD (due the end of 15 Jul 2026, 22:59:59 UTC) comes before CB-RECORD due
    15 Jul 23:30 UTC (16 Jul 00:30 in London)."""
    c = case(
        "2026-06-22",
        visit("2026-07-01T10:00"),
        visit("2026-07-14T23:30:00+00:00", kind="school_visit", recorded=None),
    )
    obs = run(cb(), c, at("2026-07-15T01:00"))
    assert [o.rule for o in obs] == ["CB-VISIT-10WD", "CB-RECORD"]


def test_keys_name_child_rule_owner_and_the_fact() -> None:
    """An obligation's key (for the outbox) is stable: child, rule ID, owner and its anchor."""
    c = case("2027-02-01", visit("2027-02-10T10:00", recorded=None), ref="C-7")
    record = one(run(cb(), c, at("2027-02-10T12:00")), "CB-RECORD")
    assert record.key == "C-7:CB-RECORD:lead_social_worker:2027-02-10T10:00:00+00:00/home_visit"
    later = one(run(cb(), c, at("2027-02-11T12:00")), "CB-RECORD")
    assert later.key == record.key and later.status == "overdue"
    visit_due = one(run(cb(), c, at("2027-02-10T12:00")), "CB-VISIT-10WD")
    assert visit_due.key == "C-7:CB-VISIT-10WD:lead_social_worker:2027-02-10"


def test_keys_are_unique_in_an_evaluation() -> None:
    c = case(
        "2027-02-01",
        visit("2027-02-03T10:00", seen=False, recorded=None),
        visit("2027-02-05T10:00", seen=False, recorded=None, risk_worsened=True),
        visit("2027-02-08T10:00", seen=False, recorded=None, new_injury=True),
        dob="2026-10-01",
    )
    obs = run(cb(), c, at("2027-02-25T12:00"))
    assert len(obs) > 5
    assert len({o.key for o in obs}) == len(obs)


def test_keys_are_unique_for_two_contacts_at_the_same_instant() -> None:
    """CB-RECORD: each contact is recorded, each reminder has its own key."""
    c = case(
        "2027-02-01",
        visit("2027-02-10T10:00", recorded=None),
        visit("2027-02-10T10:00", kind="school_visit", recorded=None),
    )
    obs = of(run(cb(), c, at("2027-02-10T12:00")), "CB-RECORD")
    assert len(obs) == 2
    assert len({o.key for o in obs}) == 2


def test_facts_before_the_plan_start_by_local_date() -> None:
    """Plan start 1 Jul 2026: a visit at 30 Jun 23:30 UTC is 1 Jul 00:30 in London (BST) and
    counts: CB-VISIT-10WD 1 Jul + 10 WD = 15 Jul, from the visit. One at 30 Jun 22:59 UTC
    (23:59 BST on 30 Jun) is before the plan: the deadline (also 15 Jul) runs from the plan
    start, as its basis says."""
    inside = case("2026-07-01", visit("2026-06-30T23:30:00+00:00"))
    o = one(run(cb(), inside, local("2026-07-02")), "CB-VISIT-10WD")
    assert o.due == d("2026-07-15") and "seeing the child on 2026-07-01" in o.basis
    outside = case("2026-07-01", visit("2026-06-30T22:59:00+00:00"))
    o = one(run(cb(), outside, local("2026-07-02")), "CB-VISIT-10WD")
    assert "plan start" in o.basis


def test_hi_initial_1wk_not_met_by_a_visit_the_evening_before_the_icpc() -> None:
    """HI-INITIAL-1WK: a visit on 16 Dec 23:59 London time is before the plan; one at 00:00 on
    17 Dec (the ICPC day) counts."""
    before = case("2026-12-17", visit("2026-12-16T23:59:00+00:00"))
    assert one(run(hi(), before, local("2026-12-18")), "HI-INITIAL-1WK").due == d("2026-12-24")
    on_the_day = case("2026-12-17", visit("2026-12-17T00:00:00+00:00"))
    assert of(run(hi(), on_the_day, local("2026-12-18")), "HI-INITIAL-1WK") == []


def test_an_ended_plan_still_owes_its_records_and_flags() -> None:
    """After the plan ends: CB-RECORD, CB-RISK-WORSE and CB-STEPDOWN stay; visiting rules stop."""
    c = case(
        "2027-02-01",
        visit("2027-02-10T10:00", recorded=None, risk_worsened=True),
        visit("2027-02-11T10:00", seen=False),
        ended="2027-02-11",
    )
    rules = {o.rule for o in run(cb(), c, at("2027-02-11T12:00"))}
    assert rules == {"CB-RECORD", "CB-RISK-WORSE", "CB-STEPDOWN"}


def test_siblings_are_tracked_on_their_own() -> None:
    """One visit, an outcome per child: the sibling seen starts CB-VISIT-10WD from the visit; the
    sibling not seen gets CB-NOTSEEN-DISCUSS."""
    seen = case("2027-02-01", visit("2027-02-10T10:00"), ref="C-A")
    not_seen = case("2027-02-01", visit("2027-02-10T10:00", seen=False), ref="C-B")
    a = run(cb(), seen, at("2027-02-10T12:00"))
    b = run(cb(), not_seen, at("2027-02-10T12:00"))
    assert brief(a) == [("CB-VISIT-10WD", "2027-02-24", "due", LEAD)]
    assert {o.rule for o in b} == {"CB-NOTSEEN-DISCUSS", "CB-VISIT-10WD", "CB-NOTSEEN-REVISIT"}
    assert all(o.key.startswith("C-B:") for o in b)


def test_obligation_as_json() -> None:
    c = case("2027-02-01", visit("2027-02-10T10:00", recorded=None))
    obs = run(cb(), c, at("2027-02-10T12:00"))
    assert obs[0].as_json() == {
        "rule": "CB-RECORD",
        "due": "2027-02-11T10:00:00+00:00",
        "status": "due",
        "owner": LEAD,
        "summary": obs[0].summary,
    }
    assert obs[0].is_instant and not obs[1].is_instant
    assert obs[1].as_json()["due"] == "2027-02-24"


def test_every_obligation_says_what_by_when_and_why() -> None:
    """DESIGN.md: every message says what is due, by when and under which rule ID: each
    obligation has a summary and a basis (for `seen explain`)."""
    c = case(
        "2027-02-01",
        visit("2027-02-10T10:00", seen=False, recorded=None),
        visit("2027-02-12T09:00", seen=False),
        visit("2027-02-15T10:00", seen=False),
    )
    for o in run(cb(), c, at("2027-03-20T12:00")):
        assert o.summary and o.basis, o


def test_evaluate_needs_an_aware_now() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="aware"):
        evaluate(cb(), case("2027-02-01"), datetime(2027, 2, 2, 9))  # noqa: DTZ001
