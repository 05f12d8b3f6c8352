"""evaluate(policy, case, now) -> the open obligations, each with rule ID, deadline, status, owner.

Pure: no I/O, no database, no clock reads. Each rule of a policy names its *kind*; each kind is a
parameters dataclass and a function in `scheduler/rules/kinds/` (one module per family), so a
council's policy file can reuse a kind under its own rule ID. The facts the kinds share are read
once, by `scheduler.rules.facts.Facts`.
"""

from __future__ import annotations

from datetime import datetime

from scheduler.rules.calendar import ONE_DAY
from scheduler.rules.facts import CaseError, Facts, day_start, outcome_label
from scheduler.rules.model import Case, Obligation
from scheduler.rules.policy import Policy

__all__ = ["CaseError", "evaluate", "outcome_label"]


def evaluate(policy: Policy, case: Case, now: datetime) -> list[Obligation]:
    """The open obligations of one child at `now`, by deadline. Met obligations are not listed."""
    facts = Facts(policy, case, now)
    facts.interval_in_force  # noqa: B018 - a plan interval above the policy's floor is refused
    out: list[Obligation] = []
    for rule, kind in policy.evaluators if facts.active else policy.evaluators_after_end:
        out.extend(kind.evaluate(facts, rule))
    tz = policy.timezone

    def ends(o: Obligation) -> tuple[datetime, str, str]:
        """By when it must be done: an instant, or the end of the local day of a date (in UTC,
        like the instants, so that sorting compares them without looking up zone offsets)."""
        if isinstance(o.due, datetime):
            return o.due, o.rule, o.owner
        return day_start(o.due + ONE_DAY, tz), o.rule, o.owner

    out.sort(key=ends)
    return out
