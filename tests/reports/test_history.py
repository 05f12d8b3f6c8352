"""The obligation history's instances (issue 14): met by the fact that left evaluate's answer, at
its instant; closed when a day or the plan's end took it away; open at the end of the period. The
deadline's boundaries: a visit at the last instant of the deadline day is on time, at the first
instant of the next day late (CB-VISIT-10WD, RULES.md R4)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from scheduler.reports import Child, measures
from scheduler.rules.history import history
from scheduler.rules.policy import PolicyError, policy_from_mapping
from tests.rules.builders import case, cb, first_moment_after, hi, last_moment, local, visit
from tests.rules.test_policy import bundled

START, END = local("2027-02-01", "00:00"), local("2027-03-31", "00:00")
FIRST = "C-1:CB-VISIT-10WD:lead_social_worker:2027-02-01"  # due 10 working days on: 15 February


def _first(instances, key=FIRST):  # type: ignore[no-untyped-def]
    return next(i for i in instances if i.key == key)


def test_a_visit_at_the_last_instant_of_the_deadline_day_meets_it_on_time_cb_visit_10wd() -> None:
    met = last_moment("2027-02-15")
    i = _first(history(cb(), case("2027-02-01", visit(met.isoformat())), START, END))
    assert (i.outcome, i.met_at, i.opened) == ("met", met, START)
    assert i.deadline == first_moment_after("2027-02-15") and i.met_at < i.deadline


def test_a_visit_at_the_first_instant_after_the_deadline_day_is_one_day_late_cb_visit_10wd() -> None:
    met = first_moment_after("2027-02-15")
    c = case("2027-02-01", visit(met.isoformat()), dob="2015-01-01")
    i = _first(history(cb(), c, START, END))
    assert (i.outcome, i.met_at) == ("met", met) and i.met_at >= i.deadline
    rows = measures([Child("T", "W", cb(), c)], "2027-02", "2027-02", END)
    value = {r.measure: r.value for r in rows}
    assert (value["visits_due"], value["visits_late"], value["worst_days_late"]) == (1, 1, 1)


def test_still_open_at_the_end_of_the_period_cb_visit_10wd() -> None:
    i = _first(history(cb(), case("2027-02-01"), START, local("2027-02-20")))
    assert (i.outcome, i.ended, i.met_at) == ("open", None, None)


def test_the_plan_ending_closes_it_unmet_cb_visit_10wd() -> None:
    i = _first(history(cb(), case("2027-02-01", ended="2027-02-10"), START, END))
    assert (i.outcome, i.ended, i.met_at) == ("closed", local("2027-02-10", "00:00"), None)


def test_a_meeting_passing_without_a_visit_closes_it_unmet_hi_before_review() -> None:
    """The review of 10 February stays owed until the next one (24 February) has passed."""
    c = case("2027-02-01", review_conferences=["2027-02-10", "2027-02-24"])
    key = "C-1:HI-BEFORE-REVIEW:lead_social_worker:2027-02-10"
    i = _first(history(hi(), c, START, END), key)
    assert (i.outcome, i.ended) == ("closed", local("2027-02-25", "00:00"))


def test_opened_when_the_fact_that_starts_it_happens_cb_notseen_discuss() -> None:
    not_seen = local("2027-02-03", "10:00")
    c = case("2027-02-01", visit(not_seen.isoformat(), seen=False))
    i = next(i for i in history(cb(), c, START, END) if i.rule == "CB-NOTSEEN-DISCUSS")
    assert (i.opened, i.deadline, i.outcome) == (not_seen, not_seen + timedelta(hours=24), "open")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("on_time_target_percent", 101, "reports.on_time_target_percent: 101 is above 100"),
        ("on_time_target_percent", 0, "reports.on_time_target_percent"),
        ("weekly_post_weekday", "moonday", "reports.weekly_post_weekday"),
        ("weekly_post_at", "9am", "reports.weekly_post_at"),
    ],
)
def test_the_reports_table_is_validated(key: str, value: object, message: str) -> None:
    data = copy.deepcopy(bundled("central-bedfordshire"))
    data["reports"][key] = value
    with pytest.raises(PolicyError) as raised:
        policy_from_mapping(data)
    assert str(raised.value).startswith(message)


def test_both_policies_set_the_on_time_target_and_the_weekly_post() -> None:
    for policy in (cb(), hi()):
        assert policy.reports.on_time_target_percent == 90
        assert (policy.reports.weekly_post_weekday, policy.reports.weekly_post_at.isoformat()) == (
            "monday",
            "09:00:00",
        )


def test_a_lapse_raised_before_the_period_is_not_counted_in_it_one_at_its_first_instant_is_cb_20cd_lsw() -> (
    None
):
    """CB-20CD-LSW lapses 20 calendar days after the plan start with no visit: 24 January for a
    plan of 4 January (before February's report), 1 February, the period's first day, for one of
    12 January. CB-30WD-ANY, 30 working days: 15 and 23 February, both in it."""
    early = Child("Early", "W", cb(), case("2027-01-04"))
    on_the_first = Child("First", "W", cb(), case("2027-01-12", ref="C-2"))
    rows = measures([early, on_the_first], "2027-02", "2027-02", local("2027-03-01", "09:00"))
    lapses = {r.team: r.value for r in rows if r.measure == "lapses_raised"}
    assert lapses == {
        "Early": "CB-30WD-ANY: 1 (open: 1)",
        "First": "CB-20CD-LSW: 1 (open: 1); CB-30WD-ANY: 1 (open: 1)",
    }


def test_an_unrecorded_contact_counts_only_once_its_hours_have_run_cb_record() -> None:
    """CB-RECORD's 24 hours: a contact of 12:00 unrecorded is still in time at 12:00 the next day
    (left out of records_within_window), one of 11:59 is not (counted, not within)."""
    as_of = local("2027-02-10", "12:00")

    def records(when: str) -> object:
        c = case("2027-02-01", visit(local("2027-02-09", when).isoformat(), recorded=None))
        rows = measures([Child("T", "W", cb(), c)], "2027-02", "2027-02", as_of)
        return next(r.value for r in rows if r.measure == "records_within_window")

    assert records("12:00") == "0/0"
    assert records("11:59") == "0/1"
