"""The words of every message Seen sends. Case reference and initials only: never a name,
an address or case-note text (DESIGN.md conventions). Each message says what is due, by when,
under which rule ID, and what to do next.
"""

from __future__ import annotations

from datetime import date, datetime

from scheduler.rules.model import Obligation
from scheduler.rules.policy import Policy
from scheduler.stages import Stage, is_prompt

_OPENING = {
    "remind": "Reminder",
    "due-today": "Due today",
    "overdue": "OVERDUE",
    "prompt": "Decision needed",
    "repeat": "Still waiting for acknowledgement",
    "escalate": "Escalated to you: not acknowledged",
    "out-of-hours": "Urgent, raised out of hours",
}


def when(policy: Policy, due: date | datetime) -> str:
    if isinstance(due, datetime):
        return due.astimezone(policy.timezone).strftime("%a %d %b %Y %H:%M")
    return due.strftime("%a %d %b %Y")


def child_label(ref: str, initials: str) -> str:
    return f"{ref} ({initials})" if initials else ref


def next_step(ob: Obligation, ref: str) -> str:
    if is_prompt(ob):
        return "Next: Acknowledge, then Record decision (buttons below, or `/seen child " + ref + "`)."
    if ob.rule.endswith(("RECORD", "RECORD-24H", "NOONE-NOTE")):
        return f"Next: complete the record with `/seen record {ref}`."
    return f"Next: after the visit, `/seen log {ref} seen` (or `not-seen`)."


def reminder_text(
    policy: Policy,
    ob: Obligation,
    stage: Stage,
    ref: str,
    initials: str,
    late_since: datetime | None = None,
) -> str:
    """One message: opening by stage, the child, the obligation, the deadline, the rule, next step."""
    opening = next((v for k, v in _OPENING.items() if stage.name.startswith(k)), "Reminder")
    parts = [
        f"*{opening}* · {child_label(ref, initials)} · [{ob.rule}]",
        f"{ob.summary}.",
        f"Due {when(policy, ob.due)} ({ob.status}); for the {ob.owner.replace('_', ' ')}.",
        next_step(ob, ref),
    ]
    if late_since is not None:
        parts.append(
            f"Sent late: this was due to go at {when(policy, late_since)} while Seen was not running."
        )
    return "\n".join(parts)
