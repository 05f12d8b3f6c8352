"""What a reminder's or a prompt's button does, whatever the platform: who may press it, and what
Acknowledge and Snooze store and audit. The platform shows the result: Slack updates the message
(and a prompt's other copies) with `chat.update`, Teams answers with the card that replaces the
clicked one. The buttons that open a form (Log visit, Open record, Record decision) open it on
each platform and are not here.

A button's value carries `k` (the outbox key of its message), `o` (the obligation), `c` (the
child's case reference), `r` (the rule) and `w` (the owner role the prompt is for)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from scheduler.messages import when
from storage import facts
from storage.audit import write_audit
from storage.models import Child, Outbox, Staff

ACKNOWLEDGE = "seen_ack"
SNOOZE = "seen_snooze"
AFTER_ACKNOWLEDGE = ["Record decision"]  # the buttons an acknowledged prompt keeps
AFTER_SNOOZE = ["Log visit", "Open record"]  # the buttons a snoozed reminder keeps


@dataclass(frozen=True, slots=True)
class Pressed:
    """A button's work done: who pressed it, for which child, and what the message now says."""

    staff: Staff
    child: Child
    note: str  # without the platform's icon
    keep: list[str]


Who = Callable[[Staff], str]  # how the platform names the person who pressed (a mention, a role)


def clicked(
    s: Session, user: str | None, value: dict[str, Any], *, decide: bool, unknown: str = access.UNKNOWN_STAFF
) -> tuple[Staff, Child]:
    """Who clicked a button and the child its message is about ("c"), refused unless they may
    decide for the message's owner ("w", a prompt's buttons) or, with `decide` False, log visits
    for the child (a reminder's buttons)."""
    staff = access.staff_for(s, user, unknown)
    child = access.child_for(s, value.get("c") or "")
    if decide:
        access.check_can_decide(staff, child, value.get("w") or "team_manager")
    else:
        access.check_can_log(staff, child)
    return staff, child


def acknowledge(
    s: Session,
    user: str | None,
    value: dict[str, Any],
    now: datetime,
    who: Who,
    unknown: str = access.UNKNOWN_STAFF,
) -> Pressed:
    """A prompt's Acknowledge: stored once (a second press is the same fact)."""
    staff, child = clicked(s, user, value, decide=True, unknown=unknown)
    if not isinstance(value.get("o"), str) or not value["o"]:
        raise Refused("This message has nothing to acknowledge.")
    ack = facts.acknowledge(s, child, staff, value["o"], at=now, now=now)
    policy = caseview.policy_of(s, child)
    note = (
        f"Acknowledged by {who(staff)} at {when(policy, ack.at)}. The rule is met by the recorded decision."
    )
    return Pressed(staff, child, note, AFTER_ACKNOWLEDGE)


def snooze(
    s: Session,
    user: str | None,
    value: dict[str, Any],
    now: datetime,
    who: Who,
    unknown: str = access.UNKNOWN_STAFF,
) -> Pressed:
    """A reminder's Snooze until tomorrow, where the policy allows it: the reminder is acknowledged
    (no more of it today) and the snooze audited with the working day it lasts until."""
    staff, child = clicked(s, user, value, decide=False, unknown=unknown)
    policy = caseview.policy_of(s, child)
    if not policy.reminders.snooze_allowed:
        raise Refused(f"{policy.name} does not allow snoozing reminders.")
    if not isinstance(value.get("k"), str) or not value["k"]:
        raise Refused("This message has nothing to snooze.")
    facts.acknowledge(s, child, staff, value["k"], at=now, now=now)
    tomorrow: date = policy.calendar.add_working_days(now.astimezone(policy.timezone).date(), 1)
    write_audit(
        s,
        "reminder.snoozed",
        child_id=child.id,
        actor=staff.id,
        at=now,
        detail={"key": value["k"], "until": tomorrow.isoformat(), "rule": value.get("r")},
    )
    note = f"Snoozed by {who(staff)} until {tomorrow.strftime('%a %d %b')}: the next reminder comes then."
    return Pressed(staff, child, note, AFTER_SNOOZE)


def prompt_copies(s: Session, obligation_key: str, but: str | None = None) -> list[tuple[str, str]]:
    """Every delivered message (platform reference, text) of an obligation's prompt, at any stage
    and to anyone: an acknowledgement shows on each of them, not only on the one clicked. `but`:
    the outbox key of a copy left out (on Teams, the clicked card, which Teams itself replaces)."""
    rows = s.execute(
        select(Outbox.message_ref, Outbox.text).where(
            Outbox.key.startswith(obligation_key + ":", autoescape=True),
            Outbox.message_ref.is_not(None),
            Outbox.key != (but or ""),
        )
    )
    return [(ref, text) for ref, text in rows]
