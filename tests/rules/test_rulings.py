"""The Rulings R1 to R12 of RULES.md, each at its boundaries, named by rule ID and ruling.

Central Bedfordshire cases start on Monday 1 February 2027; Hillingdon's on Thursday 17 December
2026 (bank holidays 25 and 28 Dec 2026, 1 Jan, 26 and 29 Mar 2027). Times are UTC (GMT until 28
March 2027, so local dates equal UTC dates). Dates counted by hand:
  10 Feb + 1 WD = 11 Feb; 10 Feb + 5 WD = 17 Feb; 3 Feb + 20 days = Tue 23 Feb;
  1 Feb + 20 days = Sun 21 Feb -> Mon 22 Feb; 9 Mar + 20 days = Easter Monday 29 Mar -> Tue 30 Mar;
  23 Feb + 3 WD = 26 Feb; 18 Dec 2026 + 7 days = 25 Dec -> Tue 29 Dec.
"""

from __future__ import annotations

import json

import pytest

from scheduler.rules.casefile import CaseFileError, parse_case_mapping
from tests.rules.builders import (
    DUTY,
    LEAD,
    PM,
    TM,
    at,
    case,
    case_json,
    cb,
    d,
    decision,
    first_moment_after,
    hi,
    last_moment,
    local,
    of,
    one,
    run,
    seen_cli,
    status_at,
    visit,
    with_contacts,
    with_decisions,
)

START = "2027-02-01"
W1 = "2027-02-10T10:00"
HEAD = "head_of_service"


def not_seen(when: str, **kw):
    return visit(when, seen=False, **kw)


def not_alone(when: str, **kw):
    return visit(when, seen_alone="no", seen_alone_reason="parent present", **kw)


# -- R1: who may decide ------------------------------------------------------------------------
def test_cb_notseen_discuss_R1_lead_decision_meets_nothing() -> None:
    """CB-NOTSEEN-DISCUSS R1: the lead social worker's own "further visit in 1 day" is kept and
    meets nothing: the team manager is still prompted, and the revisit stays at 5 WD (17 Feb),
    not the lead's own 1 WD (11 Feb)."""
    c = case(
        START,
        not_seen(W1),
        decisions=(decision("2027-02-10T11:00", "CB-NOTSEEN-DISCUSS", LEAD, "further_visit", 1),),
    )
    out = run(cb(), c, "2027-02-10T12:00")
    assert one(out, "CB-NOTSEEN-DISCUSS").owner == TM
    assert one(out, "CB-NOTSEEN-REVISIT").due == d("2027-02-17")


@pytest.mark.parametrize("by", [TM, PM, HEAD])
def test_cb_notseen_discuss_R1_met_by_a_manager_decision(by: str) -> None:
    """CB-NOTSEEN-DISCUSS R1 boundary: the team manager, a practice manager or head of service
    decides; their 1-WD timeframe sets the revisit (11 Feb)."""
    c = case(
        START,
        not_seen(W1),
        decisions=(decision("2027-02-10T11:00", "CB-NOTSEEN-DISCUSS", by, "further_visit", 1),),
    )
    out = run(cb(), c, "2027-02-10T12:00")
    assert of(out, "CB-NOTSEEN-DISCUSS") == []
    assert one(out, "CB-NOTSEEN-REVISIT").due == d("2027-02-11")


@pytest.mark.parametrize("by", [LEAD, DUTY, "cp_chair", "core_group"])
def test_cb_risk_worse_R1_decision_by_anyone_but_a_manager_meets_nothing(by: str) -> None:
    """CB-RISK-WORSE R1: a "reviewed" recorded by a worker, the chair or the core group leaves
    the team manager's prompt open."""
    c = case(
        START,
        visit(W1, risk_worsened=True),
        decisions=(decision("2027-02-10T11:30", "CB-RISK-WORSE", by, "reviewed"),),
    )
    assert one(run(cb(), c, "2027-02-10T12:00"), "CB-RISK-WORSE").owner == TM


