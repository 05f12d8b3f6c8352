"""Central Bedfordshire: when the child is not seen.

CB-NOTSEEN-DISCUSS, CB-NOTSEEN-REVISIT, CB-NOTSEEN-AGAIN, CB-ACCESS, CB-20CD-LSW, CB-30WD-ANY.
Plan start: Monday 1 February 2027. Not-seen home visits: Wed 10 Feb 10:00, Fri 12 Feb 09:00 and
Mon 15 Feb 10:00 UTC (GMT, so local dates equal UTC dates). Working days counted by hand:
  10 Feb + 5 WD = 17 Feb; 10 Feb + 3 WD = 15 Feb; 12 Feb - 10 WD = 29 Jan;
  23 Feb + 3 WD = 26 Feb; 25 Feb + 3 WD = 2 Mar; 21 Feb (Sun) + 3 WD = 24 Feb;
  1 Feb + 30 WD = 15 Mar; 10 Mar + 30 WD (Easter 26 and 29 Mar) = 23 Apr.
"""

from __future__ import annotations

import pytest

from tests.rules.builders import (
    CHAIR,
    DUTY,
    LEAD,
    PM,
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
    sighting,
    status_at,
    visit,
    with_contacts,
    with_decisions,
)

START = "2027-02-01"
W1 = "2027-02-10T10:00"
W2 = "2027-02-12T09:00"
W3 = "2027-02-15T10:00"


def not_seen(when: str, **kw):
    return visit(when, seen=False, **kw)


def one_not_seen(**kw):
    return case(START, not_seen(W1), **kw)


def two_not_seen(**kw):
    return case(START, not_seen(W1), not_seen(W2), **kw)


def three_not_seen(**kw):
    return case(START, not_seen(W1), not_seen(W2), not_seen(W3), **kw)


# -- CB-NOTSEEN-DISCUSS ------------------------------------------------------------------------
def test_cb_notseen_discuss_fires_after_a_not_seen_home_visit() -> None:
    """CB-NOTSEEN-DISCUSS: the child not seen on 10 Feb 10:00: the team manager discusses it
    within 24 h (11 Feb 10:00 UTC). The whole picture at noon: also the revisit (17 Feb) and
    the standing 10-WD visit from the plan start (15 Feb), which a not-seen visit does not meet."""
    assert brief(run(cb(), one_not_seen(), at("2027-02-10T12:00"))) == [
        ("CB-NOTSEEN-DISCUSS", "2027-02-11T10:00:00+00:00", "due", TM),
        ("CB-VISIT-10WD", "2027-02-15", "due", LEAD),
        ("CB-NOTSEEN-REVISIT", "2027-02-17", "due", LEAD),
    ]


def test_cb_notseen_discuss_boundary() -> None:
    """CB-NOTSEEN-DISCUSS: due at 11 Feb 10:00 UTC, overdue a second later."""
    c = one_not_seen()
    assert status_at(cb(), c, at("2027-02-11T10:00:00"), "CB-NOTSEEN-DISCUSS") == "due"
    assert status_at(cb(), c, at("2027-02-11T10:00:01"), "CB-NOTSEEN-DISCUSS") == "overdue"


def test_cb_notseen_discuss_met_by_the_managers_decision() -> None:
    """CB-NOTSEEN-DISCUSS: met by the recorded decision (a further-visit timeframe)."""
    c = one_not_seen(decisions=(decision("2027-02-10T14:00", "CB-NOTSEEN-DISCUSS", TM, "further_visit", 3),))
    assert of(run(cb(), c, at("2027-02-10T15:00")), "CB-NOTSEEN-DISCUSS") == []


def test_cb_notseen_discuss_met_by_emergency_action() -> None:
    """CB-NOTSEEN-DISCUSS: or by the decision to take emergency action."""
    c = one_not_seen(decisions=(decision("2027-02-10T14:00", "CB-NOTSEEN-DISCUSS", TM, "emergency_action"),))
    assert of(run(cb(), c, at("2027-02-10T15:00")), "CB-NOTSEEN-DISCUSS") == []


