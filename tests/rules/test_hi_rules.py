"""Hillingdon: every HI- rule of RULES.md.

Plan start (ICPC): Thursday 17 December 2026, as in the DESIGN.md worked example. The first
statutory visit: Monday 21 Dec 2026 10:30 UTC by the qualified lead social worker, child seen.
Dates counted by hand (bank holidays 25, 28 Dec 2026 and 1 Jan 2027):
  17 Dec + 7 days = 24 Dec; 21 Dec + 20 WD = 21 Jan 2027; 21 Dec + 10 WD = 7 Jan;
  20 Jan + 20 WD = 17 Feb; 21 Jan - 3 WD = 18 Jan; 24 Dec - 3 WD = 21 Dec.
"""

from __future__ import annotations

import pytest

from scheduler.rules.engine import CaseError, outcome_label
from scheduler.rules.explain import explain_text
from tests.rules.builders import (
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
    hi,
    last_moment,
    local,
    of,
    one,
    run,
    status_at,
    visit,
    with_contacts,
)

START = "2026-12-17"
V1 = "2026-12-21T10:30"


def first_visit(**kw):
    return visit(V1, **kw)


# -- HI-INITIAL-1WK ----------------------------------------------------------------------------
def test_hi_initial_1wk_fires_from_the_initial_conference() -> None:
    """HI-INITIAL-1WK: seen at home within one week: 17 Dec + 7 days = 24 Dec, lead SW. Before
    the initial visit there is no 20-WD visit yet."""
    assert brief(run(hi(), case(START), local("2026-12-18"))) == [
        ("HI-INITIAL-1WK", "2026-12-24", "due", LEAD)
    ]


def test_hi_initial_1wk_boundary() -> None:
    """HI-INITIAL-1WK: due to the end of 24 Dec, overdue from 25 Dec (calendar days)."""
    assert status_at(hi(), case(START), last_moment("2026-12-24"), "HI-INITIAL-1WK") == "due"
    assert status_at(hi(), case(START), first_moment_after("2026-12-24"), "HI-INITIAL-1WK") == "overdue"


def test_hi_initial_1wk_met_by_a_statutory_home_visit() -> None:
    """HI-INITIAL-1WK: met by the visit on 21 Dec; HI-VISIT-20WD takes over."""
    obs = run(hi(), case(START, first_visit()), local("2026-12-22"))
    assert brief(obs) == [("HI-VISIT-20WD", "2027-01-21", "due", LEAD)]


def test_hi_initial_1wk_met_by_a_duty_social_worker() -> None:
    """HI-INITIAL-1WK: any qualified and registered social worker may make the visit."""
    obs = run(hi(), case(START, first_visit(by=DUTY)), local("2026-12-22"))
    assert of(obs, "HI-INITIAL-1WK") == []


def test_hi_initial_1wk_a_late_visit_still_ends_it() -> None:
    """HI-INITIAL-1WK: a first visit on 29 Dec (late) ends the overdue obligation; the next is
    due 29 Dec + 20 WD: 30, 31 Dec (2), 4-8 (7), 11-15 (12), 18-22 (17), 25-27 Jan = 27 Jan."""
    obs = run(hi(), case(START, visit("2026-12-29T10:00")), local("2026-12-29", "12:00"))
    assert brief(obs) == [("HI-VISIT-20WD", "2027-01-27", "due", LEAD)]


# -- HI-QUALIFIED ------------------------------------------------------------------------------
def test_hi_qualified_unqualified_visit_does_not_meet_the_initial_visit() -> None:
    """HI-QUALIFIED: a visit by an unqualified worker is no statutory visit: HI-INITIAL-1WK stays
    open and HI-VISIT-20WD does not start."""
    obs = run(hi(), case(START, first_visit(qualified=False)), local("2026-12-22"))
    assert brief(obs) == [("HI-INITIAL-1WK", "2026-12-24", "due", LEAD)]


def test_hi_qualified_unqualified_visit_does_not_meet_hi_visit_20wd() -> None:
    """HI-QUALIFIED: after the statutory visit of 21 Dec, an unqualified worker's home visit on
    15 Jan does not move HI-VISIT-20WD from 21 Jan."""
    c = case(START, first_visit(), visit("2027-01-15T10:00", qualified=False))
    o = one(run(hi(), c, local("2027-01-18")), "HI-VISIT-20WD")
    assert (o.due, o.status) == (d("2027-01-21"), "due")
    assert status_at(hi(), c, first_moment_after("2027-01-21"), "HI-VISIT-20WD") == "overdue"