def test_cb_20cd_lsw_R1_lead_risk_assessed_meets_nothing() -> None:
    """CB-20CD-LSW R1: the lead's own "risk assessed" on the lapse day leaves the assessment owed
    (due 23 Feb); the team manager's moves it on to the family contact (26 Feb)."""
    base = case(START, visit("2027-02-03T10:00"))
    lead = with_decisions(base, decision("2027-02-23T09:00", "CB-20CD-LSW", LEAD, "risk_assessed"))
    o = one(run(cb(), lead, "2027-02-23T12:00"), "CB-20CD-LSW")
    assert (o.due, o.key.endswith(":assess")) == (d("2027-02-23"), True)
    tm = with_decisions(base, decision("2027-02-23T09:00", "CB-20CD-LSW", TM, "risk_assessed"))
    assert one(run(cb(), tm, "2027-02-23T12:00"), "CB-20CD-LSW").due == d("2027-02-26")


def test_cb_access_R1_team_manager_decision_meets_nothing() -> None:
    """CB-ACCESS R1: the formal decision is the practice manager's or head of service's."""
    c = case(START, not_seen(W1), not_seen("2027-02-12T09:00"), not_seen("2027-02-15T10:00"))
    tm = with_decisions(c, decision("2027-02-15T12:00", "CB-ACCESS", TM, "another_agency_to_see"))
    assert one(run(cb(), tm, "2027-02-15T13:00"), "CB-ACCESS").owner == PM
    pm = with_decisions(c, decision("2027-02-15T12:00", "CB-ACCESS", PM, "another_agency_to_see"))
    assert of(run(cb(), pm, "2027-02-15T13:00"), "CB-ACCESS") == []


def test_hi_seen_alone_R1_lead_review_meets_nothing() -> None:
    """HI-SEEN-ALONE R1: concerns go to the team manager; the lead's own "reviewed" does not close them."""
    c = case("2026-12-17", not_alone("2026-12-21T10:30", alone_concerns=True))
    lead = with_decisions(c, decision("2026-12-21T12:00", "HI-SEEN-ALONE", LEAD, "reviewed"))
    assert of(run(hi(), lead, "2026-12-21T13:00"), "HI-SEEN-ALONE", TM)
    tm = with_decisions(c, decision("2026-12-21T12:00", "HI-SEEN-ALONE", TM, "reviewed"))
    assert of(run(hi(), tm, "2026-12-21T13:00"), "HI-SEEN-ALONE", TM) == []


def test_cb_rules_R1_deciders_are_policy_data() -> None:
    """R1: each rule that takes a decision names its deciders in the policy file."""
    policy = cb()
    assert policy.rules["CB-FREQ-CHANGE"].deciders == ("cp_chair",)
    assert policy.rules["CB-ACCESS"].deciders == (PM, HEAD)
    assert policy.rules["CB-NOTSEEN-DISCUSS"].deciders == (TM, PM, HEAD)


# -- R2: prompts raised by a visit stay open until decided ------------------------------------
def test_cb_seen_alone_R2_prompt_stays_open_after_a_visit_alone() -> None:
    """CB-SEEN-ALONE R2: two visits not alone (10, 17 Feb), then one alone (18 Feb): the prompt
    raised on 17 Feb stays until the team manager decides."""
    c = case(
        START,
        not_alone(W1),
        not_alone("2027-02-17T10:00"),
        visit("2027-02-18T09:00", seen_alone="yes"),
        dob="2020-06-01",
    )
    o = one(run(cb(), c, "2027-02-18T12:00"), "CB-SEEN-ALONE")
    assert (o.owner, o.due) == (TM, at("2027-02-18T10:00"))
    decided = with_decisions(c, decision("2027-02-18T11:00", "CB-SEEN-ALONE", TM, "reviewed"))
    assert of(run(cb(), decided, "2027-02-18T12:00"), "CB-SEEN-ALONE") == []


