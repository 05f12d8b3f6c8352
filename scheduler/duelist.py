"""The daily due list: every working morning, each team's channel and each worker get theirs.

The counts first, then overdue, due today, due in the next working days and open manager prompts.
Overdue and due-today items are listed in full; of the others the first few, and where to find the
rest (`/seen due`, `/seen team`, App Home). A list longer than a message holds is split into
messages of at most PART_CHARS characters (`split_message`), each a readable message of its own and
well within every chat platform's limits. Written to the outbox like every other message (key
`duelist:…:DATE`, then `…:DATE:part2`, …), so it goes once a day, and late (saying so) when Seen
was down at the time.
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

HEADINGS = ("Overdue", "Due today", "Due soon", "Open manager prompts", "Later")  # Later: /seen team
IN_FULL = frozenset({"Overdue", "Due today"})  # listed whole; of the other headings, the first few
FIRST_FEW = 10
PART_CHARS = 3_000  # characters of one message of a list (a Slack section's limit)
COUNT_WORDS = {
    "Overdue": "overdue",
    "Due today": "due today",
    "Due soon": "due soon",
    "Open manager prompts": "open manager prompts",
    "Later": "later",
}


@dataclass
class DueList:
    sections: dict[str, list[str]] = field(default_factory=lambda: {h: [] for h in HEADINGS})

    def add(self, heading: str, line: str) -> None:
        self.sections[heading].append(line)

    def empty(self) -> bool:
        return not any(self.sections.values())

    def counts(self) -> str:
        """ "3 overdue · 1 due today · 12 due soon" (the headings with something under them)."""
        counts = [f"{len(items)} {COUNT_WORDS[h]}" for h, items in self.sections.items() if items]
        return " · ".join(counts) or "nothing due"

    def lines(self, rest: str) -> list[str]:
        """The sections, overdue and due-today items in full, of the others the first few and
        then `rest` (where to see them all)."""
        lines = []
        for heading, items in self.sections.items():
            if not items:
                continue
            shown = items if heading in IN_FULL else items[:FIRST_FEW]
            lines.append(f"_{heading}_ ({len(items)})")
            lines.extend(f"• {item}" for item in shown)
            if len(shown) < len(items):
                lines.append(f"… and {len(items) - len(shown)} more: {rest}")
        if self.empty():
            lines.append("Nothing overdue or due in the next working days.")
        return lines

    def parts(self, title: str, rest: str, *, note: str = "", max_parts: int | None = None) -> list[str]:
        """The list as messages: the title and counts first (and `note` under them), then
        `lines(rest)`."""
        head = [f"*{title}* · {self.counts()}", *([note] if note else [])]
        return split_message(f"*{title}*", head, self.lines(rest), rest, max_parts=max_parts)


def split_message(
    title: str,
    head: list[str],
    lines: list[str],
    rest: str,
    *,
    limit: int = PART_CHARS,
    max_parts: int | None = None,
) -> list[str]:
    """Lines as messages of at most `limit` characters each, in order. The first starts with the
    `head` lines (the title and the counts); each later one with "title (2 of 3)". A line too long
    for a message is cut. With `max_parts` (a reply that can be sent only so many times), what does
    not fit is counted in a last line pointing to `rest`."""
    first = "\n".join(head)
    later_room = limit - len(f"{title} (99 of 99)") - 1
    parts: list[list[str]] = [[]]
    room, size = limit - len(first), 0
    for line in lines:
        if len(line) + 1 > later_room:
            line = line[: later_room - 2] + "…"
        if parts[-1] and size + len(line) + 1 > room:
            parts.append([])
            room, size = later_room, 0
        parts[-1].append(line)
        size += len(line) + 1
    if max_parts is not None and len(parts) > max_parts:
        left = [line for part in parts[max_parts:] for line in part]
        parts = parts[:max_parts]
        room = limit - len(first) if max_parts == 1 else later_room
        while True:
            dropped = sum(line.startswith("• ") for line in left)
            tail = f"… and {dropped} more not shown here: {rest}"
            if sum(len(line) + 1 for line in parts[-1]) + len(tail) + 1 <= room or not parts[-1]:
                break
            left.insert(0, parts[-1].pop())
        parts[-1].append(tail)
    n = len(parts)
    heads = [first] + [f"{title} ({i} of {n})" for i in range(2, n + 1)]
    return ["\n".join([h, *part]) for h, part in zip(heads, parts, strict=True)]


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
    staff = {s.id: s for s in session.scalars(select(Staff).where(Staff.team_id == team.id))}
    note = "_Sent late: Seen was not running at the usual time._" if late else ""
    team_parts = team_list.parts(f"Due list for {team.name}, {day}", TEAM_REST, note=note)
    rows: list[Addressed] = []
    if team.slack_channel_id:
        rows += _rows(f"duelist:team{team.id}:{day}", None, team.slack_channel_id, team_parts, "team channel")
    else:  # no team channel: the team's managers get the team list directly
        for s in staff.values():
            if s.active and s.role == "team_manager":
                key = f"duelist:team{team.id}:{day}:s{s.id}"
                rows += _rows(key, s.id, None, team_parts, f"team manager (staff {s.id})")
    for staff_id, due in sorted(per_worker.items()):
        if staff_id in staff and staff[staff_id].active:
            parts = due.parts(f"Your due list, {day}", WORKER_REST, note=note)
            rows += _rows(f"duelist:staff{staff_id}:{day}", staff_id, None, parts, f"staff {staff_id}")
    return len(add_pending(session, "due-list", rows, now, late))


TEAM_REST = "`/seen team` or App Home lists them all"
WORKER_REST = "`/seen due` or App Home lists them all"


def _rows(key: str, staff_id: int | None, channel: str | None, parts: list[str], to: str) -> list[Addressed]:
    """One outbox row a message of the list: `key`, then `key:part2`, …"""
    return [
        (key if i == 1 else f"{key}:part{i}", staff_id, channel, text, to)
        for i, text in enumerate(parts, start=1)
    ]