def test_hi_qualified_does_not_apply_to_central_bedfordshire() -> None:
    """HI-QUALIFIED is Hillingdon's: under CB any social worker's home visit counts."""
    obs = run(cb(), case(START, first_visit(qualified=False)), local("2026-12-22"))
    assert one(obs, "CB-VISIT-10WD").due == d("2027-01-07")


def test_hi_qualified_unqualified_visit_does_not_meet_hi_before_cg() -> None:
    """HI-QUALIFIED: only a statutory visit is "seen before the core group meeting"."""
    c = case(START, first_visit(qualified=False), core_group_meetings=["2027-01-14"])
    assert len(of(run(hi(), c, local("2026-12-22")), "HI-BEFORE-CG")) == 1


# -- HI-OUTCOME --------------------------------------------------------------------------------
def test_hi_outcome_labels() -> None:
    """HI-OUTCOME: a statutory visit is a *successful statutory visit* only if the child was
    seen, otherwise an *unsuccessful statutory visit*."""
    assert outcome_label(hi(), first_visit()) == "successful statutory visit"
    assert outcome_label(hi(), first_visit(seen=False)) == "unsuccessful statutory visit"


def test_hi_outcome_labels_are_hillingdons() -> None:
    """HI-OUTCOME: Central Bedfordshire has no such labels; other contacts are named by kind."""
    assert outcome_label(cb(), first_visit()) == "home visit"
    assert outcome_label(hi(), first_visit(kind="school_visit")) == "school visit"


def test_hi_outcome_label_in_explain_output_and_records() -> None:
    """HI-OUTCOME: the labels are used in records and exports: the explain text names the latest
    visit by its label, and the record reminder for a not-seen visit says "unsuccessful"."""
    c = case(START, first_visit())
    now = local("2026-12-22")
    text = explain_text(hi(), c, now, run(hi(), c, now))
    assert "successful statutory visit on 2026-12-21" in text
    c = case(START, first_visit(seen=False, recorded=None))
    o = one(run(hi(), c, at("2026-12-21T12:00")), "HI-RECORD-24H")
    assert "unsuccessful statutory visit" in o.summary
    text = explain_text(hi(), c, now, run(hi(), c, now))
    assert "unsuccessful statutory visit" in text


def test_hi_outcome_unqualified_visit_is_not_a_successful_statutory_visit() -> None:
    """HI-OUTCOME with HI-QUALIFIED: an unqualified worker's home visit is not a statutory visit,
    so it must not be recorded or exported as a *successful statutory visit*."""
    assert outcome_label(hi(), first_visit(qualified=False)) != "successful statutory visit"


# -- HI-RECORD-24H -----------------------------------------------------------------------------
def test_hi_record_24h_fires() -> None:
    """HI-RECORD-24H: the visit of 21 Dec 10:30 UTC recorded in case notes by 22 Dec 10:30 UTC."""
    c = case(START, first_visit(recorded=None))
    o = one(run(hi(), c, at("2026-12-21T12:00")), "HI-RECORD-24H")
    assert (o.due.isoformat(), o.status, o.owner) == ("2026-12-22T10:30:00+00:00", "due", LEAD)


def test_hi_record_24h_boundary() -> None:
    """HI-RECORD-24H: due at 24 clock hours exactly, overdue one second later (over a weekend
    or bank holiday just the same)."""
    c = case(START, visit("2026-12-24T16:00", recorded=None))
    assert status_at(hi(), c, at("2026-12-25T16:00:00"), "HI-RECORD-24H") == "due"
    assert status_at(hi(), c, at("2026-12-25T16:00:01"), "HI-RECORD-24H") == "overdue"


def test_hi_record_24h_met() -> None:
    """HI-RECORD-24H: met by the record in case notes."""
    c = case(START, first_visit(recorded="2026-12-21T15:00"))
    assert of(run(hi(), c, at("2026-12-21T16:00")), "HI-RECORD-24H") == []


