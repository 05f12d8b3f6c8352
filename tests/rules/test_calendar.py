"""Working days (RULES.md "Shared definitions"): Monday to Friday, not an England & Wales bank
holiday, not a local closure day. *N working days after D* is the N-th working day after D, D itself
not counted. Every expected date below is worked out by hand from a printed calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.policies import load_policy
from scheduler.rules.calendar import WorkingCalendar
from tests.rules.builders import d

ENG = WorkingCalendar("GB", "ENG")


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # RULES.md's own example: 25, 28 Dec and 1 Jan are bank holidays.
        ("2026-12-21", 20, "2027-01-21"),
        ("2026-12-21", 10, "2027-01-07"),  # CB-VISIT-10WD over Christmas
        ("2026-12-21", 1, "2026-12-22"),
        ("2026-12-23", 5, "2027-01-04"),  # 24, 29, 30, 31 Dec, 4 Jan
        ("2026-12-24", 1, "2026-12-29"),  # Fri 25 Christmas, Mon 28 Boxing Day substitute
        ("2026-12-31", 1, "2027-01-04"),  # Fri 1 Jan New Year's Day
        ("2027-01-20", 20, "2027-02-17"),
        ("2027-02-01", 10, "2027-02-15"),
        ("2027-02-10", 10, "2027-02-24"),
        ("2027-02-01", 30, "2027-03-15"),
        # Starting on a day that is not a working day: still the N-th working day after it.
        ("2026-12-25", 1, "2026-12-29"),
        ("2026-12-26", 1, "2026-12-29"),
        ("2026-12-27", 1, "2026-12-29"),
        ("2027-02-06", 1, "2027-02-08"),  # Saturday -> Monday
    ],
)
def test_add_working_days_hand_computed(start: str, n: int, expected: str) -> None:
    assert ENG.add_working_days(d(start), n) == d(expected)


def test_christmas_and_new_year_2026_27() -> None:
    """Boxing Day 2026 is a Saturday: Monday 28 December 2026 is the substitute bank holiday."""
    not_working = ["2026-12-25", "2026-12-26", "2026-12-27", "2026-12-28", "2027-01-01"]
    working = ["2026-12-24", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-04"]
    assert [ENG.is_working_day(d(x)) for x in not_working] == [False] * 5
    assert [ENG.is_working_day(d(x)) for x in working] == [True] * 5
    assert ENG.is_bank_holiday(d("2026-12-28"))
    assert not ENG.is_bank_holiday(d("2026-12-24"))


def test_christmas_and_new_year_2027_28() -> None:
    """Christmas 2027 falls on Saturday and Boxing Day on Sunday: Monday 27 and Tuesday 28 December
    are the substitutes; 1 January 2028 is a Saturday, so Monday 3 January 2028 is the holiday."""
    for x in ("2027-12-27", "2027-12-28", "2028-01-03"):
        assert ENG.is_bank_holiday(d(x)), x
        assert not ENG.is_working_day(d(x)), x
    for x in ("2027-12-24", "2027-12-29", "2027-12-30", "2027-12-31", "2028-01-04"):
        assert ENG.is_working_day(d(x)), x
    assert ENG.add_working_days(d("2027-12-24"), 1) == d("2027-12-29")
    assert ENG.add_working_days(d("2027-12-31"), 1) == d("2028-01-04")
    # 20 WD from 20 Dec 2027: 21-24 (4), 29-31 (7), 4-7 Jan (11), 10-14 (16), 17-20 Jan (20).
    assert ENG.add_working_days(d("2027-12-20"), 20) == d("2028-01-20")


def test_easter_2026() -> None:
    """Good Friday 3 April 2026 and Easter Monday 6 April 2026 are not working days."""
    assert not ENG.is_working_day(d("2026-04-03"))
    assert not ENG.is_working_day(d("2026-04-06"))
    assert ENG.is_working_day(d("2026-04-02"))
    assert ENG.is_working_day(d("2026-04-07"))
    assert ENG.add_working_days(d("2026-04-02"), 1) == d("2026-04-07")
    assert ENG.add_working_days(d("2026-04-07"), -1) == d("2026-04-02")


def test_easter_2027() -> None:
    """Good Friday 26 March 2027 and Easter Monday 29 March 2027 are not working days."""
    assert not ENG.is_working_day(d("2027-03-26"))
    assert not ENG.is_working_day(d("2027-03-29"))
    assert ENG.add_working_days(d("2027-03-25"), 1) == d("2027-03-30")
    # CB-30WD-ANY over Easter 2027: 10 Mar + 30 WD = 23 Apr.
    assert ENG.add_working_days(d("2027-03-10"), 30) == d("2027-04-23")


def test_other_bank_holidays_2026_2027() -> None:
    for x in ("2026-05-04", "2026-05-25", "2026-08-31", "2027-05-03", "2027-05-31", "2027-08-30"):
        assert not ENG.is_working_day(d(x)), x


def test_weekends_are_not_working_days() -> None:
    assert not ENG.is_working_day(d("2027-02-06"))
    assert not ENG.is_working_day(d("2027-02-07"))
    assert ENG.is_working_day(d("2027-02-08"))


def test_zero_is_the_day_itself() -> None:
    assert ENG.add_working_days(d("2026-12-25"), 0) == d("2026-12-25")
    assert ENG.add_working_days(d("2027-02-10"), 0) == d("2027-02-10")


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2027-01-04", -1, "2026-12-31"),
        ("2026-12-29", -1, "2026-12-24"),
        ("2027-01-21", -20, "2026-12-21"),
        ("2027-01-21", -3, "2027-01-18"),  # HI-NOTSEEN-REVISIT at-risk day
        ("2027-02-12", -10, "2027-01-29"),  # CB-NOTSEEN-AGAIN agency-check window
        ("2026-12-26", -1, "2026-12-24"),  # from a Saturday
        ("2026-12-28", -1, "2026-12-24"),  # from a bank holiday
    ],
)
def test_negative_n_counts_backwards(start: str, n: int, expected: str) -> None:
    assert ENG.add_working_days(d(start), n) == d(expected)


def test_working_days_between() -> None:
    assert ENG.working_days_between(d("2026-12-21"), d("2027-01-21")) == 20
    assert ENG.working_days_between(d("2027-01-21"), d("2026-12-21")) == -20
    assert ENG.working_days_between(d("2027-02-10"), d("2027-02-10")) == 0
    assert ENG.working_days_between(d("2026-12-24"), d("2026-12-28")) == 0
    assert ENG.working_days_between(d("2026-12-24"), d("2026-12-29")) == 1
    # the inverse of add_working_days
    for n in (1, 5, 10, 20, 30, 250):
        a = d("2026-12-21")
        assert ENG.working_days_between(a, ENG.add_working_days(a, n)) == n


def test_next_working_day_on_or_after() -> None:
    assert ENG.next_working_day_on_or_after(d("2026-12-25")) == d("2026-12-29")
    assert ENG.next_working_day_on_or_after(d("2026-12-29")) == d("2026-12-29")


def test_local_closure_days_from_a_policy(tmp_path) -> None:
    """A council's Christmas shutdown (29-31 Dec 2026) in its policy moves every WD deadline."""
    text = _bundled("central-bedfordshire").replace(
        "closure_days = []", 'closure_days = ["2026-12-29", "2026-12-30", "2026-12-31"]'
    )
    path = tmp_path / "shutdown.toml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(str(path))
    cal = policy.calendar
    for x in ("2026-12-29", "2026-12-30", "2026-12-31"):
        assert not cal.is_working_day(d(x))
        assert not cal.is_bank_holiday(d(x))  # a closure day, not a bank holiday
    assert cal.add_working_days(d("2026-12-24"), 1) == d("2027-01-04")
    # 22-24 Dec (3), 4-8 Jan (8), 11-15 (13), 18-22 (18), 25-26 Jan (20)
    assert cal.add_working_days(d("2026-12-21"), 20) == d("2027-01-26")
    assert cal.working_days_between(d("2026-12-24"), d("2027-01-04")) == 1
    # the bundled policy has no closure days
    assert load_policy("central-bedfordshire").calendar.is_working_day(d("2026-12-29"))


