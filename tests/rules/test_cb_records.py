"""Central Bedfordshire: the visit record and what it says.

CB-RECORD (record within 24 hours of every contact), CB-RISK-WORSE and CB-NEW-INJURY (the team
manager alerted at once: the policy's "at once" is 4 hours from the record).
"""

from __future__ import annotations

import pytest

from tests.rules.builders import (
    DUTY,
    LEAD,
    TM,
    at,
    brief,
    case,
    cb,
    decision,
    local,
    of,
    one,
    run,
    status_at,
    visit,
)

START = "2027-02-01"


# -- CB-RECORD ---------------------------------------------------------------------------------
def test_cb_record_fires_for_an_unrecorded_home_visit() -> None:
    """CB-RECORD: a home visit at 10 Feb 10:00 UTC not yet recorded: due 24 h later."""
    c = case(START, visit("2027-02-10T10:00", recorded=None))
    o = one(run(cb(), c, local("2027-02-10", "12:00")), "CB-RECORD")
    assert (o.due.isoformat(), o.status, o.owner) == ("2027-02-11T10:00:00+00:00", "due", LEAD)
    assert "Record of a Child Protection Visit" in o.summary


def test_cb_record_boundary_is_24_clock_hours() -> None:
    """CB-RECORD: due at exactly 24 h; overdue one second later."""
    c = case(START, visit("2027-02-10T10:00", recorded=None))
    assert status_at(cb(), c, at("2027-02-11T10:00:00"), "CB-RECORD") == "due"
    assert status_at(cb(), c, at("2027-02-11T10:00:01"), "CB-RECORD") == "overdue"


def test_cb_record_24_clock_hours_across_the_clock_change() -> None:
    """CB-RECORD: 24 clock hours, not working hours and not wall-clock: a visit at Saturday
    27 Mar 2027 10:00 GMT is due Sunday 28 Mar 10:00 UTC (11:00 BST), over the clock change."""
    c = case("2027-03-01", visit("2027-03-27T10:00:00+00:00", recorded=None))
    o = one(run(cb(), c, at("2027-03-27T12:00")), "CB-RECORD")
    assert o.due == at("2027-03-28T10:00:00+00:00")
    assert status_at(cb(), c, at("2027-03-28T11:00:00+01:00"), "CB-RECORD") == "due"
    assert status_at(cb(), c, at("2027-03-28T11:00:01+01:00"), "CB-RECORD") == "overdue"


def test_cb_record_met_by_the_record() -> None:
    """CB-RECORD: the record completed (recorded_at set) meets it."""
    c = case(START, visit("2027-02-10T10:00", recorded="2027-02-10T16:00"))
    assert of(run(cb(), c, local("2027-02-10", "17:00")), "CB-RECORD") == []


def test_cb_record_case_note_for_other_contacts() -> None:
    """CB-RECORD: a case note for every other contact with the child (a school visit here)."""
    c = case(START, visit("2027-02-10T10:00", kind="school_visit", recorded=None))
    o = one(run(cb(), c, local("2027-02-10", "12:00")), "CB-RECORD")
    assert o.due.isoformat() == "2027-02-11T10:00:00+00:00"
    assert "case note" in o.summary


def test_cb_record_for_a_not_seen_visit_too() -> None:
    """CB-RECORD: every home visit is recorded, also one where the child was not seen."""
    c = case(START, visit("2027-02-10T10:00", seen=False, recorded=None))
    assert len(of(run(cb(), c, local("2027-02-10", "12:00")), "CB-RECORD")) == 1


def test_cb_record_still_owed_after_the_plan_ends() -> None:
    """CB-RECORD: the record of the last visit is still owed after the plan ended."""
    c = case(START, visit("2027-02-10T10:00", recorded=None), ended="2027-02-10")
    assert len(of(run(cb(), c, local("2027-02-10", "12:00")), "CB-RECORD")) == 1


def test_cb_record_owner_is_the_lead_social_worker_for_a_duty_visit() -> None:
    """CB-RECORD: owner lead SW (RULES.md), also when a duty social worker made the visit."""
    c = case(START, visit("2027-02-10T10:00", by=DUTY, recorded=None))
    assert one(run(cb(), c, local("2027-02-10", "12:00")), "CB-RECORD").owner == LEAD


# -- CB-RISK-WORSE and CB-NEW-INJURY -----------------------------------------------------------
FLAGS = [("CB-RISK-WORSE", "risk_worsened"), ("CB-NEW-INJURY", "new_injury")]


@pytest.mark.parametrize(("rule", "flag"), FLAGS)
def test_cb_record_flag_alerts_the_team_manager_at_once(rule: str, flag: str) -> None:
    """CB-RISK-WORSE, CB-NEW-INJURY: recorded at 15:00 UTC: the team manager, due 19:00 UTC."""
    c = case(START, visit("2027-02-10T10:00", recorded="2027-02-10T15:00", **{flag: True}))
    assert brief(run(cb(), c, at("2027-02-10T15:00"))) == [
        (rule, "2027-02-10T19:00:00+00:00", "due", TM),
        ("CB-VISIT-10WD", "2027-02-24", "due", LEAD),
    ]


@pytest.mark.parametrize(("rule", "flag"), FLAGS)
def test_cb_record_flag_boundary(rule: str, flag: str) -> None:
    """CB-RISK-WORSE, CB-NEW-INJURY: due at 19:00 UTC exactly, overdue one second later."""
    c = case(START, visit("2027-02-10T10:00", recorded="2027-02-10T15:00", **{flag: True}))
    assert status_at(cb(), c, at("2027-02-10T19:00:00"), rule) == "due"
    assert status_at(cb(), c, at("2027-02-10T19:00:01"), rule) == "overdue"


@pytest.mark.parametrize(("rule", "flag"), FLAGS)
def test_cb_record_flag_met_by_the_managers_decision(rule: str, flag: str) -> None:
    """CB-RISK-WORSE, CB-NEW-INJURY: met by the manager's recorded decision."""
    c = case(
        START,
        visit("2027-02-10T10:00", recorded="2027-02-10T15:00", **{flag: True}),
        decisions=(decision("2027-02-10T16:00", rule, TM, "reviewed"),),
    )
    assert of(run(cb(), c, at("2027-02-10T20:00")), rule) == []


@pytest.mark.parametrize(("rule", "flag"), FLAGS)
def test_cb_record_flag_from_the_visit_time_when_not_yet_recorded(rule: str, flag: str) -> None:
    """CB-RISK-WORSE, CB-NEW-INJURY: without a record time, the clock starts at the visit."""
    c = case(START, visit("2027-02-10T10:00", recorded=None, **{flag: True}))
    assert one(run(cb(), c, at("2027-02-10T11:00")), rule).due == at("2027-02-10T14:00")


def test_cb_record_flags_are_independent() -> None:
    """CB-RISK-WORSE is not raised by a new injury, nor CB-NEW-INJURY by worsened risk."""
    c = case(START, visit("2027-02-10T10:00", new_injury=True))
    obs = run(cb(), c, at("2027-02-10T12:00"))
    assert of(obs, "CB-RISK-WORSE") == [] and len(of(obs, "CB-NEW-INJURY")) == 1