@pytest.mark.parametrize("rule", ["HI-RECORD-24H", "HI-NOONE-NOTE"])
def test_hi_record_owner_is_the_lead_social_worker_for_a_duty_visit(rule: str) -> None:
    """HI-RECORD-24H, HI-NOONE-NOTE: owner lead SW, also for a duty social worker's visit."""
    c = case(START, first_visit(by=DUTY, seen=False, no_one_home=True, recorded=None))
    assert one(run(hi(), c, at("2026-12-21T12:00")), rule).owner == LEAD


# -- HI-NOONE-NOTE -----------------------------------------------------------------------------
def no_one_in(**kw):
    return first_visit(seen=False, no_one_home=True, **kw)


def test_hi_noone_note_fires_when_no_one_is_in() -> None:
    """HI-NOONE-NOTE: no one in on 21 Dec 10:30: record that a note was left (or why not), lead
    SW, by the visit record (24 h: 22 Dec 10:30 UTC). The initial visit is still owed (24 Dec)
    and, at risk from 21 Dec (24 Dec - 3 WD), the team manager is told (HI-NOTSEEN-REVISIT)."""
    obs = run(hi(), case(START, no_one_in()), at("2026-12-21T12:00"))
    assert brief(obs) == [
        ("HI-NOONE-NOTE", "2026-12-22T10:30:00+00:00", "due", LEAD),
        ("HI-INITIAL-1WK", "2026-12-24", "due", LEAD),
        ("HI-NOTSEEN-REVISIT", "2026-12-24", "due", TM),
    ]


def test_hi_noone_note_boundary() -> None:
    """HI-NOONE-NOTE: due at 22 Dec 10:30 UTC, overdue a second later."""
    c = case(START, no_one_in())
    assert status_at(hi(), c, at("2026-12-22T10:30:00"), "HI-NOONE-NOTE") == "due"
    assert status_at(hi(), c, at("2026-12-22T10:30:01"), "HI-NOONE-NOTE") == "overdue"


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"note_left": True}, id="note left"),
        pytest.param({"note_not_left_reason": "domestic abuse"}, id="reason recorded"),
    ],
)
def test_hi_noone_note_met(fields) -> None:
    """HI-NOONE-NOTE: met by a note left, or by the recorded reason not to leave one."""
    obs = run(hi(), case(START, no_one_in(**fields)), at("2026-12-21T12:00"))
    assert of(obs, "HI-NOONE-NOTE") == []


def test_hi_noone_note_not_when_someone_was_in() -> None:
    """HI-NOONE-NOTE: someone was in but the child was not seen: no note is needed."""
    obs = run(hi(), case(START, first_visit(seen=False)), at("2026-12-21T12:00"))
    assert of(obs, "HI-NOONE-NOTE") == []


# -- HI-VISIT-20WD -----------------------------------------------------------------------------
def test_hi_visit_20wd_fires_after_the_initial_visit() -> None:
    """HI-VISIT-20WD: 21 Dec 2026 + 20 WD = 21 Jan 2027 (RULES.md's example)."""
    o = one(run(hi(), case(START, first_visit()), local("2026-12-22")), "HI-VISIT-20WD")
    assert (o.due, o.status, o.owner) == (d("2027-01-21"), "due", LEAD)


def test_hi_visit_20wd_boundary() -> None:
    """HI-VISIT-20WD: due to the end of 21 Jan, overdue from 22 Jan."""
    c = case(START, first_visit())
    assert status_at(hi(), c, last_moment("2027-01-21"), "HI-VISIT-20WD") == "due"
    assert status_at(hi(), c, first_moment_after("2027-01-21"), "HI-VISIT-20WD") == "overdue"


def test_hi_visit_20wd_met_by_the_next_statutory_visit() -> None:
    """HI-VISIT-20WD: a visit on 20 Jan meets it; the next is due 20 Jan + 20 WD = 17 Feb."""
    c = case(START, first_visit(), visit("2027-01-20T10:00"))
    assert brief(run(hi(), c, local("2027-01-21"))) == [("HI-VISIT-20WD", "2027-02-17", "due", LEAD)]


