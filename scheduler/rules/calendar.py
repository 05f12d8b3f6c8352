"""Working days: Monday to Friday, not a bank holiday, not a local closure day.

Bank holidays come from the `holidays` package (never a hand-typed list). After a one-off
precompute per span of years, every call is a couple of list look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from threading import Lock

import holidays

ONE_DAY = timedelta(days=1)

_FIRST_YEAR, _LAST_YEAR = 2000, 2060  # precomputed at start; widened on demand (no clock read)


class WorkingCalendar:
    """Working-day arithmetic for one country/subdivision plus local closure days.

    `add_working_days(d, n)` is the n-th working day after d, d itself not counted (RULES.md).
    """

    def __init__(
        self,
        country: str = "GB",
        subdivision: str | None = "ENG",
        closure_days: Iterable[date] = (),
    ) -> None:
        self.country = country
        self.subdivision = subdivision
        self.closure_days = frozenset(closure_days)
        self._lock = Lock()
        self._first = 0  # ordinal of the first day in the table
        self._count: list[int] = []  # _count[i]: working days in [first, first + i]
        self._working: list[int] = []  # ordinals of the working days in the table, ascending
        self._build(_FIRST_YEAR, _LAST_YEAR)

    # -- the table -----------------------------------------------------------------------------
    def _build(self, first_year: int, last_year: int) -> None:
        bank = holidays.country_holidays(
            self.country, subdiv=self.subdivision, years=range(first_year, last_year + 1)
        )
        first = date(first_year, 1, 1)
        last = date(last_year, 12, 31)
        count: list[int] = []
        working: list[int] = []
        n = 0
        day = first
        while day <= last:
            if day.weekday() < 5 and day not in bank and day not in self.closure_days:
                n += 1
                working.append(day.toordinal())
            count.append(n)
            day += ONE_DAY
        self._first, self._count, self._working = first.toordinal(), count, working
        self._bank = bank

    def _cover(self, *days: date) -> None:
        lo = min(days).toordinal()
        hi = max(days).toordinal()
        if self._first <= lo and hi < self._first + len(self._count):
            return
        with self._lock:
            first_year = min(date.fromordinal(self._first).year, min(days).year - 1)
            last_year = max(date.fromordinal(self._first + len(self._count) - 1).year, max(days).year + 1)
            self._build(first_year, last_year)

    def _count_through(self, ordinal: int) -> int:
        return self._count[ordinal - self._first]

    # -- the API -------------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        self._cover(day)
        i = day.toordinal() - self._first
        return self._count[i] != (self._count[i - 1] if i else 0)

    def is_bank_holiday(self, day: date) -> bool:
        self._cover(day)
        return day in self._bank

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n > 0), before it (n < 0), or `day` itself (n == 0)."""
        if n == 0:
            return day
        i = day.toordinal() - self._first
        if 0 < i < len(self._count):
            index = self._count[i] + n - 1 if n > 0 else self._count[i - 1] + n
            if 0 <= index < len(self._working):
                return date.fromordinal(self._working[index])
        # Outside the table: widen it by the distance asked for, then look again.
        span = timedelta(days=abs(n) * 2 + 30)
        self._cover(day - span, day + span)
        return self.add_working_days(day, n)

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days after `start` `end` is: the working days in (start, end].

        Negative when end is before start: minus the working days in [end, start).
        add_working_days(a, working_days_between(a, b)) == b whenever b is a working day.
        """
        self._cover(start - ONE_DAY, end - ONE_DAY, start, end)
        if end >= start:  # working days in (start, end]
            return self._count_through(end.toordinal()) - self._count_through(start.toordinal())
        # backwards: minus the working days in [end, start)
        return self._count_through(end.toordinal() - 1) - self._count_through(start.toordinal() - 1)

    def next_working_day_on_or_after(self, day: date) -> date:
        i = day.toordinal() - self._first
        if 0 < i < len(self._count) and self._count[i] < len(self._working):  # the fast path
            return (
                day
                if self._count[i] != self._count[i - 1]
                else date.fromordinal(self._working[self._count[i]])
            )
        return day if self.is_working_day(day) else self.add_working_days(day, 1)
