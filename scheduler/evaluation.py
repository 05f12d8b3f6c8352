"""The engine on one child, for the jobs that run it over many: a child the engine cannot evaluate
(a record the policy refuses, such as a plan interval above the floor, or a fault in Seen) is
reported as `Unevaluable` instead of raising, so one bad record never stops the reminders of
every other child."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scheduler.messages import child_label
from scheduler.rules.engine import CaseError, evaluate
from scheduler.rules.model import Case, Obligation
from scheduler.rules.policy import Policy

log = logging.getLogger("seen.sweep")
INTERNAL = "an error in Seen while working out the deadlines (logged for the administrators)"


@dataclass(frozen=True, slots=True)
class Unevaluable:
    """Why the engine gave no obligations for a child: the record's problem in the engine's words
    (a CaseError names the field and the policy), or INTERNAL for a fault in Seen."""

    reason: str


def evaluate_child(policy: Policy, case: Case, now: datetime) -> list[Obligation] | Unevaluable:
    try:
        return evaluate(policy, case, now)
    except CaseError as exc:
        return Unevaluable(str(exc))
    except Exception:
        log.exception("the engine failed on %s", case.child.ref)
        return Unevaluable(INTERNAL)


def cannot_evaluate_line(child: Any, problem: Unevaluable) -> str:
    """A due list's line for a child (a row with case_ref and initials) with no deadlines because
    its record needs putting right."""
    return f"{child_label(child.case_ref, child.initials)}: Seen cannot work out deadlines: {problem.reason}"
