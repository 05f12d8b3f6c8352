"""The daily due list: every working morning, each team's channel and each worker get theirs.

Overdue first, then due today, then due in the next working days, then open manager prompts.
Written to the outbox like every other message (key `duelist:…:DATE`), so it goes once a day,
and late (saying so) when Seen was down at the time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.evaluation import Unevaluable, cannot_evaluate_line, evaluate_child
from scheduler.messages import child_label, when
from scheduler.outbox import Addressed, add_pending
from scheduler.policies import load_policy
from scheduler.rules.model import Obligation
from scheduler.rules.policy import Policy
from scheduler.stages import is_prompt, morning
from storage.cases import cases_for_children
from storage.models import Child, SchedulerState, Staff, Team

HEADINGS = ("Overdue", "Due today", "Due soon", "Open manager prompts")


@dataclass
class DueList:
    sections: dict[str, list[str]] = field(default_factory=lambda: {h: [] for h in HEADINGS})

    def add(self, heading: str, line: str) -> None:
        self.sections[heading].append(line)

    def empty(self) -> bool:
        return not any(self.sections.values())

    def text(self, title: str) -> str:
        lines = [f"*{title}*"]
        for heading, items in self.sections.items():
            if items:
                lines.append(f"_{heading}_ ({len(items)})")
                lines.extend(f"• {item}" for item in items)
        if self.empty():
            lines.append("Nothing overdue or due in the next working days.")
        return "\n".join(lines)


def section(policy: Policy, ob: Obligation, now: datetime) -> str | None:
    """Which heading an obligation goes under today, or None when it is not due soon."""
    if is_prompt(ob):
        return "Open manager prompts"
    if ob.status == "overdue":
        return "Overdue"
    today = now.astimezone(policy.timezone).date()
    due_day = ob.due.astimezone(policy.timezone).date() if isinstance(ob.due, datetime) else ob.due
    if due_day <= today:
        return "Due today"
    horizon = policy.calendar.add_working_days(today, max(policy.reminders.before_working_days, default=3))
    return "Due soon" if due_day <= horizon else None


def line(policy: Policy, child: Child, ob: Obligation) -> str:
    return (
        f"{child_label(child.case_ref, child.initials)} [{ob.rule}] due {when(policy, ob.due)}"
        f" ({ob.owner.replace('_', ' ')}): {ob.summary}"
    )


def write_due_lists(session: Session, now: datetime) -> int:
    """Write today's due lists to the outbox if it is a working morning and they are not written.

    Returns the number of rows written (0 when not yet time, not a working day, or done already).
    """
    written = 0
    teams = list(session.scalars(select(Team).order_by(Team.id)))
    for team in teams:
        policy = load_policy(team.policy_id)
        today = now.astimezone(policy.timezone).date()
        at = morning(policy, today)
        marker = f"duelist:team{team.id}:{today}"
        if now < at or not policy.calendar.is_working_day(today):
            continue
        if session.get(SchedulerState, marker) is not None:
            continue
        late = now - at > timedelta(minutes=policy.reminders.late_after_minutes)
        written += _team_lists(session, team, policy, now, today.isoformat(), late)
        session.add(SchedulerState(name=marker, value=now.isoformat(), updated_at=now))
    return written


def _team_lists(session: Session, team: Team, policy: Policy, now: datetime, day: str, late: bool) -> int:
    children = list(
        session.scalars(
            select(Child).where(Child.team_id == team.id, Child.closed_at.is_(None)).order_by(Child.case_ref)
        )
    )
    cases = cases_for_children(session, [c.id for c in children])
    team_list = DueList()
    per_worker: dict[int, DueList] = defaultdict(DueList)
    for child in children:
        case = cases.get(child.id)
        if case is None:
            continue
        obligations = evaluate_child(policy, case, now)
        if isinstance(obligations, Unevaluable):  # a record to put right: first thing on the list
            text = cannot_evaluate_line(child, obligations)
            team_list.add("Overdue", text)
            if child.lead_social_worker_id is not None:
                per_worker[child.lead_social_worker_id].add("Overdue", text)
            continue
        for ob in obligations:
            heading = section(policy, ob, now)
            if heading is None:
                continue
            text = line(policy, child, ob)
            team_list.add(heading, text)
            if not is_prompt(ob) and child.lead_social_worker_id is not None:
                per_worker[child.lead_social_worker_id].add(heading, text)
    suffix = "\n_Sent late: Seen was not running at the usual time._" if late else ""
    staff = {s.id: s for s in session.scalars(select(Staff).where(Staff.team_id == team.id))}
    title = f"Due list for {team.name}, {day}"
    if team.slack_channel_id:
        rows: list[Addressed] = [
            (
                f"duelist:team{team.id}:{day}",
                None,
                team.slack_channel_id,
                team_list.text(title) + suffix,
                "team channel",
            )
        ]
    else:  # no team channel: the team's managers get the team list directly
        rows = [
            (
                f"duelist:team{team.id}:{day}:s{s.id}",
                s.id,
                None,
                team_list.text(title) + suffix,
                f"team manager (staff {s.id})",
            )
            for s in staff.values()
            if s.active and s.role == "team_manager"
        ]
    for staff_id, due in sorted(per_worker.items()):
        if staff_id in staff and staff[staff_id].active:
            rows.append(
                (
                    f"duelist:staff{staff_id}:{day}",
                    staff_id,
                    None,
                    due.text(f"Your due list, {day}") + suffix,
                    f"staff {staff_id}",
                )
            )
    return len(add_pending(session, "due-list", rows, now, late))
