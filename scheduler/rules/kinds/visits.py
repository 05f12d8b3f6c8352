"""Visits on time: CB-VISIT-10WD, HI-VISIT-20WD, HI-INITIAL-1WK, HI-BEFORE-REVIEW, HI-BEFORE-CG."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from scheduler.rules.calendar import ONE_DAY
from scheduler.rules.kinds.registry import kind
from scheduler.rules.model import LEAD_SOCIAL_WORKER, Obligation
from scheduler.rules.params import Positive

if TYPE_CHECKING:
    from scheduler.rules.facts import Facts
    from scheduler.rules.policy import Rule


@dataclass(frozen=True, slots=True)
class HomeVisitInterval:
    interval_working_days: Positive
    first_due_from: Literal["plan_start", "initial_visit"]
    max_interval_working_days: Positive | None = None  # the plan may ask for more often, never less


@kind("home_visit_interval", HomeVisitInterval, owners=(LEAD_SOCIAL_WORKER,))
def home_visit_interval(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-VISIT-10WD, HI-VISIT-20WD: a qualifying home visit at least every N working days."""
    p: HomeVisitInterval = rule.on(f.visit_anchor)
    if f.visit_due is None or (p.first_due_from == "initial_visit" and not f.visits):
        return
    interval = f.interval_in_force[0] or p.interval_working_days
    last = f.last_visit
    if last is not None:
        basis = f"last {f.label(last)} seeing the child on {f.visit_anchor}"
    else:
        basis = f"plan start (initial conference) on {f.plan.started}"
    basis += f"; every {interval} working days ({f.interval_in_force[1] or 'the policy minimum'})"
    yield f.obligation(
        rule,
        LEAD_SOCIAL_WORKER,
        f.visit_due,
        f"Home visit: see the child at home by {f.visit_due} ({interval} working days)",
        basis,
        f.visit_anchor,
    )


@dataclass(frozen=True, slots=True)
class InitialVisit:
    within_days: Positive


@kind("initial_visit", InitialVisit, owners=(LEAD_SOCIAL_WORKER,))
def initial_visit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-INITIAL-1WK: seen at home within one week of the initial conference."""
    if f.visits:
        return
    p: InitialVisit = rule.on(f.plan.started)
    due = f.plan.started + timedelta(days=p.within_days)
    yield f.obligation(
        rule,
        LEAD_SOCIAL_WORKER,
        due,
        f"Initial visit: a qualified social worker sees the child at home by {due}",
        f"plan start (initial conference) on {f.plan.started} + {p.within_days} days",
        f.plan.started,
    )


@dataclass(frozen=True, slots=True)
class SeenBeforeMeetings:
    meetings: Literal["review_conferences", "core_group_meetings"]


@kind("seen_before_meetings", SeenBeforeMeetings, owners=(LEAD_SOCIAL_WORKER,))
def seen_before_meetings(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-BEFORE-REVIEW, HI-BEFORE-CG: a statutory visit since the previous meeting, before this
    one; a visit on the meeting's own date counts (RULES.md R6), a school visit does not (R7)."""
    started = f.plan.started
    p: SeenBeforeMeetings = rule.on(started)
    meetings = [m for m in getattr(f.plan, p.meetings) if m >= started]
    if not meetings:
        return
    what = "review conference" if p.meetings == "review_conferences" else "core group meeting"
    visits = f.visits
    i = bisect_left(meetings, f.today)  # meetings[i] is the next one (today or later)
    for k in (i - 1, i):
        if not 0 <= k < len(meetings):
            continue
        meeting = meetings[k]
        if k == 0:
            since, lo = started, f.visits_from(started)
        else:  # a visit on the previous meeting's own date was before that one (R6)
            since, lo = meetings[k - 1], f.visits_from(meetings[k - 1] + ONE_DAY)
        if lo < len(visits) and visits[lo].at < f.day_start(meeting + ONE_DAY):
            continue
        since_text = f"the previous {what} on {since}" if k else f"the plan start on {since}"
        yield f.obligation(
            rule,
            LEAD_SOCIAL_WORKER,
            meeting,
            f"See the child on a statutory home visit before the {what} on {meeting}",
            f"{what} on {meeting}; no statutory visit since {since_text}",
            meeting,
        )