def test_cb_notseen_discuss_a_decision_before_the_visit_does_not_count() -> None:
    """CB-NOTSEEN-DISCUSS: a decision recorded before the not-seen visit is not about it."""
    c = one_not_seen(decisions=(decision("2027-02-09T14:00", "CB-NOTSEEN-DISCUSS", TM, "further_visit", 3),))
    assert len(of(run(cb(), c, at("2027-02-10T15:00")), "CB-NOTSEEN-DISCUSS")) == 1


def test_cb_notseen_discuss_not_for_a_school_visit() -> None:
    """CB-NOTSEEN-DISCUSS: the rule is about home visits; a school contact not seeing the child
    is not one."""
    c = case(START, not_seen(W1, kind="school_visit"))
    assert of(run(cb(), c, at("2027-02-10T12:00")), "CB-NOTSEEN-DISCUSS") == []


# -- CB-NOTSEEN-REVISIT ------------------------------------------------------------------------
def test_cb_notseen_revisit_at_the_latest_5_wd() -> None:
    """CB-NOTSEEN-REVISIT: without a manager's timeframe: 10 Feb + 5 WD = 17 Feb, lead SW."""
    o = one(run(cb(), one_not_seen(), at("2027-02-10T12:00")), "CB-NOTSEEN-REVISIT")
    assert (o.due, o.status, o.owner) == (d("2027-02-17"), "due", LEAD)


def test_cb_notseen_revisit_boundary() -> None:
    """CB-NOTSEEN-REVISIT: due to the end of 17 Feb, overdue from 18 Feb."""
    c = one_not_seen()
    assert status_at(cb(), c, last_moment("2027-02-17"), "CB-NOTSEEN-REVISIT") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-17"), "CB-NOTSEEN-REVISIT") == "overdue"


@pytest.mark.parametrize(("within", "due"), [(3, "2027-02-15"), (5, "2027-02-17"), (7, "2027-02-17")])
def test_cb_notseen_revisit_within_the_managers_timeframe_at_most_5_wd(within, due) -> None:
    """CB-NOTSEEN-REVISIT: not-seen visit + min(manager's timeframe, 5 WD)."""
    c = one_not_seen(
        decisions=(decision("2027-02-10T14:00", "CB-NOTSEEN-DISCUSS", TM, "further_visit", within),)
    )
    assert one(run(cb(), c, at("2027-02-10T15:00")), "CB-NOTSEEN-REVISIT").due == d(due)


def test_cb_notseen_revisit_over_christmas() -> None:
    """CB-NOTSEEN-REVISIT: not seen Wed 23 Dec 2026: 24, 29, 30, 31 Dec, 4 Jan = 4 Jan 2027."""
    c = case("2026-12-01", not_seen("2026-12-23T10:00"))
    assert one(run(cb(), c, at("2026-12-23T12:00")), "CB-NOTSEEN-REVISIT").due == d("2027-01-04")


@pytest.mark.parametrize("by", [LEAD, DUTY])
def test_cb_notseen_revisit_met_by_a_further_visit_seeing_the_child(by: str) -> None:
    """CB-NOTSEEN-REVISIT: a further visit by the lead SW or a duty worker seeing the child meets
    it, and ends the not-seen chain."""
    c = with_contacts(one_not_seen(), visit("2027-02-12T10:00", by=by))
    obs = run(cb(), c, at("2027-02-12T12:00"))
    assert [o for o in obs if o.rule.startswith("CB-NOTSEEN")] == []
    assert one(obs, "CB-VISIT-10WD").due == d("2027-02-26")  # 12 Feb + 10 WD


