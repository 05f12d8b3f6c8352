"""next_change (issue 13) at each kind of boundary: the instant is exact, evaluate answers the same
up to the instant before it, and (where the change is real) differently from it.

Dates by hand, in February and March 2027 (no bank holidays; GMT, so local midnight is 00:00 UTC).
N working days after D = the N-th working day after D, D not counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.policies import HERE
from scheduler.rules.model import Case, Obligation
from scheduler.rules.next_change import next_change, policy_digest
from scheduler.rules.policy import Policy, policy_from_toml
from tests.rules.builders import (
    LEAD,
    TM,
    at,
    case,
    cb,
    decision,
    hi,
    local,
    of,
    one,
    run,
    sighting,
    visit,
)

TICK = timedelta(microseconds=1)


def midnight(day: str) -> datetime:
    """The first instant of a local (London) day."""
    return local(day, "00:00")


def boundary(
    policy: Policy, c: Case, now: datetime, expected: datetime
) -> tuple[list[Obligation], list[Obligation]]:
    """Checks next_change is `expected` and nothing changes before it; returns the obligations at
    `now` and at `expected`."""
    before = run(policy, c, now)
    got = next_change(policy, c, now, before)
    assert got == expected, f"next change {got}, expected {expected}"
    assert run(policy, c, expected - TICK) == before
    return before, run(policy, c, expected)


# -- statuses ------------------------------------------------------------------------------------
def test_cb_visit_10wd_a_date_deadline_turns_overdue_at_the_next_local_midnight() -> None:
    """CB-VISIT-10WD: seen on Mon 1 Feb, due 10 working days later, Mon 15 Feb; overdue from the
    first instant of Tue 16 Feb (before CB-20CD-LSW's lapse on 21 Feb)."""
    c = case("2027-02-01", visit("2027-02-01T10:00"))
    before, after = boundary(cb(), c, at("2027-02-10T12:00"), midnight("2027-02-16"))
    assert one(before, "CB-VISIT-10WD").status == "due"
    assert one(after, "CB-VISIT-10WD").status == "overdue"


def test_hi_initial_1wk_a_date_deadline_turns_overdue_at_the_next_local_midnight() -> None:
    """HI-INITIAL-1WK: plan started Mon 1 Feb, initial visit due by Mon 8 Feb: overdue from 9 Feb."""
    c = case("2027-02-01")
    before, after = boundary(hi(), c, at("2027-02-03T12:00"), midnight("2027-02-09"))
    assert one(before, "HI-INITIAL-1WK").status == "due"
    assert one(after, "HI-INITIAL-1WK").status == "overdue"


def test_cb_record_an_instant_deadline_turns_overdue_just_after_it() -> None:
    """CB-RECORD: a visit at 10:00 not recorded is due 24 hours later, overdue the first instant
    after 10:00 the next day (at 10:00 itself it is still due)."""
    c = case("2027-02-01", visit("2027-02-03T10:00", recorded=None))
    before, after = boundary(cb(), c, at("2027-02-03T12:00"), at("2027-02-04T10:00") + TICK)
    assert one(before, "CB-RECORD").status == "due"
    assert one(run(cb(), c, at("2027-02-04T10:00")), "CB-RECORD").status == "due"
    assert one(after, "CB-RECORD").status == "overdue"


def test_hi_record_24h_an_instant_deadline_turns_overdue_just_after_it() -> None:
    """HI-RECORD-24H: as CB-RECORD, under Hillingdon's policy."""
    c = case("2027-02-01", visit("2027-02-03T10:00", recorded=None))
    _, after = boundary(hi(), c, at("2027-02-03T12:00"), at("2027-02-04T10:00") + TICK)
    assert one(after, "HI-RECORD-24H").status == "overdue"


def test_cb_notseen_discuss_a_prompt_turns_overdue_24_hours_after_the_visit() -> None:
    """CB-NOTSEEN-DISCUSS: not seen at 10:00 on Wed 3 Feb: the team manager's prompt is overdue
    from just after 10:00 on Thu 4 Feb."""
    c = case("2027-02-01", visit("2027-02-03T10:00", seen=False))
    before, after = boundary(cb(), c, at("2027-02-03T12:00"), at("2027-02-04T10:00") + TICK)
    assert one(before, "CB-NOTSEEN-DISCUSS").status == "due"
    assert one(after, "CB-NOTSEEN-DISCUSS").status == "overdue"


def test_cb_notseen_again_and_cb_access_instant_deadlines() -> None:
    """CB-NOTSEEN-AGAIN (second not-seen visit: visit within 24 hours) and CB-ACCESS (the third:
    the practice manager within 24 hours): the earliest open instant deadline comes first."""
    c = case(
        "2027-02-01",
        visit("2027-02-03T10:00", seen=False),
        visit("2027-02-04T09:00", seen=False),
        visit("2027-02-05T09:00", seen=False),
        decisions=(decision("2027-02-03T11:00", "CB-NOTSEEN-DISCUSS", TM, "further_visit", 1),),
    )
    before, after = boundary(
        cb(), c, at("2027-02-05T12:00"), at("2027-02-05T09:00") + timedelta(hours=24) + TICK
    )
    assert {o.status for o in of(before, "CB-ACCESS")} == {"due"}
    assert {o.status for o in of(after, "CB-ACCESS")} == {"overdue"}
    assert {o.status for o in of(after, "CB-NOTSEEN-AGAIN", LEAD)} == {"overdue"}


# -- facts dated after now -----------------------------------------------------------------------
def test_a_decision_dated_after_now_counts_from_its_instant() -> None:
    """CB-NOTSEEN-DISCUSS: a decision recorded for 15:00 (after now) meets the prompt from 15:00."""
    c = case(
        "2027-02-01",
        visit("2027-02-03T10:00", seen=False),
        decisions=(decision("2027-02-03T15:00", "CB-NOTSEEN-DISCUSS", TM, "further_visit", 2),),
    )
    before, after = boundary(cb(), c, at("2027-02-03T12:00"), at("2027-02-03T15:00"))
    assert of(before, "CB-NOTSEEN-DISCUSS") and not of(after, "CB-NOTSEEN-DISCUSS")


def test_a_sighting_dated_after_now_is_a_change() -> None:
    """CB-30WD-ANY: a school's sighting dated after now counts from its instant."""
    c = case("2027-02-01", visit("2027-02-01T10:00"), sightings=(sighting("2027-02-02T08:00"),))
    got = next_change(cb(), c, at("2027-02-01T12:00"), run(cb(), c, at("2027-02-01T12:00")))
    assert got == at("2027-02-02T08:00")


# -- days: lapses, at-risk windows, meetings, the plan's end, dated policy values ---------------
def test_cb_20cd_lsw_opens_on_the_lapse_day() -> None:
    """CB-20CD-LSW: last seen by the lead on Mon 1 Feb: 20 calendar days to Sun 21 Feb, the
    obligation appears at its first instant (R4)."""
    c = case("2027-02-01", visit("2027-02-01T10:00"))
    before, after = boundary(cb(), c, at("2027-02-17T12:00"), midnight("2027-02-21"))
    assert not of(before, "CB-20CD-LSW")
    assert one(after, "CB-20CD-LSW").due.isoformat() == "2027-02-22"  # R4: the next working day


def test_cb_30wd_any_opens_on_the_lapse_day() -> None:
    """CB-30WD-ANY: last seen by anyone on Mon 1 Feb: 30 working days to Mon 15 Mar."""
    c = case("2027-02-01", visit("2027-02-01T10:00"))
    before, after = boundary(cb(), c, at("2027-03-10T12:00"), midnight("2027-03-15"))
    assert not of(before, "CB-30WD-ANY")
    assert len(of(after, "CB-30WD-ANY")) == 2  # the team manager and the CP Chair


def test_hi_notseen_revisit_opens_when_the_deadline_comes_within_the_at_risk_window() -> None:
    """HI-NOTSEEN-REVISIT: seen on Tue 2 Feb, visit due 20 WD later (Tue 2 Mar); not seen on
    5 Feb: at risk 3 WD before the deadline, from Thu 25 Feb."""
    c = case("2027-02-01", visit("2027-02-02T10:00"), visit("2027-02-05T10:00", seen=False))
    before, after = boundary(hi(), c, at("2027-02-08T12:00"), midnight("2027-02-25"))
    assert not of(before, "HI-NOTSEEN-REVISIT")
    assert one(after, "HI-NOTSEEN-REVISIT").due.isoformat() == "2027-03-02"


def test_hi_before_review_the_day_after_a_meeting_the_next_one_is_owed() -> None:
    """HI-BEFORE-REVIEW: reviews on 10 Feb and 10 Mar, seen on 2 Feb: once 10 Feb has passed
    (from Thu 11 Feb) a visit is owed before 10 Mar."""
    c = case("2027-02-01", visit("2027-02-02T10:00"), review_conferences=["2027-02-10", "2027-03-10"])
    before, after = boundary(hi(), c, at("2027-02-09T12:00"), midnight("2027-02-11"))
    assert not of(before, "HI-BEFORE-REVIEW")
    assert one(after, "HI-BEFORE-REVIEW").due.isoformat() == "2027-03-10"


def test_hi_before_cg_the_day_after_a_meeting_the_next_one_is_owed() -> None:
    """HI-BEFORE-CG: as HI-BEFORE-REVIEW, for core group meetings."""
    c = case("2027-02-01", visit("2027-02-02T10:00"), core_group_meetings=["2027-02-10", "2027-03-10"])
    _, after = boundary(hi(), c, at("2027-02-09T12:00"), midnight("2027-02-11"))
    assert one(after, "HI-BEFORE-CG").due.isoformat() == "2027-03-10"


def test_cb_stepdown_the_plan_ending_is_a_change() -> None:
    """CB-STEPDOWN: the plan ends on Sat 20 Feb: from its first instant the visit deadline goes and
    the step-down record is owed."""
    c = case("2027-02-01", visit("2027-02-16T10:00"), ended="2027-02-20")
    before, after = boundary(cb(), c, at("2027-02-17T12:00"), midnight("2027-02-20"))
    assert of(before, "CB-VISIT-10WD") and not of(after, "CB-VISIT-10WD")
    assert one(after, "CB-STEPDOWN").owner == LEAD


def test_cb_freq_change_a_proposal_turns_overdue_the_next_day() -> None:
    """CB-FREQ-CHANGE: a change proposed by the team manager on Wed 3 Feb is owed the CP Chair's
    agreement that day; overdue from Thu 4 Feb."""
    c = case(
        "2027-02-01",
        visit("2027-02-02T10:00"),
        decisions=(decision("2027-02-03T09:00", "CB-FREQ-CHANGE", TM, "interval_changed", 5),),
    )
    before, after = boundary(cb(), c, at("2027-02-03T12:00"), midnight("2027-02-04"))
    assert one(before, "CB-FREQ-CHANGE").status == "due"
    assert one(after, "CB-FREQ-CHANGE").status == "overdue"


def test_a_birthday_changes_nothing_by_itself() -> None:
    """CB-SEEN-ALONE, CB-BABY-AWAKE: ages are judged on the day of each visit, so a birthday
    between visits is not a change: the child turning 4 on Fri 12 Feb is not woken for."""
    c = case(
        "2027-02-01",
        visit("2027-02-02T10:00", seen_alone=None),
        visit("2027-02-09T10:00", seen_alone=None),
        dob="2023-02-12",
    )
    now = at("2027-02-10T12:00")
    before, _ = boundary(cb(), c, now, midnight("2027-02-24"))  # CB-VISIT-10WD due Tue 23 Feb
    assert run(cb(), c, midnight("2027-02-12")) == before
    assert not of(before, "CB-SEEN-ALONE")


def test_a_dated_policy_value_coming_into_force_is_a_change_day() -> None:
    """CB-FREQ-FLOOR: a dated value (from 1 Mar) changes what is in force from that day, so the
    sweep looks again at its first instant."""
    text = (HERE / "central-bedfordshire.toml").read_text()
    text = text.replace(
        "max_interval_working_days = 10\n",
        "max_interval_working_days = 10\n\n[[rules.CB-FREQ-FLOOR.changes]]\nfrom = 2027-03-01\n"
        "max_interval_working_days = 8\n",
        1,
    )
    policy = policy_from_toml(text)
    assert policy.rules["CB-FREQ-FLOOR"].changes
    c = case("2027-02-01", visit("2027-02-26T10:00"))
    now = at("2027-02-26T12:00")
    assert next_change(policy, c, now, run(policy, c, now)) == midnight("2027-03-01")
    assert policy_digest(policy) != policy_digest(cb())


def test_no_next_change_when_nothing_can_change() -> None:
    """After the plan ended and the step-down record is made, nothing is owed and nothing can
    change with time: None (only a new fact wakes the child)."""
    c = case(
        "2027-02-01",
        visit("2027-02-16T10:00"),
        ended="2027-02-20",
        decisions=(decision("2027-02-22T10:00", "CB-STEPDOWN", LEAD, "cin_arrangement_recorded"),),
    )
    now = at("2027-03-01T12:00")
    assert run(cb(), c, now) == []
    assert next_change(cb(), c, now, []) is None


def test_the_policy_digest_is_the_same_for_the_same_policy_and_differs_between_policies() -> None:
    assert policy_digest(cb()) == policy_digest(
        policy_from_toml((HERE / "central-bedfordshire.toml").read_text())
    )
    assert policy_digest(cb()) != policy_digest(hi())