def test_cb_seen_alone_R2_boundary_a_decision_before_the_breach_meets_nothing() -> None:
    """CB-SEEN-ALONE R2 boundary: a decision recorded before the visit that made the breach does
    not meet it; one at that visit's instant does."""
    c = case(START, not_alone(W1), not_alone("2027-02-17T10:00"), dob="2020-06-01")
    early = with_decisions(c, decision("2027-02-17T09:59", "CB-SEEN-ALONE", TM, "reviewed"))
    assert of(run(cb(), early, "2027-02-17T12:00"), "CB-SEEN-ALONE")
    on_time = with_decisions(c, decision("2027-02-17T10:00", "CB-SEEN-ALONE", TM, "reviewed"))
    assert of(run(cb(), on_time, "2027-02-17T12:00"), "CB-SEEN-ALONE") == []


def test_cb_bedroom_alt_R2_breach_stays_open_after_the_bedroom_is_seen() -> None:
    """CB-BEDROOM-ALT R2: two visits without the bedroom (10, 17 Feb), then one with it: the
    team manager's prompt stays open; the lead's "next visit must" reminder is met."""
    c = case(
        START,
        visit(W1, bedroom_seen=False),
        visit("2027-02-17T10:00", bedroom_seen=False),
        visit("2027-02-18T09:00"),
    )
    out = run(cb(), c, "2027-02-18T12:00")
    assert [o.owner for o in of(out, "CB-BEDROOM-ALT")] == [TM]
    decided = with_decisions(c, decision("2027-02-18T11:00", "CB-BEDROOM-ALT", TM, "reviewed"))
    assert of(run(cb(), decided, "2027-02-18T12:00"), "CB-BEDROOM-ALT") == []


@pytest.mark.parametrize("rule,flag", [("CB-RISK-WORSE", "risk_worsened"), ("CB-NEW-INJURY", "new_injury")])
def test_cb_record_flag_R2_stays_open_after_a_later_visit(rule: str, flag: str) -> None:
    """CB-RISK-WORSE, CB-NEW-INJURY R2: a later visit with nothing flagged does not close the prompt."""
    c = case(START, visit(W1, **{flag: True}), visit("2027-02-11T10:00"))
    assert one(run(cb(), c, "2027-02-11T12:00"), rule).owner == TM


def test_cb_baby_awake_R2_stays_open_after_a_visit_awake() -> None:
    """CB-BABY-AWAKE R2: a later visit seeing the baby awake does not close the earlier prompt."""
    c = case(
        START, visit(W1, child_awake=False), visit("2027-02-11T10:00", child_awake=True), dob="2026-10-01"
    )
    assert one(run(cb(), c, "2027-02-11T12:00"), "CB-BABY-AWAKE").owner == TM


def test_hi_seen_alone_R2_concerns_stay_open_after_a_visit_alone() -> None:
    """HI-SEEN-ALONE R2: concerns raised on 21 Dec stay with the team manager after a later
    visit sees the child alone (7 Jan); the lead's reminder is met by it."""
    c = case(
        "2026-12-17",
        not_alone("2026-12-21T10:30", alone_concerns=True),
        visit("2027-01-07T10:00", seen_alone="yes"),
    )
    assert [o.owner for o in of(run(hi(), c, "2027-01-07T12:00"), "HI-SEEN-ALONE")] == [TM]


# -- R3: CB-20CD-LSW is met only by decisions on or after its lapse ---------------------------
def test_cb_20cd_lsw_R3_decision_before_the_lapse_day_meets_nothing() -> None:
    """CB-20CD-LSW R3 boundary: seen by the lead on 3 Feb, lapse Tue 23 Feb. "Risk assessed" at
    23:59 on 22 Feb counts for nothing (the assessment is owed on 23 Feb); at 00:00 on 23 Feb it
    counts (the family contact is owed by 26 Feb)."""
    base = case(START, visit("2027-02-03T10:00"))
    early = with_decisions(base, decision("2027-02-22T23:59", "CB-20CD-LSW", TM, "risk_assessed"))
    o = one(run(cb(), early, "2027-02-23T12:00"), "CB-20CD-LSW")
    assert (o.due, o.key.endswith(":assess")) == (d("2027-02-23"), True)
    on_day = with_decisions(base, decision("2027-02-23T00:00", "CB-20CD-LSW", TM, "risk_assessed"))
    assert one(run(cb(), on_day, "2027-02-23T12:00"), "CB-20CD-LSW").due == d("2027-02-26")