# -- CB-NOTSEEN-AGAIN --------------------------------------------------------------------------
def test_cb_notseen_again_fires_when_still_not_seen_at_the_further_visit() -> None:
    """CB-NOTSEEN-AGAIN: still not seen on 12 Feb 09:00: the team manager again within 24 h, and
    the lead SW checks with agencies, attempts contact and visits within 24 h (13 Feb 09:00).
    The revisit rule is replaced by this one."""
    obs = run(cb(), two_not_seen(), at("2027-02-12T10:00"))
    assert sorted(brief(of(obs, "CB-NOTSEEN-AGAIN"))) == [
        ("CB-NOTSEEN-AGAIN", "2027-02-13T09:00:00+00:00", "due", LEAD),
        ("CB-NOTSEEN-AGAIN", "2027-02-13T09:00:00+00:00", "due", TM),
    ]
    assert of(obs, "CB-NOTSEEN-REVISIT") == []


@pytest.mark.parametrize("owner", [TM, LEAD])
def test_cb_notseen_again_boundary(owner: str) -> None:
    """CB-NOTSEEN-AGAIN: due at 13 Feb 09:00 UTC exactly, overdue a second later."""
    c = two_not_seen()
    assert status_at(cb(), c, at("2027-02-13T09:00:00"), "CB-NOTSEEN-AGAIN", owner) == "due"
    assert status_at(cb(), c, at("2027-02-13T09:00:01"), "CB-NOTSEEN-AGAIN", owner) == "overdue"


def test_cb_notseen_again_met() -> None:
    """CB-NOTSEEN-AGAIN: the manager's recorded decision meets the team manager's part; a visit
    seeing the child within 24 h meets the lead SW's part."""
    c = with_decisions(
        two_not_seen(), decision("2027-02-12T15:00", "CB-NOTSEEN-AGAIN", TM, "further_visit", 1)
    )
    obs = run(cb(), c, at("2027-02-12T16:00"))
    assert of(obs, "CB-NOTSEEN-AGAIN", TM) == []
    assert len(of(obs, "CB-NOTSEEN-AGAIN", LEAD)) == 1
    c = with_contacts(c, visit("2027-02-13T08:00", by=DUTY))
    obs = run(cb(), c, at("2027-02-13T09:30"))
    assert [o for o in obs if o.rule.startswith("CB-NOTSEEN")] == []


def test_cb_notseen_again_agency_check_covers_the_last_10_wd() -> None:
    """CB-NOTSEEN-AGAIN: check whether other agencies saw the child in the last 10 WD (since
    12 Feb - 10 WD = 29 Jan); a sighting by school on 5 Feb is named in the reminder, one on
    28 Jan is outside the window."""
    lead = one(run(cb(), two_not_seen(), at("2027-02-12T10:00")), "CB-NOTSEEN-AGAIN", LEAD)
    assert "since 2027-01-29" in lead.summary
    c = two_not_seen(sightings=(sighting("2027-02-05T09:00", "school"),))
    lead = one(run(cb(), c, at("2027-02-12T10:00")), "CB-NOTSEEN-AGAIN", LEAD)
    assert "seen by school on 2027-02-05" in lead.summary
    c = two_not_seen(sightings=(sighting("2027-01-28T09:00", "nursery"),))
    lead = one(run(cb(), c, at("2027-02-12T10:00")), "CB-NOTSEEN-AGAIN", LEAD)
    assert "nursery" not in lead.summary
    c = two_not_seen(sightings=(sighting("2027-01-29T09:00", "nursery"),))
    lead = one(run(cb(), c, at("2027-02-12T10:00")), "CB-NOTSEEN-AGAIN", LEAD)
    assert "seen by nursery on 2027-01-29" in lead.summary


def test_cb_notseen_again_first_discussion_still_owed_if_never_held() -> None:
    """CB-NOTSEEN-DISCUSS stays open for the first visit until the manager records a decision."""
    obs = run(cb(), two_not_seen(), at("2027-02-12T10:00"))
    assert one(obs, "CB-NOTSEEN-DISCUSS").due == at("2027-02-11T10:00")


