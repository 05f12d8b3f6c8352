"""Central Bedfordshire: home visits on time and how they went.

CB-VISIT-10WD, CB-FREQ-FLOOR, CB-FREQ-CHANGE, CB-BEDROOM-ALT, CB-SEEN-ALONE, CB-BABY-AWAKE,
CB-STEPDOWN. Plan start in most cases: Monday 1 February 2027 (no bank holiday until Easter, 26 and
29 March 2027). Working days counted by hand:
  1 Feb + 10 WD = 15 Feb; 1 Feb + 5 WD = 8 Feb; 10 Feb + 10 WD = 24 Feb; 10 Feb + 5 WD = 17 Feb;
  17 Feb + 10 WD = 3 Mar; 24 Feb + 10 WD = 10 Mar.
"""

from __future__ import annotations

import pytest

from scheduler.rules.engine import CaseError
from tests.rules.builders import (
    CHAIR,
    DUTY,
    LEAD,
    TM,
    at,
    brief,
    case,
    cb,
    d,
    decision,
    first_moment_after,
    last_moment,
    local,
    of,
    one,
    run,
    status_at,
    visit,
    with_contacts,
    with_decisions,
)

START = "2027-02-01"


# -- CB-VISIT-10WD -----------------------------------------------------------------------------
def test_cb_visit_10wd_before_any_visit_is_plan_start_plus_10_wd() -> None:
    """CB-VISIT-10WD: before any visit, plan start + 10 WD (1 Feb -> 15 Feb 2027)."""
    obs = run(cb(), case(START), local("2027-02-03"))
    assert brief(obs) == [("CB-VISIT-10WD", "2027-02-15", "due", LEAD)]


def test_cb_visit_10wd_fires_from_the_last_qualifying_home_visit() -> None:
    """CB-VISIT-10WD: last qualifying home visit (Wed 10 Feb) + 10 WD = Wed 24 Feb."""
    c = case(START, visit("2027-02-10T10:00"))
    assert brief(run(cb(), c, local("2027-02-11"))) == [("CB-VISIT-10WD", "2027-02-24", "due", LEAD)]


def test_cb_visit_10wd_boundary_last_instant_due_first_instant_overdue() -> None:
    """CB-VISIT-10WD: due until the end of local 24 Feb; overdue from local midnight."""
    c = case(START, visit("2027-02-10T10:00"))
    assert status_at(cb(), c, last_moment("2027-02-24"), "CB-VISIT-10WD") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-24"), "CB-VISIT-10WD") == "overdue"


def test_cb_visit_10wd_boundary_before_any_visit() -> None:
    """CB-VISIT-10WD: plan start + 10 WD = 15 Feb: due on it, overdue on 16 Feb."""
    c = case(START)
    assert status_at(cb(), c, last_moment("2027-02-15"), "CB-VISIT-10WD") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-15"), "CB-VISIT-10WD") == "overdue"


def test_cb_visit_10wd_met_by_a_visit_on_the_due_day() -> None:
    """CB-VISIT-10WD: a visit on 24 Feb meets it; the next is due 24 Feb + 10 WD = 10 Mar."""
    c = case(START, visit("2027-02-10T10:00"), visit("2027-02-24T15:00"))
    obs = run(cb(), c, last_moment("2027-02-24"))
    assert brief(obs) == [("CB-VISIT-10WD", "2027-03-10", "due", LEAD)]


def test_cb_visit_10wd_duty_social_worker_visit_counts() -> None:
    """CB-VISIT-10WD: a qualifying home visit is by a social worker, lead or duty."""
    c = case(START, visit("2027-02-10T10:00", by=DUTY))
    assert one(run(cb(), c, local("2027-02-11")), "CB-VISIT-10WD").due == d("2027-02-24")


@pytest.mark.parametrize(
    "contact",
    [
        pytest.param(visit("2027-02-10T10:00", seen=False), id="child not seen"),
        pytest.param(visit("2027-02-10T10:00", kind="school_visit"), id="school visit"),
        pytest.param(visit("2027-02-10T10:00", kind="office"), id="office"),
        pytest.param(visit("2027-02-10T10:00", kind="other"), id="other contact"),
        pytest.param(visit("2027-02-10T10:00", by=TM), id="by a team manager"),
        pytest.param(visit("2027-01-29T10:00"), id="before the plan started"),
    ],
)
def test_cb_visit_10wd_not_met_by_a_non_qualifying_contact(contact) -> None:
    """CB-VISIT-10WD: only a home visit by a social worker seeing the child, on the plan, counts."""
    c = case(START, contact)
    assert one(run(cb(), c, local("2027-02-11")), "CB-VISIT-10WD").due == d("2027-02-15")