def test_hi_visit_20wd_plan_may_require_more_often() -> None:
    """HI-VISIT-20WD: a plan interval of 10 WD: 21 Dec + 10 WD = 7 Jan."""
    c = case(START, first_visit(), visit_interval_working_days=10)
    o = one(run(hi(), c, local("2026-12-22")), "HI-VISIT-20WD")
    assert o.due == d("2027-01-07")
    assert status_at(hi(), c, first_moment_after("2027-01-07"), "HI-VISIT-20WD") == "overdue"


def test_hi_visit_20wd_never_less_often() -> None:
    """HI-VISIT-20WD: a plan interval of 21 WD is refused, naming the field and the rule; 20 is
    allowed."""
    with pytest.raises(CaseError) as raised:
        run(hi(), case(START, first_visit(), visit_interval_working_days=21), local("2026-12-22"))
    assert str(raised.value).startswith("plan.visit_interval_working_days")
    assert "HI-VISIT-20WD" in str(raised.value)
    c = case(START, first_visit(), visit_interval_working_days=20)
    assert one(run(hi(), c, local("2026-12-22")), "HI-VISIT-20WD").due == d("2027-01-21")


# -- HI-NOTSEEN-REVISIT ------------------------------------------------------------------------
def not_seen_on_11_jan(*more):
    return case(START, first_visit(), visit("2027-01-11T10:00", seen=False), *more)


def test_hi_notseen_revisit_deadline_does_not_move() -> None:
    """HI-NOTSEEN-REVISIT: the child not seen on 11 Jan: the statutory visit is still due on
    21 Jan (the deadline does not move); the manager is not told before it is at risk."""
    obs = run(hi(), not_seen_on_11_jan(), last_moment("2027-01-15"))
    assert one(obs, "HI-VISIT-20WD").due == d("2027-01-21")
    assert of(obs, "HI-NOTSEEN-REVISIT") == []


def test_hi_notseen_revisit_team_manager_told_3_wd_before() -> None:
    """HI-NOTSEEN-REVISIT: at risk from 21 Jan - 3 WD = Mon 18 Jan: the team manager is told,
    due 21 Jan."""
    obs = run(hi(), not_seen_on_11_jan(), local("2027-01-18", "00:00"))
    o = one(obs, "HI-NOTSEEN-REVISIT")
    assert (o.due, o.status, o.owner) == (d("2027-01-21"), "due", TM)
    assert one(obs, "HI-VISIT-20WD", LEAD).due == d("2027-01-21")


def test_hi_notseen_revisit_boundary() -> None:
    """HI-NOTSEEN-REVISIT: due to the end of 21 Jan, overdue from 22 Jan."""
    c = not_seen_on_11_jan()
    assert status_at(hi(), c, last_moment("2027-01-21"), "HI-NOTSEEN-REVISIT") == "due"
    assert status_at(hi(), c, first_moment_after("2027-01-21"), "HI-NOTSEEN-REVISIT") == "overdue"


@pytest.mark.parametrize("by", [LEAD, DUTY])
def test_hi_notseen_revisit_met_by_a_qualified_social_worker_seeing_the_child(by: str) -> None:
    """HI-NOTSEEN-REVISIT: the same or another qualified social worker sees the child on 19 Jan."""
    c = not_seen_on_11_jan(visit("2027-01-19T10:00", by=by))
    obs = run(hi(), c, local("2027-01-19", "12:00"))
    assert of(obs, "HI-NOTSEEN-REVISIT") == []
    assert one(obs, "HI-VISIT-20WD").due == d("2027-02-16")  # 19 Jan + 20 WD


def test_hi_notseen_revisit_not_met_by_an_unqualified_worker() -> None:
    """HI-NOTSEEN-REVISIT with HI-QUALIFIED: an unqualified worker seeing the child on 19 Jan
    does not meet it."""
    c = not_seen_on_11_jan(visit("2027-01-19T10:00", qualified=False))
    assert len(of(run(hi(), c, local("2027-01-19", "12:00")), "HI-NOTSEEN-REVISIT")) == 1


# -- HI-AWAY -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["school_visit", "office", "other"])
def test_hi_away_a_visit_away_from_home_is_not_the_statutory_visit(kind: str) -> None:
    """HI-AWAY: plan-directed extra visits may see the child at school or away from home, but
    the statutory visit is at home: HI-INITIAL-1WK stays open."""
    obs = run(hi(), case(START, first_visit(kind=kind)), local("2026-12-22"))
    assert brief(obs) == [("HI-INITIAL-1WK", "2026-12-24", "due", LEAD)]