def _bundled(name: str) -> str:
    from scheduler.policies import HERE

    return (HERE / f"{name}.toml").read_text(encoding="utf-8")


def test_closure_days_given_directly() -> None:
    cal = WorkingCalendar("GB", "ENG", [date(2027, 2, 8)])
    assert not cal.is_working_day(date(2027, 2, 8))
    assert cal.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 9)


def test_1990_far_before_the_precomputed_span() -> None:
    """1990: Good Friday 13 Apr, Easter Monday 16 Apr, Christmas Tue 25, Boxing Day Wed 26 Dec."""
    cal = WorkingCalendar("GB", "ENG")
    assert cal.add_working_days(d("1990-12-24"), 1) == d("1990-12-27")
    assert not cal.is_working_day(d("1990-04-13"))
    assert not cal.is_working_day(d("1990-04-16"))
    assert cal.add_working_days(d("1990-04-12"), 1) == d("1990-04-17")
    assert cal.add_working_days(d("1990-12-27"), -1) == d("1990-12-24")
    assert cal.working_days_between(d("1990-12-24"), d("1990-12-31")) == 3  # 27, 28, 31
    # 1 Jan 1990 is a Monday bank holiday; 2 Jan is the first working day of the year.
    assert cal.add_working_days(d("1989-12-29"), 1) == d("1990-01-02")


