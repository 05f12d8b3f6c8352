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
them; a new kind that compares `today` with a day of its own adds its days here.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
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

    roles = policy.social_worker_roles

    def statutory(c: Contact) -> bool:
        """A home visit by a social worker (qualified where the policy asks), seeing the child or not."""
        return c.kind == "home_visit" and c.by in roles and (c.qualified or not policy.require_qualified)

    # `since`: a sighting before it is before every kind's last reset before `start`
    contacts, since = _since_last_resets(case.contacts, first, datetime.combine(start, time(), tz), statutory)

    seen_by_lead = sorted({local(c.at) for c in contacts if c.child_seen and c.by == LEAD_SOCIAL_WORKER})
    seen_by_any = sorted(
        {local(c.at) for c in contacts if c.child_seen}
        | {local(s.at) for s in case.agency_sightings if s.at >= since}
    )
    visits = sorted({local(c.at) for c in contacts if c.child_seen and statutory(c)})
    # home visits that would be statutory but did not see the child (HI-NOTSEEN-REVISIT's chain)
    not_seen = sorted({local(c.at) for c in contacts if not c.child_seen and statutory(c)})

    # the day after each meeting a rule asks a visit before (HI-BEFORE-REVIEW, HI-BEFORE-CG)
    meetings = {p.meetings for rule in policy.rules_of_kind("seen_before_meetings") for p in _versions(rule)}
    days: set[date] = {m + ONE_DAY for name in meetings for m in getattr(plan, name)}

    for rule in policy.rules_of_kind("unseen_by_lead"):
        steps = {p.calendar_days for p in _versions(rule)}
        decided = {local(d.at) for d in case.decisions if d.rule == rule.id}  # a cycle closed
        days.update(_lapses({plan.started, *seen_by_lead, *decided}, seen_by_lead, steps, _plus_days, start))
    for rule in policy.rules_of_kind("unseen_by_anyone"):
        steps = {p.working_days for p in _versions(rule)}
        days.update(_lapses({plan.started, *seen_by_any}, seen_by_any, steps, cal.add_working_days, start))
    for rule in policy.rules_of_kind("keep_deadline_revisit"):
        if not not_seen:
            break  # at risk only after a visit that did not see the child
        back = {p.at_risk_working_days for p in _versions(rule)}
        changes = {r.id for r in policy.rules_of_kind("frequency_change")}
        intervals = {
            d.within_working_days for d in case.decisions if d.within_working_days and d.rule in changes
        }
        if plan.visit_interval_working_days:
            intervals.add(plan.visit_interval_working_days)
        for visit_rule in policy.rules_of_kind("home_visit_interval"):
            intervals.update(p.interval_working_days for p in _versions(visit_rule))
        offsets = {(n, k) for n in intervals for k in back}

        def at_risk(day: date, offset: tuple[int, int]) -> date:
            return cal.add_working_days(cal.add_working_days(day, offset[0]), -offset[1])

        # from a visit (or the plan start) followed by a visit that did not see the child
        anchors = {a for a in (plan.started, *visits) if _between(not_seen, a, _next(visits, a))}
        days.update(_lapses(anchors, visits, offsets, at_risk, start))
        for initial in policy.rules_of_kind("initial_visit"):
            for p in _versions(initial):
                due = plan.started + timedelta(days=p.within_days)
                days.update(cal.add_working_days(due, -k) for k in back)
    if plan.ended is not None:
        # once the plan has ended only the kinds still owed after it are evaluated, and none of
        # them compares `today` with a day of its own but the end itself
        days = {d for d in days if d < plan.ended}
        days.add(plan.ended)
    for rule in policy.rules.values():
        if rule.changes:
            days.update(day for day, _ in rule.changes)
    return sorted(d for d in days if start <= d <= end)


def _since_last_resets(
    contacts: tuple[Contact, ...], first: datetime, begin: datetime, statutory: Callable[[Contact], bool]
) -> tuple[list[Contact], datetime]:
    """The contacts since the plan start (`first`) that can give a day on or after `begin`: those
    from the earliest of the last sighting by the lead, the last by anyone and the last statutory
    visit before `begin` (an anchor before its kind's last reset before `begin` gives only days
    before it, see `_lapses`), and the instant they start from. A sweep asks for the days after
    today: a few contacts, not a year."""
    lead = visit = False
    for i in range(len(contacts) - 1, -1, -1):
        c = contacts[i]
        if c.at < first:
            return list(contacts[i + 1 :]), first
        if c.at >= begin or not c.child_seen:
            continue
        lead = lead or c.by == LEAD_SOCIAL_WORKER
        visit = visit or statutory(c)
        if lead and visit:
            return list(contacts[i:]), c.at
    return list(contacts), first


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
