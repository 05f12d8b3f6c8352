"""The local days on which `evaluate`'s answer for one case can change other than at a fact.

Between two facts of a case (a contact, a decision, an agency sighting) the engine's answer depends
on `now` only through the local date (`Facts.today`): a lapse is reached (CB-20CD-LSW,
CB-30WD-ANY), a deadline comes within the at-risk window (HI-NOTSEEN-REVISIT), a meeting passes
(HI-BEFORE-REVIEW, HI-BEFORE-CG, where the policy has them), the plan ends, a dated policy value
comes into force. This module
lists those days, generously: for every anchor a kind could count from (the plan start, and the
date of every fact that could be its "since"), the day the kind compares `today` with, unless a
fact that certainly moves the anchor (a sighting, a statutory visit) comes before that day. A day
too many costs one evaluation; a day missing would make the obligation history disagree with
`evaluate`, which tests/reports/test_history_agreement.py checks by walking cases day by day.

Pure: no I/O, no clock reads. It reads the parameters of the kinds named below and nothing else of
them (gathered once per policy, by `_PolicyDays`); a new kind that compares `today` with a day of
its own adds its days here.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any

from scheduler.rules.calendar import ONE_DAY
from scheduler.rules.facts import day_start
from scheduler.rules.model import LEAD_SOCIAL_WORKER, Case, Contact
from scheduler.rules.policy import Policy, Rule

_at = attrgetter("at")


def change_days(policy: Policy, case: Case, start: date, end: date) -> list[date]:
    """The days in [start, end] (local dates) at whose first instant the answer may change."""
    return sorted(d for d in _days_from(policy, case, start) if d <= end)


def first_change_day(policy: Policy, case: Case, start: date) -> date | None:
    """The first of `change_days` from `start` on (None: none)."""
    return min(_days_from(policy, case, start), default=None)


def _days_from(policy: Policy, case: Case, start: date) -> set[date]:
    """The days on or after `start` at whose first instant the answer may change."""
    of = _PolicyDays.of(policy)
    tz = policy.timezone
    cal = policy.calendar
    plan = case.plan
    statutory = of.statutory

    # `since`: a sighting before it is before every kind's last reset before `start`
    contacts, since = _since_last_resets(
        case.contacts, day_start(plan.started, tz), day_start(start, tz), statutory
    )

    # the local days of the contacts that can give a day: seen by the lead, seen by anyone, a
    # statutory visit, and a home visit that would be statutory but did not see the child
    # (HI-NOTSEEN-REVISIT's chain)
    by_lead: set[date] = set()
    by_any: set[date] = set()
    seen_at_home: set[date] = set()
    missed_at_home: set[date] = set()
    for c in contacts:
        if c.child_seen:
            day = c.at.astimezone(tz).date()
            by_any.add(day)
            if c.by == LEAD_SOCIAL_WORKER:
                by_lead.add(day)
            if statutory(c):
                seen_at_home.add(day)
        elif statutory(c):
            missed_at_home.add(c.at.astimezone(tz).date())
    sightings = case.agency_sightings  # read by CB-30WD-ANY's kind only
    if of.unseen_by_anyone and sightings and sightings[-1].at >= since:  # kept in time order
        by_any.update(s.at.astimezone(tz).date() for s in sightings[bisect_left(sightings, since, key=_at) :])
    seen_by_lead, seen_by_any = sorted(by_lead), sorted(by_any)
    visits, not_seen = sorted(seen_at_home), sorted(missed_at_home)

    # the day after each meeting a rule asks a visit before (HI-BEFORE-REVIEW, HI-BEFORE-CG),
    # for the meetings from the eve of `start` on
    eve = start - ONE_DAY if start > date.min else start
    days: set[date] = {m + ONE_DAY for name in of.meetings for m in getattr(plan, name) if m >= eve}

    for rule_id, steps in of.unseen_by_lead:
        decided = {d.at.astimezone(tz).date() for d in case.decisions if d.rule == rule_id}  # a cycle closed
        days.update(_lapses({plan.started, *seen_by_lead, *decided}, seen_by_lead, steps, _plus_days, start))
    for steps in of.unseen_by_anyone:
        days.update(_lapses({plan.started, *seen_by_any}, seen_by_any, steps, cal.add_working_days, start))
    if not_seen:  # at risk only after a visit that did not see the child
        for back in of.at_risk:
            intervals = {
                d.within_working_days
                for d in case.decisions
                if d.within_working_days and d.rule in of.frequency_changes
            }
            if plan.visit_interval_working_days:
                intervals.add(plan.visit_interval_working_days)
            intervals.update(of.visit_intervals)
            offsets = {(n, k) for n in intervals for k in back}

            def at_risk(day: date, offset: tuple[int, int]) -> date:
                return cal.add_working_days(cal.add_working_days(day, offset[0]), -offset[1])

            # from a visit (or the plan start) followed by a visit that did not see the child
            anchors = {a for a in (plan.started, *visits) if _between(not_seen, a, _next(visits, a))}
            days.update(_lapses(anchors, visits, offsets, at_risk, start))
            for within in of.initial_within_days:
                due = plan.started + timedelta(days=within)
                days.update(cal.add_working_days(due, -k) for k in back)
    if plan.ended is not None:
        # once the plan has ended only the kinds still owed after it are evaluated, and none of
        # them compares `today` with a day of its own but the end itself
        days = {d for d in days if d < plan.ended}
        days.add(plan.ended)
    days.update(of.dated)
    return {d for d in days if d >= start}


class _PolicyDays:
    """What `change_days` reads of a policy: the parameters of the kinds that give days, and
    each day a dated value comes into force. Gathered once per policy and kept on it (as
    functools.cached_property keeps its values): a sweep asks for every child of a policy."""

    def __init__(self, policy: Policy) -> None:
        self.roles = policy.social_worker_roles
        self.require_qualified = policy.require_qualified
        kinds = policy.rules_of_kind
        self.meetings = {p.meetings for rule in kinds("seen_before_meetings") for p in _versions(rule)}
        self.unseen_by_lead = [
            (rule.id, {p.calendar_days for p in _versions(rule)}) for rule in kinds("unseen_by_lead")
        ]
        self.unseen_by_anyone = [
            {p.working_days for p in _versions(rule)} for rule in kinds("unseen_by_anyone")
        ]
        self.at_risk = [
            {p.at_risk_working_days for p in _versions(rule)} for rule in kinds("keep_deadline_revisit")
        ]
        self.frequency_changes = {rule.id for rule in kinds("frequency_change")}
        self.visit_intervals = {
            p.interval_working_days for rule in kinds("home_visit_interval") for p in _versions(rule)
        }
        self.initial_within_days = [p.within_days for rule in kinds("initial_visit") for p in _versions(rule)]
        self.dated = {day for rule in policy.rules.values() for day, _ in rule.changes}

    @staticmethod
    def of(policy: Policy) -> _PolicyDays:
        kept = policy.__dict__.get("_change_days")
        if kept is None:
            kept = policy.__dict__["_change_days"] = _PolicyDays(policy)
        return kept

    def statutory(self, c: Contact) -> bool:
        """A home visit by a social worker (qualified where the policy asks), seeing the child or not."""
        return c.kind == "home_visit" and c.by in self.roles and (c.qualified or not self.require_qualified)


def _since_last_resets(
    contacts: tuple[Contact, ...], first: datetime, begin: datetime, statutory: Callable[[Contact], bool]
) -> tuple[tuple[Contact, ...], datetime]:
    """The contacts since the plan start (`first`) that can give a day on or after `begin`: those
    from the earliest of the last sighting by the lead, the last by anyone and the last statutory
    visit before `begin` (an anchor before its kind's last reset before `begin` gives only days
    before it, see `_lapses`), and the instant they start from. A sweep asks for the days after
    today: a few contacts, not a year."""
    lead = visit = False
    for i in range(len(contacts) - 1, -1, -1):
        c = contacts[i]
        if c.at < first:
            return contacts[i + 1 :], first
        if c.at >= begin or not c.child_seen:
            continue
        lead = lead or c.by == LEAD_SOCIAL_WORKER
        visit = visit or statutory(c)
        if lead and visit:
            return contacts[i:], c.at
    return contacts, first


def _lapses(
    anchors: Iterable[date],
    resets: list[date],
    steps: Iterable[Any],
    step: Callable[[date, Any], date],
    start: date = date.min,
) -> set[date]:
    """The day each step after each anchor falls on, unless a `resets` day (a fact that certainly
    moves the anchor on) comes after the anchor and before that day. Anchors before the last reset
    before `start` are passed over: their days are all before it."""
    out: set[date] = set()
    before = bisect_right(resets, start - ONE_DAY) if start > date.min else 0
    floor = resets[before - 1] if before else date.min
    for a in anchors:
        if a < floor:
            continue
        nxt = bisect_right(resets, a)
        reset = resets[nxt] if nxt < len(resets) else date.max
        for n in steps:
            day = step(a, n)
            if day <= reset:
                out.add(day)
    return out


def _next(days: list[date], after: date) -> date:
    """The first of `days` (sorted) after `after`, or date.max."""
    i = bisect_right(days, after)
    return days[i] if i < len(days) else date.max


def _between(days: list[date], lo: date, hi: date) -> bool:
    """Whether one of `days` (sorted) is in [lo, hi]."""
    i = bisect_left(days, lo)
    return i < len(days) and days[i] <= hi


def _plus_days(day: date, n: int) -> date:
    return day + timedelta(days=n)


def _versions(rule: Rule) -> tuple[Any, ...]:
    """The rule's parameters and each dated change of them."""
    return (rule.params, *(values for _, values in rule.changes))