def test_hi_away_school_visit_does_not_move_hi_visit_20wd() -> None:
    """HI-AWAY: a school visit on 15 Jan does not move the 21 Jan home visit."""
    c = case(START, first_visit(), visit("2027-01-15T10:00", kind="school_visit"))
    assert one(run(hi(), c, local("2027-01-18")), "HI-VISIT-20WD").due == d("2027-01-21")


def test_hi_away_school_visit_does_not_meet_a_meeting() -> None:
    """HI-AWAY: the statutory visit before a core group meeting is a home visit."""
    c = case(
        START,
        first_visit(),
        visit("2027-01-20T10:00", kind="school_visit"),
        core_group_meetings=["2027-01-14", "2027-02-25"],
    )
    assert one(run(hi(), c, local("2027-01-21")), "HI-BEFORE-CG").due == d("2027-02-25")


# -- HI-BEFORE-REVIEW --------------------------------------------------------------------------
def test_hi_before_review_fires_before_the_first_review() -> None:
    """HI-BEFORE-REVIEW: before the first review (10 Mar 2027): a statutory visit since the plan
    start; none yet."""
    c = case(START, review_conferences=["2027-03-10"])
    o = one(run(hi(), c, local("2026-12-18")), "HI-BEFORE-REVIEW")
    assert (o.due, o.status, o.owner) == (d("2027-03-10"), "due", LEAD)


def test_hi_before_review_met_by_a_visit_since_the_plan_start() -> None:
    """HI-BEFORE-REVIEW: the visit of 21 Dec is after the plan start and before the review."""
    c = case(START, first_visit(), review_conferences=["2027-03-10"])
    assert of(run(hi(), c, local("2026-12-22")), "HI-BEFORE-REVIEW") == []


def reviews(*visits):
    return case(START, first_visit(), *visits, review_conferences=["2027-03-10", "2027-06-09"])


def test_hi_before_review_every_later_review() -> None:
    """HI-BEFORE-REVIEW: the 21 Dec visit met the first review; the second (9 Jun) needs a visit
    after 10 Mar."""
    o = one(run(hi(), reviews(), local("2027-03-11")), "HI-BEFORE-REVIEW")
    assert (o.due, o.status) == (d("2027-06-09"), "due")


def test_hi_before_review_boundary() -> None:
    """HI-BEFORE-REVIEW: due to the end of the review's day, overdue from the next."""
    assert status_at(hi(), reviews(), last_moment("2027-06-09"), "HI-BEFORE-REVIEW") == "due"
    assert status_at(hi(), reviews(), first_moment_after("2027-06-09"), "HI-BEFORE-REVIEW") == "overdue"


def test_hi_before_review_met_by_a_visit_between_reviews() -> None:
    """HI-BEFORE-REVIEW: a statutory visit on 20 May (after 10 Mar, before 9 Jun) meets it."""
    c = reviews(visit("2027-03-01T10:00"), visit("2027-05-20T10:00"))
    assert of(run(hi(), c, local("2027-05-21")), "HI-BEFORE-REVIEW") == []


def test_hi_before_review_a_visit_on_the_review_day_counts_once() -> None:
    """HI-BEFORE-REVIEW: a visit on 10 Mar (the first review's day) is before that review, not
    after it: the 9 Jun review still needs a visit."""
    c = case(START, visit("2027-03-10T08:00"), review_conferences=["2027-03-10", "2027-06-09"])
    assert of(run(hi(), c, local("2027-03-10", "12:00")), "HI-BEFORE-REVIEW") == []
    assert [o.due for o in of(run(hi(), c, local("2027-03-11")), "HI-BEFORE-REVIEW")] == [d("2027-06-09")]


# -- HI-BEFORE-CG ------------------------------------------------------------------------------
def meetings(*visits):
    return case(START, first_visit(), *visits, core_group_meetings=["2027-01-14", "2027-02-25"])