def test_cb_visit_10wd_over_christmas_2026() -> None:
    """CB-VISIT-10WD: 21 Dec 2026 + 10 WD: 22-24 (3), 29-31 (6), 4-7 Jan (10) = 7 Jan 2027."""
    c = case("2026-12-17", visit("2026-12-21T10:30"))
    assert one(run(cb(), c, local("2026-12-22")), "CB-VISIT-10WD").due == d("2027-01-07")


def test_cb_visit_10wd_uses_the_local_date_of_the_visit() -> None:
    """CB-VISIT-10WD: 30 Jun 2026 23:30 UTC is 1 Jul 00:30 in London (BST), so the visit day is
    Wed 1 Jul and the deadline 1 Jul + 10 WD = 15 Jul (not 14 Jul, as the UTC date would give)."""
    c = case("2026-06-22", visit("2026-06-30T23:30:00+00:00"))
    assert one(run(cb(), c, local("2026-07-02")), "CB-VISIT-10WD").due == d("2026-07-15")


def test_cb_visit_10wd_overdue_by_local_date_in_summer_time() -> None:
    """CB-VISIT-10WD: at 15 Jul 2026 23:30 UTC it is already 16 Jul in London: overdue."""
    c = case("2026-06-22", visit("2026-07-01T10:00"))
    assert status_at(cb(), c, at("2026-07-15T22:59:59"), "CB-VISIT-10WD") == "due"
    assert status_at(cb(), c, at("2026-07-15T23:00:00"), "CB-VISIT-10WD") == "overdue"


def test_cb_visit_10wd_plan_may_require_more_often() -> None:
    """CB-VISIT-10WD: plan interval 5 WD: 1 Feb + 5 = 8 Feb; after a visit on 10 Feb, 17 Feb."""
    assert one(
        run(cb(), case(START, visit_interval_working_days=5), local("2027-02-02")), "CB-VISIT-10WD"
    ).due == d("2027-02-08")
    c = case(START, visit("2027-02-10T10:00"), visit_interval_working_days=5)
    o = one(run(cb(), c, local("2027-02-11")), "CB-VISIT-10WD")
    assert (o.due, o.status) == (d("2027-02-17"), "due")
    assert status_at(cb(), c, first_moment_after("2027-02-17"), "CB-VISIT-10WD") == "overdue"


def test_cb_visit_10wd_not_listed_once_the_plan_has_ended() -> None:
    """CB-VISIT-10WD: no visiting obligation after the plan ends (CB-STEPDOWN takes over)."""
    c = case(START, visit("2027-02-10T10:00"), ended="2027-02-20")
    assert of(run(cb(), c, local("2027-02-22")), "CB-VISIT-10WD") == []


# -- CB-FREQ-FLOOR -----------------------------------------------------------------------------
def test_cb_freq_floor_interval_above_10_is_refused_naming_the_field() -> None:
    """CB-FREQ-FLOOR: a plan interval of 11 WD is refused with CaseError naming the field."""
    with pytest.raises(CaseError) as raised:
        run(cb(), case(START, visit_interval_working_days=11), local("2027-02-02"))
    message = str(raised.value)
    assert message.startswith("plan.visit_interval_working_days")
    assert "CB-FREQ-FLOOR" in message


def test_cb_freq_floor_interval_of_exactly_10_is_allowed() -> None:
    """CB-FREQ-FLOOR: 10 WD is the floor itself, allowed (boundary)."""
    obs = run(cb(), case(START, visit_interval_working_days=10), local("2027-02-02"))
    assert one(obs, "CB-VISIT-10WD").due == d("2027-02-15")


def test_cb_freq_floor_an_agreed_change_above_10_is_refused() -> None:
    """CB-FREQ-FLOOR: a change to 11 WD is refused too, even with the chair's agreement."""
    change = decision("2027-02-03T10:00", "CB-FREQ-CHANGE", CHAIR, "interval_changed", 11)
    c = case(START, decisions=(change,))
    with pytest.raises(CaseError, match="CB-FREQ-FLOOR"):
        run(cb(), c, local("2027-02-04"))