# -- CB-ACCESS ---------------------------------------------------------------------------------
def test_cb_access_third_not_seen_visit_goes_to_the_practice_manager() -> None:
    """CB-ACCESS: a third consecutive not-seen home visit (15 Feb 10:00): the practice manager or
    head of service decides, respond within 24 h (16 Feb 10:00 UTC)."""
    o = one(run(cb(), three_not_seen(), at("2027-02-15T12:00")), "CB-ACCESS")
    assert (o.due.isoformat(), o.status, o.owner) == ("2027-02-16T10:00:00+00:00", "due", PM)
    assert "Review CP Conference" in o.summary


def test_cb_access_not_on_the_second_not_seen_visit() -> None:
    """CB-ACCESS: two not-seen visits are not yet difficulty obtaining access."""
    assert of(run(cb(), two_not_seen(), at("2027-02-12T10:00")), "CB-ACCESS") == []


def test_cb_access_boundary() -> None:
    """CB-ACCESS: due at 16 Feb 10:00 UTC, overdue a second later."""
    c = three_not_seen()
    assert status_at(cb(), c, at("2027-02-16T10:00:00"), "CB-ACCESS") == "due"
    assert status_at(cb(), c, at("2027-02-16T10:00:01"), "CB-ACCESS") == "overdue"


@pytest.mark.parametrize(
    ("by", "outcome"),
    [("practice_manager", "another_agency_to_see"), ("head_of_service", "review_conference")],
)
def test_cb_access_met_by_an_authorised_decision(by: str, outcome: str) -> None:
    """CB-ACCESS: a formal, authorised decision: another agency sees the child, or a Review CP
    Conference is called."""
    c = with_decisions(three_not_seen(), decision("2027-02-15T14:00", "CB-ACCESS", by, outcome))
    assert of(run(cb(), c, at("2027-02-15T15:00")), "CB-ACCESS") == []


def test_cb_access_not_met_by_a_team_managers_decision() -> None:
    """CB-ACCESS: the decision is authorised by the practice manager or head of service."""
    c = with_decisions(
        three_not_seen(), decision("2027-02-15T14:00", "CB-ACCESS", TM, "another_agency_to_see")
    )
    assert len(of(run(cb(), c, at("2027-02-15T15:00")), "CB-ACCESS")) == 1


def test_cb_access_when_the_manager_says_so() -> None:
    """CB-ACCESS: the manager records difficulty obtaining access after one not-seen visit (11 Feb
    12:00): the practice manager is owed a decision within 24 h (12 Feb 12:00 UTC)."""
    c = one_not_seen(decisions=(decision("2027-02-11T12:00", "CB-ACCESS", TM, "access_difficulty"),))
    o = one(run(cb(), c, at("2027-02-11T13:00")), "CB-ACCESS")
    assert (o.due.isoformat(), o.owner) == ("2027-02-12T12:00:00+00:00", PM)


# -- CB-20CD-LSW -------------------------------------------------------------------------------
def seen_by_lead_3_feb(*more, **kw):
    """Last seen by the lead SW on Wed 3 Feb 2027: 20 calendar days later is Tue 23 Feb."""
    return case(START, visit("2027-02-03T10:00"), *more, **kw)


def test_cb_20cd_lsw_not_before_20_calendar_days() -> None:
    """CB-20CD-LSW: 3 Feb + 20 days = 23 Feb; nothing on 22 Feb."""
    assert of(run(cb(), seen_by_lead_3_feb(), last_moment("2027-02-22")), "CB-20CD-LSW") == []


def test_cb_20cd_lsw_fires_for_the_team_manager() -> None:
    """CB-20CD-LSW: not seen by the lead SW since 3 Feb: on 23 Feb the team manager assesses the
    risks and decides on emergency action."""
    o = one(run(cb(), seen_by_lead_3_feb(), local("2027-02-23", "00:00")), "CB-20CD-LSW")
    assert (o.due, o.status, o.owner) == (d("2027-02-23"), "due", TM)