def test_hi_before_cg_fires_for_the_next_meeting() -> None:
    """HI-BEFORE-CG: the 21 Dec visit met the 14 Jan meeting; the 25 Feb meeting needs a
    statutory visit after 14 Jan."""
    assert of(run(hi(), meetings(), local("2026-12-22")), "HI-BEFORE-CG") == []
    o = one(run(hi(), meetings(), local("2027-01-15")), "HI-BEFORE-CG")
    assert (o.due, o.status, o.owner) == (d("2027-02-25"), "due", LEAD)


def test_hi_before_cg_boundary() -> None:
    """HI-BEFORE-CG: due to the end of 25 Feb, overdue from 26 Feb."""
    assert status_at(hi(), meetings(), last_moment("2027-02-25"), "HI-BEFORE-CG") == "due"
    assert status_at(hi(), meetings(), first_moment_after("2027-02-25"), "HI-BEFORE-CG") == "overdue"


@pytest.mark.parametrize("when", ["2027-02-01T10:00", "2027-02-25T08:00"])
def test_hi_before_cg_met(when: str) -> None:
    """HI-BEFORE-CG: a statutory visit after 14 Jan and by the meeting's date meets it."""
    obs = run(hi(), meetings(visit(when)), local("2027-02-25", "12:00"))
    assert of(obs, "HI-BEFORE-CG") == []


def test_hi_before_cg_meeting_before_the_plan_is_ignored() -> None:
    """HI-BEFORE-CG: a meeting dated before the plan start is not one of this plan's."""
    c = case(START, first_visit(), core_group_meetings=["2026-12-01"])
    assert of(run(hi(), c, local("2026-12-22")), "HI-BEFORE-CG") == []


# -- HI-SEEN-ALONE -----------------------------------------------------------------------------
def not_alone(**kw):
    return first_visit(seen_alone="no", seen_alone_reason="parent refused", **kw)


def test_hi_seen_alone_next_statutory_visit_must_see_the_child_alone() -> None:
    """HI-SEEN-ALONE: not seen alone on 21 Dec: a later visit within the timescale (by 21 Jan)
    must see them alone, and its reminder says so. No concerns: the manager is not told."""
    obs = run(hi(), case(START, not_alone()), local("2026-12-22"))
    o = one(obs, "HI-SEEN-ALONE")
    assert (o.due, o.status, o.owner) == (d("2027-01-21"), "due", LEAD)
    assert "alone" in o.summary
    assert of(obs, "HI-SEEN-ALONE", TM) == []


def test_hi_seen_alone_boundary() -> None:
    """HI-SEEN-ALONE: due to the end of 21 Jan, overdue from 22 Jan."""
    c = case(START, not_alone())
    assert status_at(hi(), c, last_moment("2027-01-21"), "HI-SEEN-ALONE") == "due"
    assert status_at(hi(), c, first_moment_after("2027-01-21"), "HI-SEEN-ALONE") == "overdue"


def test_hi_seen_alone_met_by_a_visit_seeing_the_child_alone() -> None:
    """HI-SEEN-ALONE: the next statutory visit (10 Jan) sees the child alone."""
    c = with_contacts(case(START, not_alone()), visit("2027-01-10T10:00", seen_alone="yes"))
    assert of(run(hi(), c, local("2027-01-11")), "HI-SEEN-ALONE") == []


def test_hi_seen_alone_with_concerns_tells_the_team_manager() -> None:
    """HI-SEEN-ALONE: not seen alone and the social worker has concerns: the team manager is told
    (24 h: 22 Dec 10:30 UTC); met by the manager's recorded decision."""
    c = case(START, not_alone(alone_concerns=True))
    o = one(run(hi(), c, at("2026-12-21T12:00")), "HI-SEEN-ALONE", TM)
    assert (o.due.isoformat(), o.status) == ("2026-12-22T10:30:00+00:00", "due")
    assert status_at(hi(), c, at("2026-12-22T10:30:00"), "HI-SEEN-ALONE", TM) == "due"
    assert status_at(hi(), c, at("2026-12-22T10:30:01"), "HI-SEEN-ALONE", TM) == "overdue"
    c = case(
        START,
        not_alone(alone_concerns=True),
        decisions=(decision("2026-12-21T15:00", "HI-SEEN-ALONE", TM, "reviewed"),),
    )
    assert of(run(hi(), c, at("2026-12-21T16:00")), "HI-SEEN-ALONE", TM) == []