# -- CB-FREQ-CHANGE ----------------------------------------------------------------------------
def proposed(by: str = LEAD, within: int = 5, when: str = "2027-02-03T10:00"):
    return decision(when, "CB-FREQ-CHANGE", by, "interval_changed", within)


def test_cb_freq_change_fires_when_proposed_without_the_chair() -> None:
    """CB-FREQ-CHANGE: a change proposed by the lead SW on 3 Feb needs the CP Chair's agreement,
    owed by the cp_chair on the day of the change; until then the current interval stands."""
    c = case(START, decisions=(proposed(),))
    obs = run(cb(), c, local("2027-02-03", "15:00"))
    assert brief(of(obs, "CB-FREQ-CHANGE")) == [("CB-FREQ-CHANGE", "2027-02-03", "due", CHAIR)]
    assert one(obs, "CB-VISIT-10WD").due == d("2027-02-15")  # still 10 WD


def test_cb_freq_change_boundary() -> None:
    """CB-FREQ-CHANGE: due on the day of the change, overdue the day after."""
    c = case(START, decisions=(proposed(),))
    assert status_at(cb(), c, last_moment("2027-02-03"), "CB-FREQ-CHANGE") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-03"), "CB-FREQ-CHANGE") == "overdue"


def test_cb_freq_change_met_by_the_chairs_agreement() -> None:
    """CB-FREQ-CHANGE: the CP Chair records the change on 4 Feb: met, and the new interval of
    5 WD applies (no visit yet: 1 Feb + 5 WD = 8 Feb)."""
    c = case(START, decisions=(proposed(), proposed(CHAIR, when="2027-02-04T09:00")))
    obs = run(cb(), c, local("2027-02-04", "12:00"))
    assert of(obs, "CB-FREQ-CHANGE") == []
    assert one(obs, "CB-VISIT-10WD").due == d("2027-02-08")


def test_cb_freq_change_by_the_chair_directly_needs_nothing_more() -> None:
    """CB-FREQ-CHANGE: a change recorded by the CP Chair is agreed; a visit on 10 Feb + 5 WD."""
    c = case(START, visit("2027-02-10T10:00"), decisions=(proposed(CHAIR),))
    obs = run(cb(), c, local("2027-02-11"))
    assert of(obs, "CB-FREQ-CHANGE") == []
    assert one(obs, "CB-VISIT-10WD").due == d("2027-02-17")


def test_cb_freq_change_by_a_team_manager_alone_still_needs_the_chair() -> None:
    """CB-FREQ-CHANGE: a team manager records a change to 5 WD on 3 Feb; without the CP Chair's
    agreement the cp_chair owes it, and the interval stays 10 WD (1 Feb + 10 WD = 15 Feb)."""
    c = case(START, decisions=(proposed(TM),))
    obs = run(cb(), c, local("2027-02-03", "15:00"))
    assert brief(of(obs, "CB-FREQ-CHANGE")) == [("CB-FREQ-CHANGE", "2027-02-03", "due", CHAIR)]
    assert one(obs, "CB-VISIT-10WD").due == d("2027-02-15")


def test_cb_freq_change_is_stored_with_who_agreed_and_when() -> None:
    """CB-FREQ-CHANGE: the basis of the visit obligation names who agreed and when."""
    c = case(START, decisions=(proposed(CHAIR),))
    basis = one(run(cb(), c, local("2027-02-04")), "CB-VISIT-10WD").basis
    assert "cp chair" in basis and "2027-02-03" in basis and "CB-FREQ-CHANGE" in basis


# -- CB-BEDROOM-ALT ----------------------------------------------------------------------------
def test_cb_bedroom_alt_next_visit_must_see_the_bedroom() -> None:
    """CB-BEDROOM-ALT: the latest home visit (10 Feb) did not see the bedroom: the next one, due
    with CB-VISIT-10WD on 24 Feb, must; its reminder says so."""
    c = case(START, visit("2027-02-10T10:00", bedroom_seen=False))
    obs = run(cb(), c, local("2027-02-11"))
    o = one(obs, "CB-BEDROOM-ALT")
    assert (o.due, o.status, o.owner) == (d("2027-02-24"), "due", LEAD)
    assert "bedroom" in o.summary
    assert of(obs, "CB-BEDROOM-ALT", TM) == []  # one visit without the bedroom is no breach