def test_2099_far_after_the_precomputed_span() -> None:
    """2099: Easter Sunday 12 April; Christmas Fri 25 Dec, Boxing Day Sat 26 -> Mon 28 Dec."""
    cal = WorkingCalendar("GB", "ENG")
    assert date(2099, 12, 25).weekday() == 4  # Friday
    assert not cal.is_working_day(d("2099-04-10"))  # Good Friday
    assert not cal.is_working_day(d("2099-04-13"))  # Easter Monday
    assert cal.add_working_days(d("2099-04-09"), 1) == d("2099-04-14")
    assert cal.add_working_days(d("2099-12-24"), 1) == d("2099-12-29")
    assert cal.working_days_between(d("2099-12-24"), d("2099-12-29")) == 1


def test_a_long_jump_out_of_the_table() -> None:
    """Far larger n than the table holds: 10 years of working days and back again."""
    cal = WorkingCalendar("GB", "ENG")
    start = d("2055-06-01")
    later = cal.add_working_days(start, 2600)
    assert later > start + timedelta(days=3600)
    assert cal.is_working_day(later)
    assert cal.working_days_between(start, later) == 2600
    assert cal.add_working_days(later, -2600) == start


# -- working_days_between backwards from a day that is not a working day ----------------------
def test_working_days_between_inverts_a_backward_step_from_a_weekend() -> None:
    """working_days_between(a, add_working_days(a, n)) == n, also for n < 0 from a Saturday."""
    a = d("2026-12-26")
    assert ENG.add_working_days(a, -1) == d("2026-12-24")
    assert ENG.working_days_between(a, d("2026-12-24")) == -1


def test_add_inverts_working_days_between_back_from_a_bank_holiday() -> None:
    """21 Dec 2026 is the 4th working day before 28 Dec (24, 23, 22, 21)."""
    a, b = d("2026-12-28"), d("2026-12-21")
    assert ENG.add_working_days(a, -4) == b
    assert ENG.add_working_days(a, ENG.working_days_between(a, b)) == b