def test_cb_20cd_lsw_boundary() -> None:
    """CB-20CD-LSW: due to the end of 23 Feb, overdue from 24 Feb."""
    c = seen_by_lead_3_feb()
    assert status_at(cb(), c, last_moment("2027-02-23"), "CB-20CD-LSW") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-23"), "CB-20CD-LSW") == "overdue"


def test_cb_20cd_lsw_from_the_plan_start_when_never_seen() -> None:
    """CB-20CD-LSW: never seen by the lead SW: plan start 1 Feb + 20 days = Sun 21 Feb, when it
    opens; due the next working day, Mon 22 Feb (RULES.md R4)."""
    o = one(run(cb(), case(START), local("2027-02-21")), "CB-20CD-LSW")
    assert (o.due, o.status) == (d("2027-02-22"), "due")


def test_cb_20cd_lsw_any_contact_by_the_lead_counts() -> None:
    """CB-20CD-LSW: seen by the lead SW at any contact, home or not: a school visit on 10 Feb
    moves the 20 days to 2 Mar."""
    c = seen_by_lead_3_feb(visit("2027-02-10T10:00", kind="school_visit"))
    assert of(run(cb(), c, local("2027-02-24")), "CB-20CD-LSW") == []
    o = one(run(cb(), c, local("2027-03-02")), "CB-20CD-LSW")
    assert o.due == d("2027-03-02")


@pytest.mark.parametrize(
    "contact",
    [
        pytest.param(visit("2027-02-10T10:00", by=DUTY), id="seen by the duty SW"),
        pytest.param(visit("2027-02-10T10:00", seen=False), id="lead SW, child not seen"),
    ],
)
def test_cb_20cd_lsw_only_the_lead_seeing_the_child_counts(contact) -> None:
    """CB-20CD-LSW: a duty social worker seeing the child, or the lead SW not seeing the child,
    does not reset the 20 days."""
    c = seen_by_lead_3_feb(contact)
    assert one(run(cb(), c, local("2027-02-23")), "CB-20CD-LSW").due == d("2027-02-23")


def test_cb_20cd_lsw_then_contact_the_family_within_3_wd() -> None:
    """CB-20CD-LSW: risks assessed as not immediate: contact the family within 3 WD of the lapse
    (23 Feb + 3 WD = Fri 26 Feb); due on 26 Feb, overdue on 27 Feb."""
    c = seen_by_lead_3_feb(decisions=(decision("2027-02-23T11:00", "CB-20CD-LSW", TM, "risk_assessed"),))
    o = one(run(cb(), c, local("2027-02-23", "12:00")), "CB-20CD-LSW")
    assert (o.due, o.status, o.owner) == (d("2027-02-26"), "due", TM)
    assert status_at(cb(), c, last_moment("2027-02-26"), "CB-20CD-LSW") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-26"), "CB-20CD-LSW") == "overdue"


def test_cb_20cd_lsw_then_meet_the_parent_within_3_wd_of_the_contact() -> None:
    """CB-20CD-LSW: family contacted Thu 25 Feb: meet the parent by 25 Feb + 3 WD = Tue 2 Mar."""
    c = seen_by_lead_3_feb(
        decisions=(
            decision("2027-02-23T11:00", "CB-20CD-LSW", TM, "risk_assessed"),
            decision("2027-02-25T11:00", "CB-20CD-LSW", TM, "family_contacted"),
        )
    )
    o = one(run(cb(), c, local("2027-02-25", "12:00")), "CB-20CD-LSW")
    assert (o.due, o.status) == (d("2027-03-02"), "due")
    assert status_at(cb(), c, last_moment("2027-03-02"), "CB-20CD-LSW") == "due"
    assert status_at(cb(), c, first_moment_after("2027-03-02"), "CB-20CD-LSW") == "overdue"