def test_cb_bedroom_alt_boundary_of_the_next_visit() -> None:
    """CB-BEDROOM-ALT: due to the end of 24 Feb, overdue from 25 Feb."""
    c = case(START, visit("2027-02-10T10:00", bedroom_seen=False))
    assert status_at(cb(), c, last_moment("2027-02-24"), "CB-BEDROOM-ALT") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-24"), "CB-BEDROOM-ALT") == "overdue"


def test_cb_bedroom_alt_met_when_the_next_visit_sees_the_bedroom() -> None:
    """CB-BEDROOM-ALT: alternate visits (not seen, seen, not seen) never breach."""
    c = case(START, visit("2027-02-10T10:00", bedroom_seen=False), visit("2027-02-17T10:00"))
    assert of(run(cb(), c, local("2027-02-18")), "CB-BEDROOM-ALT") == []
    c = with_contacts(c, visit("2027-02-24T10:00", bedroom_seen=False))
    assert brief(of(run(cb(), c, local("2027-02-25")), "CB-BEDROOM-ALT")) == [
        ("CB-BEDROOM-ALT", "2027-03-10", "due", LEAD)
    ]


def two_without_bedroom():
    return case(
        START,
        visit("2027-02-10T10:00", bedroom_seen=False),
        visit("2027-02-17T10:00", bedroom_seen=False),
    )


def test_cb_bedroom_alt_two_visits_in_a_row_is_a_breach_for_the_team_manager() -> None:
    """CB-BEDROOM-ALT: two home visits in a row without the bedroom: the team manager is shown
    the breach (respond within 24 h of the second visit, 18 Feb 10:00 UTC)."""
    obs = run(cb(), two_without_bedroom(), local("2027-02-17", "12:00"))
    tm = one(obs, "CB-BEDROOM-ALT", TM)
    assert (tm.due.isoformat(), tm.status) == ("2027-02-18T10:00:00+00:00", "due")
    assert one(obs, "CB-BEDROOM-ALT", LEAD).due == d("2027-03-03")


def test_cb_bedroom_alt_breach_boundary() -> None:
    """CB-BEDROOM-ALT: the breach is due at 18 Feb 10:00 UTC exactly and overdue a second later."""
    c = two_without_bedroom()
    assert status_at(cb(), c, at("2027-02-18T10:00:00"), "CB-BEDROOM-ALT", TM) == "due"
    assert status_at(cb(), c, at("2027-02-18T10:00:01"), "CB-BEDROOM-ALT", TM) == "overdue"


def test_cb_bedroom_alt_breach_met_by_the_managers_recorded_decision() -> None:
    """CB-BEDROOM-ALT: the team manager's recorded decision meets the breach prompt."""
    c = with_decisions(two_without_bedroom(), decision("2027-02-17T16:00", "CB-BEDROOM-ALT", TM, "reviewed"))
    obs = run(cb(), c, local("2027-02-18", "12:00"))
    assert of(obs, "CB-BEDROOM-ALT", TM) == []
    assert len(of(obs, "CB-BEDROOM-ALT", LEAD)) == 1  # the next visit still must see it


def test_cb_bedroom_alt_unrecorded_bedroom_counts_as_not_seen() -> None:
    """CB-BEDROOM-ALT: a record that does not say the bedroom was seen does not show it was."""
    c = case(START, visit("2027-02-10T10:00", bedroom_seen=None))
    assert len(of(run(cb(), c, local("2027-02-11")), "CB-BEDROOM-ALT", LEAD)) == 1


# -- CB-SEEN-ALONE -----------------------------------------------------------------------------
def not_alone(when: str, **kw):
    return visit(when, seen_alone="no", seen_alone_reason="parent would not leave", **kw)


def test_cb_seen_alone_two_visits_not_alone_tells_the_team_manager() -> None:
    """CB-SEEN-ALONE: a child of 6 not seen alone on 2 consecutive visits: the team manager is
    told, within 24 h of the second (18 Feb 10:00 UTC)."""
    c = case(START, not_alone("2027-02-10T10:00"), not_alone("2027-02-17T10:00"), dob="2020-06-01")
    o = one(run(cb(), c, local("2027-02-17", "12:00")), "CB-SEEN-ALONE")
    assert (o.due.isoformat(), o.status, o.owner) == ("2027-02-18T10:00:00+00:00", "due", TM)


