"""What a visit saw: CB-BEDROOM-ALT, CB-SEEN-ALONE, CB-BABY-AWAKE, HI-SEEN-ALONE.

A manager prompt raised by a visit stays open until a decider records a decision, whatever later
visits see (RULES.md R2).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

from scheduler.rules.kinds.registry import kind
from scheduler.rules.model import LEAD_SOCIAL_WORKER, TEAM_MANAGER, Contact, Obligation
from scheduler.rules.params import NonNegative, Positive

if TYPE_CHECKING:
    from scheduler.rules.facts import Facts
    from scheduler.rules.policy import Rule


_at = attrgetter("at")
UNSAID_OR_NO = frozenset({None, "no"})  # a record that does not say counts from the age R11 names


def runs(visits: list[Contact], marks: list[bool]) -> list[tuple[int, Contact]]:
    """Each maximal run of consecutive visits marked True: (its length, its last visit)."""
    out: list[tuple[int, Contact]] = []
    run = 0
    for i, inside in enumerate(marks):
        if inside:
            run += 1
        elif run:
            out.append((run, visits[i - 1]))
            run = 0
    if run:
        out.append((run, visits[-1]))
    return out


def not_seen_alone(f: Facts, v: Contact, min_age: int) -> bool:
    """A visit that did not see the child alone: "no", or (RULES.md R11) a record of a child of
    `min_age` or over that does not say."""
    if v.seen_alone == "no":
        return True
    if v.seen_alone is not None:
        return False
    age = f.age_years(f.local_date(v.at))
    return age is not None and age >= min_age


@dataclass(frozen=True, slots=True)
class BedroomAlternate:
    breach_after_visits: Positive
    respond_within_hours: NonNegative


@kind(
    "bedroom_alternate",
    BedroomAlternate,
    owners=(
        LEAD_SOCIAL_WORKER,
        TEAM_MANAGER,
    ),
    decided=True,
)
def bedroom_alternate(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-BEDROOM-ALT: the bedroom seen at least on alternate home visits; a breach prompt stays
    open until decided (RULES.md R2)."""
    last = f.last_visit
    if last is None:
        return
    if not last.bedroom_seen and f.active and f.visit_due is not None:
        day = f.local_date(last.at)
        yield f.obligation(
            rule,
            LEAD_SOCIAL_WORKER,
            f.visit_due,
            f"Bedroom not seen on {day}: the next home visit (by {f.visit_due}) must see the child's bedroom",
            f"home visit on {day} without seeing the bedroom",
            day,
        )
    shortest = rule.least("breach_after_visits")
    for run, end in runs(f.visits, [not v.bedroom_seen for v in f.visits]):
        if run < shortest:
            continue
        day = f.local_date(end.at)
        p: BedroomAlternate = rule.on(day)
        if run >= p.breach_after_visits:
            yield from f.manager_prompt(
                rule,
                end.at,
                p.respond_within_hours,
                f"Bedroom not seen on {run} home visits in a row (last on {day}): "
                "review and record a decision",
                f"{run} consecutive home visits without the bedroom, the last on {day}",
            )


@dataclass(frozen=True, slots=True)
class SeenAloneRun:
    min_age_years: NonNegative
    consecutive_visits: Positive
    respond_within_hours: NonNegative


@kind("seen_alone_run", SeenAloneRun, owners=(TEAM_MANAGER,), decided=True)
def seen_alone_run(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-SEEN-ALONE: a child of 4+ not seen alone on N visits in a row: the team manager is told,
    and the prompt stays open until decided (RULES.md R2, R11)."""

    grown = f.aged_from(rule.params.min_age_years)  # without dated changes, one birthday
    if grown is None:
        return  # the age is unknown

    visits = f.visits
    if rule.changes:

        def old_enough(v: Contact) -> bool:
            day = f.local_date(v.at)
            age = f.age_years(day)
            return age is not None and age >= rule.on(day).min_age_years

        not_alone = [v.seen_alone in UNSAID_OR_NO and old_enough(v) for v in visits]
    else:  # one birthday: the visits before it are all too young, those after all old enough
        young = bisect_left(visits, grown, key=_at)
        not_alone = [False] * young + [v.seen_alone in UNSAID_OR_NO for v in visits[young:]]
    shortest = rule.least("consecutive_visits")
    for run, end in runs(visits, not_alone):
        if run < shortest:
            continue
        p: SeenAloneRun = rule.on(f.local_date(end.at))
        if run < p.consecutive_visits:
            continue
        yield from f.manager_prompt(
            rule,
            end.at,
            p.respond_within_hours,
            f"Not seen alone on {run} home visits in a row (child aged {p.min_age_years}+): "
            "consider in supervision and record the decision",
            f"{run} consecutive visits not seen alone, the last on {f.local_date(end.at)}",
        )


@dataclass(frozen=True, slots=True)
class BabyAwake:
    baby_under_months: Positive
    respond_within_hours: NonNegative


@kind("baby_awake", BabyAwake, owners=(TEAM_MANAGER,), decided=True)
def baby_awake(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-BABY-AWAKE: a baby (under N months) seen awake at every visit."""
    if f.case.child.date_of_birth is None:
        return
    for v in f.visits:
        if v.child_awake:
            continue
        day = f.local_date(v.at)
        p: BabyAwake = rule.on(day)
        months = f.age_months(day)
        if months is None or months >= p.baby_under_months:
            continue
        said = "not seen awake" if v.child_awake is False else "not recorded as seen awake"
        yield from f.manager_prompt(
            rule,
            v.at,
            p.respond_within_hours,
            f"Baby {said} at the home visit on {day}: review and record the decision",
            f"home visit on {day}, baby aged {months} months",
        )


@dataclass(frozen=True, slots=True)
class SeenAloneEachVisit:
    respond_within_hours: NonNegative
    unstated_from_age_years: NonNegative  # RULES.md R11


@kind(
    "seen_alone_each_visit",
    SeenAloneEachVisit,
    owners=(
        LEAD_SOCIAL_WORKER,
        TEAM_MANAGER,
    ),
    decided=True,
)
def seen_alone_each_visit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-SEEN-ALONE: seen alone at each visit; if not, the next visit must; concerns to the TM,
    open until decided (RULES.md R2). A record of a child of 4+ that does not say counts as not
    seen alone (R11)."""
    last = f.last_visit
    if last is None:
        return
    day = f.local_date(last.at)
    if not_seen_alone(f, last, rule.on(day).unstated_from_age_years) and f.active and f.visit_due:
        why = "the reason is in the visit record" if last.seen_alone == "no" else "no reason given"
        yield f.obligation(
            rule,
            LEAD_SOCIAL_WORKER,
            f.visit_due,
            f"Not seen alone on {day}: the next statutory visit (by {f.visit_due}) must see the child alone",
            f"{f.label(last)} on {day}, not seen alone ({why})",
            day,
        )
    for v in f.visits:
        if not v.alone_concerns:
            continue
        day = f.local_date(v.at)
        p: SeenAloneEachVisit = rule.on(day)
        if not_seen_alone(f, v, p.unstated_from_age_years):
            yield from f.manager_prompt(
                rule,
                v.at,
                p.respond_within_hours,
                f"Not seen alone on {day} and the social worker has concerns: review and record",
                f"{f.label(v)} on {day} with concerns",
            )
