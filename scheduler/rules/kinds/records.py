"""The visit record: CB-RECORD, HI-RECORD-24H, HI-NOONE-NOTE, CB-RISK-WORSE, CB-NEW-INJURY."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

from scheduler.rules.facts import contact_anchor, hours_after
from scheduler.rules.kinds.registry import kind
from scheduler.rules.model import LEAD_SOCIAL_WORKER, TEAM_MANAGER, Contact, Obligation
from scheduler.rules.params import NonNegative, Positive

if TYPE_CHECKING:
    from scheduler.rules.facts import Facts
    from scheduler.rules.policy import Rule


@dataclass(frozen=True, slots=True)
class WithinHours:
    within_hours: Positive


def _each_contact_within_hours(
    f: Facts,
    rule: Rule,
    pending: list[Contact],
    words: Callable[[Contact, date, int], tuple[str, str]],
) -> Iterator[Obligation]:
    """For each contact still `pending`, the lead social worker acts within the rule's hours of it;
    `words` gives the obligation's summary and basis."""
    for c in pending:
        day = f.local_date(c.at)
        hours = rule.on(day).within_hours
        summary, basis = words(c, day, hours)
        yield f.obligation(
            rule, LEAD_SOCIAL_WORKER, hours_after(c.at, hours), summary, basis, contact_anchor(c)
        )


@kind("record_within", WithinHours, owners=(LEAD_SOCIAL_WORKER,), when_ended=True)
def record_within(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-RECORD, HI-RECORD-24H: every contact recorded within N hours."""
    roles = f.policy.social_worker_roles

    def words(c: Contact, day: date, hours: int) -> tuple[str, str]:
        what = "Record of a Child Protection Visit" if c.kind == "home_visit" else "case note"
        return (
            f"Complete the {what} for the {f.label(c)} on {day} (within {hours} hours)",
            f"{f.label(c)} at {c.at.isoformat()} not yet recorded",
        )

    unrecorded = [c for c in f.contacts if c.recorded_at is None and c.by in roles]
    return _each_contact_within_hours(f, rule, unrecorded, words)


@kind("no_one_home_note", WithinHours, owners=(LEAD_SOCIAL_WORKER,), when_ended=True)
def no_one_home_note(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-NOONE-NOTE: a note left when no one is in, or the reason recorded why not."""

    def words(c: Contact, day: date, hours: int) -> tuple[str, str]:
        return (
            f"No one was in on {day}: record that a note was left "
            "(call-back time, contact details) or why not",
            f"visit at {c.at.isoformat()} with no one home, no note recorded",
        )

    unnoted = [c for c in f.contacts if c.no_one_home and not (c.note_left or c.note_not_left_reason)]
    return _each_contact_within_hours(f, rule, unnoted, words)


@dataclass(frozen=True, slots=True)
class RecordFlag:
    flag: Literal["risk_worsened", "new_injury"]
    respond_within_hours: NonNegative


_FLAG_TEXT = {
    "risk_worsened": "says the risks have worsened greatly: discuss with a manager now",
    "new_injury": "records a new incident or injury: start full Child Protection Enquiries",
}


@kind("record_flag", RecordFlag, owners=(TEAM_MANAGER,), decided=True, when_ended=True)
def record_flag(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-RISK-WORSE, CB-NEW-INJURY: the team manager is alerted at once; the window runs from
    when the record is made (RULES.md R9) and stays open until decided (R2)."""
    flag = rule.params.flag  # what the rule is about does not change with its dated values
    for c in filter(attrgetter(flag), f.contacts):
        p: RecordFlag = rule.on(f.local_date(c.at))
        yield from f.manager_prompt(
            rule,
            c.at,
            p.respond_within_hours,
            f"The record of the {f.label(c)} on {f.local_date(c.at)} {_FLAG_TEXT[p.flag]}",
            f"visit record of {c.at.isoformat()}",
            raised=c.recorded_at or c.at,
        )