def test_cb_seen_alone_boundary() -> None:
    """CB-SEEN-ALONE: due at 18 Feb 10:00 UTC, overdue after it."""
    c = case(START, not_alone("2027-02-10T10:00"), not_alone("2027-02-17T10:00"), dob="2020-06-01")
    assert status_at(cb(), c, at("2027-02-18T10:00:00"), "CB-SEEN-ALONE") == "due"
    assert status_at(cb(), c, at("2027-02-18T10:00:01"), "CB-SEEN-ALONE") == "overdue"


def test_cb_seen_alone_one_visit_is_not_enough() -> None:
    """CB-SEEN-ALONE: the parameter is 2 consecutive visits; 1 does not fire."""
    c = case(START, not_alone("2027-02-10T10:00"), dob="2020-06-01")
    assert of(run(cb(), c, local("2027-02-11")), "CB-SEEN-ALONE") == []


def test_cb_seen_alone_met_by_a_decision() -> None:
    """CB-SEEN-ALONE: met by the team manager's recorded decision (supervision)."""
    base = case(START, not_alone("2027-02-10T10:00"), not_alone("2027-02-17T10:00"), dob="2020-06-01")
    decided = with_decisions(base, decision("2027-02-17T15:00", "CB-SEEN-ALONE", TM, "reviewed"))
    assert of(run(cb(), decided, local("2027-02-18", "12:00")), "CB-SEEN-ALONE") == []


def test_cb_seen_alone_only_children_aged_4_and_over() -> None:
    """CB-SEEN-ALONE: born 17 Feb 2023, the child is 3 on 10 Feb 2027 and 4 on 17 Feb 2027: the
    first visit does not count; a third visit not alone (24 Feb) makes two at 4+."""
    c = case(START, not_alone("2027-02-10T10:00"), not_alone("2027-02-17T10:00"), dob="2023-02-17")
    assert of(run(cb(), c, local("2027-02-18")), "CB-SEEN-ALONE") == []
    c = with_contacts(c, not_alone("2027-02-24T10:00"))
    o = one(run(cb(), c, local("2027-02-24", "12:00")), "CB-SEEN-ALONE")
    assert o.due.isoformat() == "2027-02-25T10:00:00+00:00"


def test_cb_seen_alone_not_applicable_breaks_the_run() -> None:
    """CB-SEEN-ALONE: `not_applicable` (age or understanding) is no visit without being alone."""
    c = case(
        START,
        not_alone("2027-02-10T10:00"),
        visit("2027-02-17T10:00", seen_alone="not_applicable"),
        not_alone("2027-02-24T10:00"),
        dob="2020-06-01",
    )
    assert of(run(cb(), c, local("2027-02-25")), "CB-SEEN-ALONE") == []


# -- CB-BABY-AWAKE -----------------------------------------------------------------------------
def test_cb_baby_awake_baby_not_seen_awake_is_flagged() -> None:
    """CB-BABY-AWAKE: a baby of 5 months not seen awake on 10 Feb: the team manager is told
    (within 24 h: 11 Feb 10:00 UTC)."""
    c = case(START, visit("2027-02-10T10:00", child_awake=False), dob="2026-09-01")
    o = one(run(cb(), c, local("2027-02-10", "12:00")), "CB-BABY-AWAKE")
    assert (o.due.isoformat(), o.status, o.owner) == ("2027-02-11T10:00:00+00:00", "due", TM)


def test_cb_baby_awake_boundary() -> None:
    """CB-BABY-AWAKE: due at 11 Feb 10:00 UTC, overdue after it."""
    c = case(START, visit("2027-02-10T10:00", child_awake=False), dob="2026-09-01")
    assert status_at(cb(), c, at("2027-02-11T10:00:00"), "CB-BABY-AWAKE") == "due"
    assert status_at(cb(), c, at("2027-02-11T10:00:01"), "CB-BABY-AWAKE") == "overdue"


def test_cb_baby_awake_met() -> None:
    """CB-BABY-AWAKE: seen awake needs nothing; a flagged visit is met by the recorded decision."""
    awake = case(START, visit("2027-02-10T10:00", child_awake=True), dob="2026-09-01")
    assert of(run(cb(), awake, local("2027-02-10", "12:00")), "CB-BABY-AWAKE") == []
    asleep = case(
        START,
        visit("2027-02-10T10:00", child_awake=False),
        dob="2026-09-01",
        decisions=(decision("2027-02-10T14:00", "CB-BABY-AWAKE", TM, "reviewed"),),
    )
    assert of(run(cb(), asleep, local("2027-02-10", "15:00")), "CB-BABY-AWAKE") == []


