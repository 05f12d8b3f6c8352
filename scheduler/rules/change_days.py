"""The local days on which `evaluate`'s answer for one case can change other than at a fact.

Between two facts of a case (a contact, a decision, an agency sighting) the engine's answer depends
on `now` only through the local date (`Facts.today`): a lapse is reached (CB-20CD-LSW,
CB-30WD-ANY), a deadline comes within the at-risk window (HI-NOTSEEN-REVISIT), a meeting passes
(HI-BEFORE-REVIEW, HI-BEFORE-CG), the plan ends, a dated policy value comes into force. This module
lists those days, generously: for every anchor a kind could count from (the plan start, and the
date of every fact that could be its "since"), the day the kind compares `today` with, unless a
fact that certainly moves the anchor (a sighting, a statutory visit) comes before that day. A day
too many costs one evaluation; a day missing would make the obligation history disagree with
`evaluate`, which tests/reports/test_history_agreement.py checks by walking cases day by day.

Pure: no I/O, no clock reads. It reads the parameters of the kinds named below and nothing else of
them; a new kind that compares `today` with a day of its own adds its days here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from scheduler.rules.model import LEAD_SOCIAL_WORKER, Case, Contact
from scheduler.rules.policy import Policy, Rule

ONE_DAY = timedelta(days=1)


def change_days(policy: Policy, case: Case, start: date, end: date) -> list[date]:
    """The days in [start, end] (local dates) at whose first instant the answer may change."""
    tz = policy.timezone
    cal = policy.calendar
    plan = case.plan
    first = datetime.combine(plan.started, time(), tz)

    def local(at: datetime) -> date:
        return at.astimezone(tz).date()

    contacts = [c for c in case.contacts if c.at >= first]
    roles = policy.social_worker_roles

    def statutory(c: Contact) -> bool:
        return (
            c.child_seen
            and c.kind == "home_visit"
            and c.by in roles
            and (c.qualified or not policy.require_qualified)
        )

    seen_by_lead = sorted({local(c.at) for c in contacts if c.child_seen and c.by == LEAD_SOCIAL_WORKER})
    seen_by_any = sorted(
        {local(c.at) for c in contacts if c.child_seen}
        | {local(s.at) for s in case.agency_sightings if s.at >= first}
    )
    visits = sorted({local(c.at) for c in contacts if statutory(c)})
    decided = {local(d.at) for d in case.decisions}

    days: set[date] = {m + ONE_DAY for m in (*plan.review_conferences, *plan.core_group_meetings)}
    if plan.ended is not None:
        days.add(plan.ended)
    for rule in policy.rules.values():
        days.update(since for since, _ in rule.changes)

    for rule in policy.rules_of_kind("unseen_by_lead"):
        steps = {p.calendar_days for p in _versions(rule)}
        days.update(_lapses({plan.started, *seen_by_lead, *decided}, seen_by_lead, steps, _plus_days))
    for rule in policy.rules_of_kind("unseen_by_anyone"):
        steps = {p.working_days for p in _versions(rule)}
        days.update(_lapses({plan.started, *seen_by_any, *decided}, seen_by_any, steps, cal.add_working_days))
    for rule in policy.rules_of_kind("keep_deadline_revisit"):
        back = {p.at_risk_working_days for p in _versions(rule)}
        intervals = {d.within_working_days for d in case.decisions if d.within_working_days}
        if plan.visit_interval_working_days:
            intervals.add(plan.visit_interval_working_days)
        for visit_rule in policy.rules_of_kind("home_visit_interval"):
            intervals.update(p.interval_working_days for p in _versions(visit_rule))
        offsets = {(n, k) for n in intervals for k in back}

        def at_risk(day: date, offset: tuple[int, int]) -> date:
            return cal.add_working_days(cal.add_working_days(day, offset[0]), -offset[1])

        days.update(_lapses({plan.started, *visits}, visits, offsets, at_risk))
        for initial in policy.rules_of_kind("initial_visit"):
            for p in _versions(initial):
                due = plan.started + timedelta(days=p.within_days)
                days.update(cal.add_working_days(due, -k) for k in back)
    return sorted(d for d in days if start <= d <= end)


def _lapses(
    anchors: Iterable[date], resets: list[date], steps: Iterable[Any], step: Callable[[date, Any], date]
) -> set[date]:
    """The day each step after each anchor falls on, unless a `resets` day (a fact that certainly
    moves the anchor on) comes after the anchor and before that day."""
    out: set[date] = set()
    for a in anchors:
        nxt = bisect_right(resets, a)
        reset = resets[nxt] if nxt < len(resets) else date.max
        for n in steps:
            day = step(a, n)
            if day <= reset:
                out.add(day)
    return out


def _plus_days(day: date, n: int) -> date:
    return day + timedelta(days=n)


def _versions(rule: Rule) -> tuple[Any, ...]:
    """The rule's parameters and each dated change of them."""
    return (rule.params, *(values for _, values in rule.changes))
