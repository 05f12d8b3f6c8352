"""The visit record: CB-RECORD, HI-RECORD-24H, HI-NOONE-NOTE, CB-RISK-WORSE, CB-NEW-INJURY."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from scheduler.rules.facts import contact_anchor, hours_after
from scheduler.rules.kinds.registry import kind
from scheduler.rules.model import LEAD_SOCIAL_WORKER, TEAM_MANAGER, Obligation
from scheduler.rules.params import NonNegative, Positive

if TYPE_CHECKING:
    from scheduler.rules.facts import Facts
    from scheduler.rules.policy import Rule


@dataclass(frozen=True, slots=True)
class RecordWithin:
    within_hours: Positive


@kind("record_within", RecordWithin, owners=(LEAD_SOCIAL_WORKER,), when_ended=True)
def record_within(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-RECORD, HI-RECORD-24H: every contact recorded within N hours."""
    for c in f.contacts:
        if c.recorded_at is not None or c.by not in f.policy.social_worker_roles:
            continue
        day = f.local_date(c.at)
        p: RecordWithin = rule.on(day)
        what = "Record of a Child Protection Visit" if c.kind == "home_visit" else "case note"
        yield f.obligation(
            rule,
            LEAD_SOCIAL_WORKER,
            hours_after(c.at, p.within_hours),
            f"Complete the {what} for the {f.label(c)} on {day} (within {p.within_hours} hours)",
            f"{f.label(c)} at {c.at.isoformat()} not yet recorded",
            contact_anchor(c),
        )


@dataclass(frozen=True, slots=True)
class NoOneHomeNote:
    within_hours: Positive


@kind("no_one_home_note", NoOneHomeNote, owners=(LEAD_SOCIAL_WORKER,), when_ended=True)
def no_one_home_note(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-NOONE-NOTE: a note left when no one is in, or the reason recorded why not."""
    for c in f.contacts:
        if not c.no_one_home or c.note_left or c.note_not_left_reason:
            continue
        day = f.local_date(c.at)
        p: NoOneHomeNote = rule.on(day)
        yield f.obligation(
            rule,
            LEAD_SOCIAL_WORKER,
            hours_after(c.at, p.within_hours),
            f"No one was in on {day}: record that a note was left "
            "(call-back time, contact details) or why not",
            f"visit at {c.at.isoformat()} with no one home, no note recorded",
            contact_anchor(c),
        )


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
    for c in f.contacts:
        if getattr(c, flag):
            p: RecordFlag = rule.on(f.local_date(c.at))
            yield from f.manager_prompt(
                rule,
                c.at,
                p.respond_within_hours,
                f"The record of the {f.label(c)} on {f.local_date(c.at)} {_FLAG_TEXT[p.flag]}",
                f"visit record of {c.at.isoformat()}",
                raised=c.recorded_at or c.at,
            )
