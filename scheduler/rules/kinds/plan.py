"""The plan itself: CB-FREQ-FLOOR, CB-FREQ-CHANGE, CB-STEPDOWN, and the constraints on the other
rules that have no deadline of their own: HI-QUALIFIED, HI-OUTCOME, HI-AWAY."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta

from scheduler.rules.kinds.registry import kind
from scheduler.rules.model import CP_CHAIR, LEAD_SOCIAL_WORKER, Obligation
from scheduler.rules.params import Positive

if TYPE_CHECKING:
    from scheduler.rules.facts import Facts
    from scheduler.rules.policy import Rule


@dataclass(frozen=True, slots=True)
class FrequencyChange:
    pass  # its deciders (the CP Chair) are the whole of it


@kind("frequency_change", FrequencyChange, owners=(CP_CHAIR,), decided=True)
def frequency_change(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-FREQ-CHANGE: a change of frequency between conferences needs the CP Chair's agreement
    (the rule's deciders); until then the interval in force stands."""
    for d in f.decisions.get(rule.id, ()):
        if d.outcome != "interval_changed" or d.by in rule.deciders:
            continue
        if f.decided(rule.id, d.at, outcomes=("interval_changed",), by=rule.deciders):
            continue
        day = f.local_date(d.at)
        yield f.obligation(
            rule,
            CP_CHAIR,
            day,
            f"Visit frequency change to every {d.within_working_days} working days (proposed on "
            f"{day} by the {d.by.replace('_', ' ')}) needs the CP Chair's agreement, recorded as a "
            "CP chair case note or a management decision; until then the current interval stands",
            f"frequency change proposed at {d.at.isoformat()}",
            d.at.isoformat(),
        )


@dataclass(frozen=True, slots=True)
class StepDown:
    long_plan_months: Positive


@kind("step_down", StepDown, owners=(LEAD_SOCIAL_WORKER,), decided=True, when_ended=True)
def step_down(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-STEPDOWN: at plan end, the Child in Need visiting arrangement is recorded."""
    ended = f.plan.ended
    if ended is None or f.today < ended:
        return
    decisions = f.decided_on_or_after(rule, f.plan.started)
    if any(d.outcome == "cin_arrangement_recorded" for d in decisions):
        return
    p: StepDown = rule.on(ended)
    warnings = []
    if f.plan.plan_number >= 2:
        warnings.append("a second or subsequent plan")
    if ended > f.plan.started + relativedelta(months=p.long_plan_months):
        warnings.append(f"on the plan for over {p.long_plan_months} months")
    if f.plan.exploitation_concerns:
        warnings.append("child exploitation concerns")
    caution = f"; reduce visiting gradually: {', '.join(warnings)}" if warnings else ""
    yield f.obligation(
        rule,
        LEAD_SOCIAL_WORKER,
        ended,
        f"Plan ended on {ended}: record the Child in Need visiting arrangement{caution}",
        f"plan ended on {ended}",
        ended,
    )


# -- constraints on the other rules: no deadline of their own ---------------------------------
@dataclass(frozen=True, slots=True)
class FrequencyFloor:
    max_interval_working_days: Positive  # a plan interval above it is refused (Facts.interval_in_force)


@dataclass(frozen=True, slots=True)
class QualifiedVisitor:
    pass  # Policy.require_qualified: only a qualified visitor's visit is statutory


@dataclass(frozen=True, slots=True)
class OutcomeLabels:
    seen: str  # the label of a statutory visit that saw the child (facts.outcome_label)
    not_seen: str


@dataclass(frozen=True, slots=True)
class StatutoryAtHome:
    pass  # the statutory visit is a home visit (Facts keeps home visits only)


@kind("frequency_floor", FrequencyFloor)
@kind("qualified_visitor", QualifiedVisitor)
@kind("outcome_labels", OutcomeLabels)
@kind("statutory_at_home", StatutoryAtHome)
def constraint(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-FREQ-FLOOR, HI-QUALIFIED, HI-OUTCOME, HI-AWAY: constraints on the other rules, no deadline."""
    return iter(())
