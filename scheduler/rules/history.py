"""The obligation history of one case over a period: every obligation instance `evaluate` had open
in it, when it opened and how it ended.

Built by walking `evaluate` itself over the instants at which its answer can change (each fact of
the case, and the first instant of each local day `change_days` names), so the history cannot
disagree with the reminders: at any instant of the period the history's open instances are exactly
what `evaluate` returns (tests/reports/test_history_agreement.py walks cases day by day to show it).

An instance ends in one of three ways:
- "met": it left `evaluate`'s answer at the instant of a fact of the case (a visit, a decision, an
  agency sighting), while the plan was in force; `met_at` is that fact's instant;
- "closed": it left at the start of a day, or after the plan ended, with no fact to meet it (a
  meeting passed with no visit before it, the plan ended);
- "open": still in `evaluate`'s answer at the end of the period.

Pure: no I/O, no clock reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from scheduler.rules.change_days import change_days
from scheduler.rules.engine import evaluate
from scheduler.rules.model import Case, Obligation
from scheduler.rules.policy import Policy

Outcome = Literal["met", "closed", "open"]


@dataclass(frozen=True, slots=True)
class Instance:
    """One obligation instance: an obligation key from when it opened to when it ended."""

    key: str
    rule: str
    owner: str
    trigger: str  # the obligation's basis when it opened: the fact that started its clock
    due: date | datetime  # the deadline in force when it ended (a change of interval moves it)
    deadline: datetime  # by when, as an instant: the end of the local day of a date deadline
    opened: datetime  # when it entered evaluate's answer (the period's start at the latest)
    ended: datetime | None  # when it left it (None: still open at the end of the period)
    outcome: Outcome

    @property
    def met_at(self) -> datetime | None:
        return self.ended if self.outcome == "met" else None

    def open_at(self, instant: datetime) -> bool:
        return self.opened <= instant and (self.ended is None or instant < self.ended)

    def in_time(self, instant: datetime) -> bool:
        """Whether `instant` is in time, as the engine's status has it: a date deadline is
        overdue from the first instant of the next local day, an instant one after it."""
        if isinstance(self.due, datetime):
            return instant <= self.due
        return instant < self.deadline


def deadline_of(policy: Policy, due: date | datetime) -> datetime:
    """A deadline as an instant: a date deadline ends at the end of its local day."""
    if isinstance(due, datetime):
        return due
    return datetime.combine(due + timedelta(days=1), time(), policy.timezone)


def change_instants(policy: Policy, case: Case, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end] at which evaluate's answer may change, with `start` first."""
    tz = policy.timezone
    instants = {start}
    for facts in (case.contacts, case.decisions, case.agency_sightings):
        instants.update(f.at for f in facts if start < f.at <= end)
    for day in change_days(policy, case, start.astimezone(tz).date(), end.astimezone(tz).date()):
        midnight = datetime.combine(day, time(), tz)
        if start < midnight <= end:
            instants.add(midnight)
    return sorted(instants)


def history(policy: Policy, case: Case, start: datetime, end: datetime) -> list[Instance]:
    """Every obligation instance open at some instant of [start, end], by when it opened."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    fact_instants = {f.at for f in (*case.contacts, *case.decisions, *case.agency_sightings)}
    plan_end = case.plan.ended
    open_now: dict[str, tuple[Obligation, Obligation, datetime]] = {}  # key: first, latest, opened
    done: list[Instance] = []

    def close(key: str, at: datetime | None, outcome: Outcome) -> None:
        first, latest, opened = open_now.pop(key)
        done.append(
            Instance(
                key=key,
                rule=first.rule,
                owner=first.owner,
                trigger=first.basis,
                due=latest.due,
                deadline=deadline_of(policy, latest.due),
                opened=opened,
                ended=at,
                outcome=outcome,
            )
        )

    for instant in change_instants(policy, case, start, end):
        now = {o.key: o for o in evaluate(policy, case, instant)}
        in_force = plan_end is None or instant.astimezone(policy.timezone).date() < plan_end
        met = instant in fact_instants and in_force
        for key in [k for k in open_now if k not in now]:
            close(key, instant, "met" if met else "closed")
        for key, o in now.items():
            if key in open_now:
                first, _, opened = open_now[key]
                open_now[key] = (first, o, opened)
            else:
                open_now[key] = (o, o, instant)
    for key in list(open_now):
        close(key, None, "open")
    done.sort(key=lambda i: (i.opened, i.deadline, i.key))
    return done