# -- R4: lapses open from the morning; date deadlines on a working day -----------------------
def test_cb_20cd_lsw_R4_lapse_on_a_sunday_is_due_on_monday() -> None:
    """CB-20CD-LSW R4: never seen; 1 Feb + 20 days = Sun 21 Feb. Nothing on Saturday; it opens
    on Sunday, due Monday 22 Feb, so it is not overdue on the day it opens; overdue on Tuesday."""
    c = case(START)
    assert of(run(cb(), c, last_moment("2027-02-20")), "CB-20CD-LSW") == []
    o = one(run(cb(), c, local("2027-02-21", "00:00")), "CB-20CD-LSW")
    assert (o.due, o.status) == (d("2027-02-22"), "due")
    assert status_at(cb(), c, last_moment("2027-02-22"), "CB-20CD-LSW") == "due"
    assert status_at(cb(), c, first_moment_after("2027-02-22"), "CB-20CD-LSW") == "overdue"


def test_cb_20cd_lsw_R4_lapse_on_easter_monday_is_due_on_tuesday() -> None:
    """CB-20CD-LSW R4: seen by the lead on 9 Mar; + 20 days = Easter Monday 29 Mar: due Tue 30 Mar."""
    c = case(START, visit("2027-03-09T10:00"))
    assert one(run(cb(), c, local("2027-03-29", "09:00")), "CB-20CD-LSW").due == d("2027-03-30")


def test_hi_initial_1wk_R4_a_week_ending_on_christmas_day_is_due_after_the_bank_holidays() -> None:
    """HI-INITIAL-1WK R4: plan start Fri 18 Dec 2026 + 7 days = 25 Dec: due Tue 29 Dec (boundary)."""
    c = case("2026-12-18")
    assert status_at(hi(), c, last_moment("2026-12-29"), "HI-INITIAL-1WK") == "due"
    assert one(run(hi(), c, last_moment("2026-12-29")), "HI-INITIAL-1WK").due == d("2026-12-29")
    assert status_at(hi(), c, first_moment_after("2026-12-29"), "HI-INITIAL-1WK") == "overdue"


def test_cb_stepdown_R4_plan_ended_on_a_saturday_is_due_on_monday() -> None:
    """CB-STEPDOWN R4: a plan ended on Sat 13 Mar 2027: the arrangement is due Mon 15 Mar."""
    c = case(START, visit("2027-03-10T10:00"), ended="2027-03-13")
    assert one(run(cb(), c, local("2027-03-13")), "CB-STEPDOWN").due == d("2027-03-15")


# -- R5 to R9: boundaries ----------------------------------------------------------------------
def test_cb_20cd_lsw_R5_twenty_days_run_again_from_the_agreement_boundary() -> None:
    """CB-20CD-LSW R5: seen 3 Feb; assessed 23 Feb, contacted 24 Feb, written agreement Fri 26
    Feb; still unseen: nothing on 17 Mar, due on 18 Mar (26 Feb + 20 days)."""
    c = case(
        START,
        visit("2027-02-03T10:00"),
        decisions=(
            decision("2027-02-23T09:00", "CB-20CD-LSW", TM, "risk_assessed"),
            decision("2027-02-24T09:00", "CB-20CD-LSW", TM, "family_contacted"),
            decision("2027-02-26T15:00", "CB-20CD-LSW", TM, "written_agreement"),
        ),
    )
    assert of(run(cb(), c, last_moment("2027-03-17")), "CB-20CD-LSW") == []
    assert one(run(cb(), c, local("2027-03-18", "00:00")), "CB-20CD-LSW").due == d("2027-03-18")


