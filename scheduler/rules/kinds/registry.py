"""The registry of rule kinds: each kind's parameters dataclass and its function, side by side.

A kind module declares `@kind("name", Params)` over its function; the policy loader reads each
kind's parameters from `KINDS[name].params` (see `scheduler.rules.params.spec_of`) and the engine
calls `KINDS[name].evaluate(facts, rule)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.rules.facts import Facts
    from scheduler.rules.model import Obligation
    from scheduler.rules.policy import Rule

RuleFn = Callable[["Facts", "Rule"], "Iterator[Obligation]"]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    params: type[Any]  # a frozen dataclass: the parameters a rule of this kind takes
    evaluate: RuleFn
    decided: bool  # someone records decisions under it: its rules name their deciders (R1)
    when_ended: bool  # still owed after the plan has ended
    owners: tuple[str, ...]  # who its obligations are owed by (none: a constraint on other rules)


KINDS: dict[str, Kind] = {}


def kind(
    name: str,
    params: type[Any],
    *,
    owners: tuple[str, ...] = (),
    decided: bool = False,
    when_ended: bool = False,
) -> Callable[[RuleFn], RuleFn]:
    """Register `fn` as the kind `name`, whose rules take the parameters `params`."""

    def register(fn: RuleFn) -> RuleFn:
        assert name not in KINDS, f"rule kind {name} registered twice"
        KINDS[name] = Kind(name, params, fn, decided, when_ended, owners)
        return fn

    return register