def test_cb_baby_awake_record_must_state_it() -> None:
    """CB-BABY-AWAKE: a baby's visit record that does not say whether awake is flagged too."""
    c = case(START, visit("2027-02-10T10:00", child_awake=None), dob="2026-09-01")
    assert len(of(run(cb(), c, local("2027-02-10", "12:00")), "CB-BABY-AWAKE")) == 1


def test_cb_baby_awake_under_18_months_only() -> None:
    """CB-BABY-AWAKE: born 17 Aug 2025, the child is 17 months on 16 Feb 2027 (a baby) and
    18 months on 17 Feb 2027 (not a baby)."""
    baby = case(START, visit("2027-02-16T10:00", child_awake=False), dob="2025-08-17")
    assert len(of(run(cb(), baby, local("2027-02-16", "12:00")), "CB-BABY-AWAKE")) == 1
    toddler = case(START, visit("2027-02-17T10:00", child_awake=False), dob="2025-08-17")
    assert of(run(cb(), toddler, local("2027-02-17", "12:00")), "CB-BABY-AWAKE") == []


# -- CB-STEPDOWN -------------------------------------------------------------------------------
def ended_plan(**plan):
    plan.setdefault("ended", "2027-06-01")
    return case(START, visit("2027-05-25T10:00"), **plan)


def test_cb_stepdown_fires_at_plan_end() -> None:
    """CB-STEPDOWN: the plan ends on 1 Jun 2027: the lead SW records the CIN visiting arrangement,
    due that day; visiting obligations stop."""
    obs = run(cb(), ended_plan(), local("2027-06-01"))
    assert brief(obs) == [("CB-STEPDOWN", "2027-06-01", "due", LEAD)]
    assert "reduce visiting gradually" not in obs[0].summary


def test_cb_stepdown_not_before_the_plan_ends() -> None:
    """CB-STEPDOWN: the day before the end there is nothing to step down yet."""
    obs = run(cb(), ended_plan(), last_moment("2027-05-31"))
    assert of(obs, "CB-STEPDOWN") == []
    assert len(of(obs, "CB-VISIT-10WD")) == 1


def test_cb_stepdown_boundary() -> None:
    """CB-STEPDOWN: due to the end of the plan's last day, overdue the next day."""
    assert status_at(cb(), ended_plan(), last_moment("2027-06-01"), "CB-STEPDOWN") == "due"
    assert status_at(cb(), ended_plan(), first_moment_after("2027-06-01"), "CB-STEPDOWN") == "overdue"


def test_cb_stepdown_met_by_recording_the_cin_arrangement() -> None:
    """CB-STEPDOWN: met once the CIN arrangement is recorded."""
    c = with_decisions(
        ended_plan(), decision("2027-06-01T11:00", "CB-STEPDOWN", LEAD, "cin_arrangement_recorded")
    )
    assert run(cb(), c, local("2027-06-02")) == []


@pytest.mark.parametrize(
    ("plan", "warning"),
    [
        ({"plan_number": 2}, "second or subsequent plan"),
        ({"exploitation_concerns": True}, "exploitation"),
    ],
)
def test_cb_stepdown_warns(plan, warning) -> None:
    """CB-STEPDOWN: a second or subsequent plan, or child-exploitation concerns: warn."""
    o = one(run(cb(), ended_plan(**plan), local("2027-06-01")), "CB-STEPDOWN")
    assert "gradually" in o.summary and warning in o.summary


def test_cb_stepdown_warns_after_over_15_months_only() -> None:
    """CB-STEPDOWN: started 15 Jan 2026; ended 15 Apr 2027 is exactly 15 months (no warning),
    ended 16 Apr 2027 is over 15 months (warning)."""
    exactly = case("2026-01-15", ended="2027-04-15")
    o = one(run(cb(), exactly, local("2027-04-15")), "CB-STEPDOWN")
    assert "15 months" not in o.summary
    over = case("2026-01-15", ended="2027-04-16")
    o = one(run(cb(), over, local("2027-04-16")), "CB-STEPDOWN")
    assert "over 15 months" in o.summary