@pytest.mark.parametrize(
    "rule,field", [("HI-BEFORE-CG", "core_group_meetings"), ("HI-BEFORE-REVIEW", "review_conferences")]
)
def test_hi_before_meetings_R6_visit_on_the_meetings_own_day_counts(rule: str, field: str) -> None:
    """HI-BEFORE-CG, HI-BEFORE-REVIEW R6 boundary: a statutory visit on the meeting's own date
    (14 Jan 2027) meets it; one the day after does not."""
    on_day = case(
        "2026-12-17", visit("2026-12-18T10:00"), visit("2027-01-14T08:00"), **{field: ["2027-01-14"]}
    )
    assert of(run(hi(), on_day, "2027-01-14T12:00"), rule) == []
    after = case(
        "2026-12-17", visit("2026-12-16T10:00"), visit("2027-01-15T08:00"), **{field: ["2027-01-14"]}
    )
    assert one(run(hi(), after, "2027-01-15T12:00"), rule).status == "overdue"


@pytest.mark.parametrize(
    "rule,field", [("HI-BEFORE-CG", "core_group_meetings"), ("HI-BEFORE-REVIEW", "review_conferences")]
)
def test_hi_before_meetings_R7_a_school_visit_does_not_meet_them(rule: str, field: str) -> None:
    """HI-BEFORE-CG, HI-BEFORE-REVIEW R7: a school visit the day before the meeting meets nothing."""
    c = case("2026-12-17", visit("2027-01-13T10:00", kind="school_visit"), **{field: ["2027-01-14"]})
    assert one(run(hi(), c, "2027-01-13T12:00"), rule).due == d("2027-01-14")


def test_cb_20cd_lsw_R8_family_contact_due_3_wd_after_the_lapse_however_late_the_assessment() -> None:
    """CB-20CD-LSW R8: lapse Tue 23 Feb; assessed only on 3 Mar: the family contact was still due
    on 26 Feb (23 Feb + 3 WD), so it is overdue at once."""
    c = case(
        START,
        visit("2027-02-03T10:00"),
        decisions=(decision("2027-03-03T09:00", "CB-20CD-LSW", TM, "risk_assessed"),),
    )
    o = one(run(cb(), c, "2027-03-03T12:00"), "CB-20CD-LSW")
    assert (o.due, o.status) == (d("2027-02-26"), "overdue")


@pytest.mark.parametrize("rule,flag", [("CB-RISK-WORSE", "risk_worsened"), ("CB-NEW-INJURY", "new_injury")])
def test_cb_record_flag_R9_window_runs_from_the_record_boundary(rule: str, flag: str) -> None:
    """CB-RISK-WORSE, CB-NEW-INJURY R9: visit 10 Feb 10:00, recorded at 15:00: the 4-hour window
    runs to 19:00 (due at 19:00:00, overdue a second later), not 14:00."""
    c = case(START, visit(W1, recorded="2027-02-10T15:00", **{flag: True}))
    assert status_at(cb(), c, at("2027-02-10T19:00:00"), rule) == "due"
    assert status_at(cb(), c, at("2027-02-10T19:00:01"), rule) == "overdue"


# -- R10: a qualified team manager's home visit is statutory in Hillingdon --------------------
def test_hi_initial_1wk_R10_qualified_team_managers_visit_counts() -> None:
    """HI-INITIAL-1WK, HI-VISIT-20WD R10: the team manager's qualified home visit on 21 Dec meets
    the initial visit and starts the 20 WD (due 21 Jan); an unqualified one does not."""
    c = case("2026-12-17", visit("2026-12-21T10:30", by=TM))
    out = run(hi(), c, "2026-12-22T09:00")
    assert of(out, "HI-INITIAL-1WK") == []
    assert one(out, "HI-VISIT-20WD").due == d("2027-01-21")
    unqualified = case("2026-12-17", visit("2026-12-21T10:30", by=TM, qualified=False))
    assert one(run(hi(), unqualified, "2026-12-22T09:00"), "HI-INITIAL-1WK").due == d("2026-12-24")


