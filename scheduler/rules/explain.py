"""`seen explain`: the obligations in words, each with the fact that started its clock."""

from __future__ import annotations

from datetime import date, datetime

from scheduler.rules.facts import outcome_label
from scheduler.rules.model import Case, Obligation
from scheduler.rules.policy import Policy


def _when(due: date | datetime, policy: Policy) -> str:
    if isinstance(due, datetime):
        return due.astimezone(policy.timezone).strftime("%Y-%m-%d %H:%M %Z")
    return f"{due.isoformat()} (end of day)"


def explain_text(policy: Policy, case: Case, now: datetime, obligations: list[Obligation]) -> str:
    local_now = now.astimezone(policy.timezone)
    lines = [
        f"{case.child.ref} under {policy.id} ({policy.name}) as of {local_now.strftime('%Y-%m-%d %H:%M %Z')}",
        f"Plan {case.plan.plan_number} started {case.plan.started}"
        + (f", ended {case.plan.ended}" if case.plan.ended else ""),
    ]
    if case.contacts:
        last = case.contacts[-1]
        lines.append(
            f"Contacts recorded: {len(case.contacts)}; the latest a {outcome_label(policy, last)} "
            f"on {last.at.astimezone(policy.timezone).date()}"
        )
    if not obligations:
        lines.append("Nothing is open: every rule of the policy is met.")
        return "\n".join(lines)
    lines.append(f"{len(obligations)} open obligation(s), by deadline:")
    for i, o in enumerate(obligations, 1):
        owner = o.owner.replace("_", " ")
        lines.append(f"{i}. [{o.rule}] {o.status.upper()}, due {_when(o.due, policy)}, for the {owner}")
        lines.append(f"   {o.summary}")
        lines.append(f"   Why: {o.basis}")
        rule = policy.rules.get(o.rule)
        if rule is not None:  # where in the procedure the rule comes from (the policy's catalogue)
            lines.append(f"   Rule: {rule.summary} ({policy.name}, {rule.source})")
    return "\n".join(lines)