@pytest.mark.parametrize("outcome", ["written_agreement", "emergency_action"])
def test_cb_20cd_lsw_met(outcome: str) -> None:
    """CB-20CD-LSW: met by emergency action, or by the written agreement with the parent."""
    c = seen_by_lead_3_feb(decisions=(decision("2027-02-23T11:00", "CB-20CD-LSW", TM, outcome),))
    assert of(run(cb(), c, local("2027-02-24")), "CB-20CD-LSW") == []


def test_cb_20cd_lsw_met_by_the_lead_seeing_the_child() -> None:
    """CB-20CD-LSW: the lead SW sees the child on the lapse day: nothing is owed."""
    c = seen_by_lead_3_feb(visit("2027-02-23T10:00"))
    assert of(run(cb(), c, local("2027-02-23", "12:00")), "CB-20CD-LSW") == []


# -- CB-30WD-ANY -------------------------------------------------------------------------------
def test_cb_30wd_any_not_before_30_wd() -> None:
    """CB-30WD-ANY: never seen since the plan start (1 Feb): 30 WD later is Mon 15 Mar."""
    assert of(run(cb(), case(START), last_moment("2027-03-12")), "CB-30WD-ANY") == []


def test_cb_30wd_any_fires_for_the_team_manager_and_the_cp_chair() -> None:
    """CB-30WD-ANY: not seen by any agency for 30 WD: notify the CP Chair and an urgent core
    group meeting (team manager); the CP Chair acknowledges. Both due 15 Mar."""
    obs = run(cb(), case(START), local("2027-03-15", "09:00"))
    assert sorted(brief(of(obs, "CB-30WD-ANY"))) == [
        ("CB-30WD-ANY", "2027-03-15", "due", CHAIR),
        ("CB-30WD-ANY", "2027-03-15", "due", TM),
    ]


@pytest.mark.parametrize("owner", [TM, CHAIR])
def test_cb_30wd_any_boundary(owner: str) -> None:
    """CB-30WD-ANY: due to the end of 15 Mar, overdue from 16 Mar."""
    c = case(START)
    assert status_at(cb(), c, last_moment("2027-03-15"), "CB-30WD-ANY", owner) == "due"
    assert status_at(cb(), c, first_moment_after("2027-03-15"), "CB-30WD-ANY", owner) == "overdue"


def test_cb_30wd_any_counts_any_agencys_sighting_over_easter() -> None:
    """CB-30WD-ANY: seen by the school on 10 Mar: 30 WD with Easter 2027 = 23 Apr."""
    c = case(START, sightings=(sighting("2027-03-10T09:00", "school"),))
    assert of(run(cb(), c, last_moment("2027-04-22")), "CB-30WD-ANY") == []
    obs = of(run(cb(), c, local("2027-04-23")), "CB-30WD-ANY")
    assert {(o.due, o.status) for o in obs} == {(d("2027-04-23"), "due")}


def test_cb_30wd_any_counts_a_social_work_contact() -> None:
    """CB-30WD-ANY: seen by a duty social worker at school on 10 Mar: also 23 Apr."""
    c = case(START, visit("2027-03-10T10:00", kind="school_visit", by=DUTY))
    obs = of(run(cb(), c, local("2027-04-23")), "CB-30WD-ANY")
    assert {o.due for o in obs} == {d("2027-04-23")}


def test_cb_30wd_any_met_by_the_core_group_meeting_and_the_chair() -> None:
    """CB-30WD-ANY: the urgent core group meeting meets the team manager's part; the CP Chair's
    acknowledgement meets the chair's part."""
    c = case(
        START,
        decisions=(decision("2027-03-15T11:00", "CB-30WD-ANY", TM, "core_group_meeting"),),
    )
    assert [o.owner for o in of(run(cb(), c, local("2027-03-15", "12:00")), "CB-30WD-ANY")] == [CHAIR]
    c = with_decisions(c, decision("2027-03-15T12:00", "CB-30WD-ANY", CHAIR, "chair_notified"))
    assert of(run(cb(), c, local("2027-03-15", "13:00")), "CB-30WD-ANY") == []
