"""The outbox rows the sweep writes: a message for each stage of an obligation whose time has come,
to each recipient, and the team manager's notice about a child Seen cannot work out deadlines for.
Each row's key is deterministic (obligation key + stage + recipient), so it is written once."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from scheduler.evaluation import Unevaluable
from scheduler.messages import child_label, reminder_text
from scheduler.outbox import pending_row
from scheduler.recipients import Recipient, Recipients
from scheduler.rules.model import Obligation
from scheduler.rules.policy import Policy
from scheduler.stages import Stage, is_prompt

UNEVALUABLE_STAGE = "cannot-evaluate"


def unevaluable_rows(
    child: Any, problem: Unevaluable, recipients: Recipients, now: datetime
) -> list[dict[str, Any]]:
    """The team manager is told, once for each distinct problem, that Seen sends nothing about
    this child until the record is put right (the child is evaluated again when its facts change,
    and every night)."""
    digest = hashlib.sha256(problem.reason.encode()).hexdigest()[:12]
    label = child_label(child.case_ref, child.initials)
    text = (
        f"*Seen cannot work out deadlines* · {label}\n{problem.reason}\n"
        "Until this is put right Seen sends no reminders or prompts for this child: correct the "
        "record (or the policy) and import it again, or ask a Seen administrator."
    )
    return [
        pending_row(
            key=f"{child.case_ref}:cannot-evaluate:{digest}:{UNEVALUABLE_STAGE}:{r.key}",
            stage=UNEVALUABLE_STAGE,
            recipient_staff_id=r.staff_id,
            recipient_channel=r.channel,
            text=text,
            payload={"stage": UNEVALUABLE_STAGE, "child": child.case_ref, "to": r.describe, "rule": None},
            now=now,
            late=False,
            child_id=child.id,
        )
        for r in recipients.role(child, "team_manager")
    ]


def row_key(ob: Obligation, stage: str, r: Recipient) -> str:
    return f"{ob.key}:{stage}:{r.key}"


def outbox_row(
    child: Any,
    policy: Policy,
    ob: Obligation,
    stage: Stage,
    r: Recipient,
    now: datetime,
    last_swept: datetime | None,
) -> dict[str, Any]:
    """The message of `stage` of `child`'s obligation `ob` (`child`: a row of Child's columns) to
    `r`, at `now`; `last_swept`: when the child was last swept (None: never)."""
    # Late: its time fell while this child was not being swept (Seen was down), not merely before
    # the obligation existed (a stage already past when a new fact created the obligation).
    late = (
        last_swept is not None
        and last_swept < stage.at
        and now - stage.at > timedelta(minutes=policy.reminders.late_after_minutes)
    )
    text = reminder_text(policy, ob, stage, child.case_ref, child.initials, stage.at if late else None)
    return pending_row(
        key=row_key(ob, stage.name, r),
        child_id=child.id,
        rule=ob.rule,
        stage=stage.name,
        recipient_staff_id=r.staff_id,
        recipient_channel=r.channel,
        text=text,
        payload={
            "rule": ob.rule,
            "child": child.case_ref,
            "stage": stage.name,
            "due": ob.due.isoformat(),
            "status": ob.status,
            "owner": ob.owner,
            "obligation": ob.key,
            "planned_at": stage.at.isoformat(),
            "to": r.describe,
            "actions": _actions(policy, ob),
        },
        now=now,
        late=late,
    )


def _actions(policy: Policy, ob: Obligation) -> list[str]:
    if is_prompt(ob):
        return ["Acknowledge", "Record decision"]
    actions = ["Log visit", "Open record"]
    if policy.reminders.snooze_allowed and not isinstance(ob.due, datetime):
        actions.append("Snooze until tomorrow")
    return actions
