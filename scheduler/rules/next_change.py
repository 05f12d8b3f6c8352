"""When `evaluate`'s answer for one case can next change: the sweep evaluates a child again only
then (or when its facts or its policy change), not every night.

`next_change(policy, case, now, obligations)` is the first instant T after `now` such that
`evaluate(policy, case, t) == obligations` for every t in [now, T). Between facts, the answer
depends on `now` only through:

- each open obligation's status: a date deadline is overdue from the first instant of the next
  local day, an instant deadline from the first instant after it;
- the facts dated after `now` (a contact, a sighting or a decision counts from its instant);
- the local days `change_days` lists (a lapse reached, a deadline coming into its at-risk window,
  a meeting passed, the plan ended, a dated policy value in force).

Ages are judged on the day of each visit, never on `now`, so a birthday changes nothing by itself.
The reminder stages of the open obligations are the sweep's to add (`scheduler.stages`).

Kept apart from `evaluate` (it costs a sweep something only when the sweep asks), and pure: no
I/O, no clock reads. tests/rules/test_next_change*.py walk cases hour by hour and day by day over
a year, checking that the answer is the same at every instant sampled before the next change.
"""

from __future__ import annotations

import dataclasses
import hashlib
from bisect import bisect_right
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from operator import attrgetter
from typing import Any

from scheduler.rules.calendar import ONE_DAY
from scheduler.rules.change_days import first_change_day
from scheduler.rules.facts import day_start, local_today
from scheduler.rules.model import Case, Obligation
from scheduler.rules.policy import Policy

# The first instant after an instant deadline: `Facts.obligation` calls it overdue when now > due.
JUST_AFTER = timedelta(microseconds=1)
_at = attrgetter("at")


def next_change(policy: Policy, case: Case, now: datetime, obligations: list[Obligation]) -> datetime | None:
    """The first instant after `now` at which `evaluate(policy, case, ·)` may differ from
    `obligations` (its answer at `now`), in UTC; None: never, whatever the time."""
    tz = policy.timezone
    overdue_from = [
        o.due + JUST_AFTER if isinstance(o.due, datetime) else day_start(o.due + ONE_DAY, tz)
        for o in obligations
        if o.status == "due"  # an overdue obligation stays overdue
    ]
    later_facts = [
        later
        for facts in (case.contacts, case.agency_sightings, case.decisions)
        if (later := _first_after(facts, now)) is not None
    ]
    soonest = min(overdue_from + later_facts, default=None)
    today, tomorrow = _today_and_tomorrow(now, tz)
    if soonest is not None and soonest <= tomorrow:
        return soonest  # no day can come sooner than tomorrow's first instant
    day = first_change_day(policy, case, today + ONE_DAY)
    if day is None:
        return soonest
    midnight = day_start(day, tz)
    return midnight if soonest is None or midnight < soonest else soonest


@lru_cache(maxsize=64)
def _today_and_tomorrow(now: datetime, tz: tzinfo) -> tuple[date, datetime]:
    """The local date at `now`, and the first instant of the next day (the same for every child
    of a sweep)."""
    today = local_today(now, tz)
    return today, day_start(today + ONE_DAY, tz)


def _first_after(facts: tuple[Any, ...], now: datetime) -> datetime | None:
    """The first instant after `now` among facts kept in time order."""
    if not facts or facts[-1].at <= now:
        return None
    return facts[bisect_right(facts, now, key=_at)].at


def policy_digest(policy: Policy) -> str:
    """A digest of everything a policy says (its rules and their dated values, calendar, hours,
    reminders, ladder...): the sweep keeps it with each child's next change, and a child swept
    under a policy whose digest has changed since is due again."""
    return hashlib.sha256(repr(_canonical(policy)).encode()).hexdigest()[:32]


def _canonical(value: Any) -> Any:
    """`value` as plain tuples, lists and scalars, the same in every process (no object ids)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple((f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value)),
        )
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, (frozenset, set)):
        return tuple(sorted(repr(_canonical(v)) for v in value))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, (str, int, float, bool, date, type(None))) or hasattr(value, "isoformat"):
        return value
    if hasattr(value, "key"):  # a ZoneInfo
        return ("zone", str(value.key))
    fields = vars(value) if hasattr(value, "__dict__") else {}
    public = {k: v for k, v in fields.items() if not k.startswith("_")}
    return (type(value).__name__, _canonical(public))