# -- R11: a record silent on seen-alone, child of 4+ ------------------------------------------
def test_cb_seen_alone_R11_record_silent_on_seen_alone_counts_as_not_alone() -> None:
    """CB-SEEN-ALONE R11 boundary: two records of a child aged 4 that do not say: the team
    manager is told; the same for a child of 3 raises nothing."""
    four = case(
        START, visit(W1, seen_alone=None), visit("2027-02-17T10:00", seen_alone=None), dob="2022-06-01"
    )
    assert one(run(cb(), four, "2027-02-17T12:00"), "CB-SEEN-ALONE").owner == TM
    three = case(
        START, visit(W1, seen_alone=None), visit("2027-02-17T10:00", seen_alone=None), dob="2023-06-01"
    )
    assert of(run(cb(), three, "2027-02-17T12:00"), "CB-SEEN-ALONE") == []


def test_hi_seen_alone_R11_record_silent_on_seen_alone_counts_as_not_alone() -> None:
    """HI-SEEN-ALONE R11: a record of a child of 4+ that does not say: the next statutory visit
    (21 Jan) must see the child alone, no reason given."""
    c = case("2026-12-17", visit("2026-12-21T10:30", seen_alone=None), dob="2019-01-01")
    o = one(run(hi(), c, "2026-12-22T09:00"), "HI-SEEN-ALONE")
    assert (o.owner, o.due, "no reason given" in o.basis) == (LEAD, d("2027-01-21"), True)
    baby = case("2026-12-17", visit("2026-12-21T10:30", seen_alone=None), dob="2025-01-01")
    assert of(run(hi(), baby, "2026-12-22T09:00"), "HI-SEEN-ALONE") == []


# -- R12: "not_applicable" for a child not seen ------------------------------------------------
def _not_seen_file(**alone: object) -> dict:
    contact = {
        "at": "2026-12-21T10:30:00+00:00",
        "kind": "home_visit",
        "by": LEAD,
        "child_seen": False,
        **alone,
    }
    return case_json(contacts=[contact], decisions=[])


def test_hi_notseen_revisit_R12_not_applicable_null_or_absent_mean_the_same() -> None:
    """HI-NOTSEEN-REVISIT R12: a not-seen contact may say "not_applicable", null or nothing;
    all three give the same case."""
    cases = [
        parse_case_mapping(_not_seen_file(**a)).case
        for a in ({"seen_alone": "not_applicable"}, {"seen_alone": None}, {})
    ]
    assert cases[0] == cases[1] == cases[2]


def test_hi_notseen_revisit_R12_seen_evaluate_accepts_not_applicable_boundary() -> None:
    """HI-NOTSEEN-REVISIT R12 boundary: `seen evaluate` accepts "not_applicable" for a child not
    seen and still refuses "yes" (a child not seen cannot be seen alone)."""
    ok = seen_cli("evaluate", stdin=json.dumps(_not_seen_file(seen_alone="not_applicable")))
    assert ok.returncode == 0, ok.stderr
    with pytest.raises(CaseFileError, match=r"contacts\[0\]\.seen_alone"):
        parse_case_mapping(_not_seen_file(seen_alone="yes"))


def test_cb_seen_alone_R11_still_met_when_visits_say_alone() -> None:
    """CB-SEEN-ALONE R11: records that say "yes" raise nothing for a child of 4+ (the rule is _met)."""
    c = with_contacts(
        case(START, dob="2020-06-01"),
        visit(W1, seen_alone="yes"),
        visit("2027-02-17T10:00", seen_alone="yes"),
    )
    assert of(run(cb(), c, "2027-02-17T12:00"), "CB-SEEN-ALONE") == []


def test_cb_20cd_lsw_R4_sunday_lapse_reaches_the_practice_manager_the_next_working_day() -> None:
    """CB-20CD-LSW R4: the lapse on Sun 21 Feb is prompted on Monday morning (08:30), not yet
    overdue; the practice manager is told at Tuesday's morning deadline, not on Monday."""
    from scheduler.stages import planned_stages

    policy = cb()
    ob = one(run(policy, case(START), local("2027-02-22", "08:30")), "CB-20CD-LSW")
    assert ob.status == "due"
    stages = planned_stages(policy, ob, local("2027-02-22", "08:30"), acknowledged=False)
    to_pm = [s.at for s in stages if s.to == (PM,)]
    assert to_pm == [local("2027-02-23", "08:30")]
