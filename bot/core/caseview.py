"""What the bot shows about children: their open obligations (the engine on the stored facts), due
lists, the child view of `/seen child`, and the contacts a visit record form starts from.

Read-only. Case reference and initials only; free text of records stays in the database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from scheduler.duelist import FIRST_FEW, IN_FULL, DueList, section, split_message
from scheduler.evaluation import Unevaluable, cannot_evaluate_line, evaluate_child
from scheduler.messages import child_label, when
from scheduler.policies import load_policy
from scheduler.rules.engine import outcome_label
from scheduler.rules.explain import explain_text
from scheduler.rules.model import Case, Obligation
from scheduler.rules.policy import Policy
from scheduler.stages import MANAGER_ROLES, is_prompt
from storage.cases import cases_for_children
from storage.models import Acknowledgement, Child, ChildOverdueSummary, Contact, Outbox, Staff, Team

REDACTED = "(in the record)"


@dataclass(frozen=True, slots=True)
class Open:
    child: Child
    policy: Policy
    ob: Obligation

    @property
    def label(self) -> str:
        return child_label(self.child.case_ref, self.child.initials)

    def line(self) -> str:
        return (
            f"{self.label} [{self.ob.rule}] due {when(self.policy, self.ob.due)} ({self.ob.status}, "
            f"{self.ob.owner.replace('_', ' ')}): {self.ob.summary}"
        )


def policy_of(session: Session, child: Child) -> Policy:
    team = session.get(Team, child.team_id)
    assert team is not None
    return load_policy(team.policy_id)


def open_obligations(
    session: Session, children: Iterable[Child], now: datetime, problems: list[str] | None = None
) -> list[Open]:
    """Every open obligation of these children, by deadline (overdue ones are the earliest). A child
    the engine cannot evaluate has none; with `problems`, a line saying why is added to it."""
    children = list(children)
    cases = cases_for_children(session, [c.id for c in children])
    teams = {t.id: t for t in session.scalars(select(Team))}
    out: list[Open] = []
    for child in children:
        case = cases.get(child.id)
        if case is None:
            continue
        policy = load_policy(teams[child.team_id].policy_id)
        obligations = evaluate_child(policy, case, now)
        if isinstance(obligations, Unevaluable):
            if problems is not None:
                problems.append(cannot_evaluate_line(child, obligations))
            continue
        out.extend(Open(child, policy, ob) for ob in obligations)
    out.sort(key=lambda o: (_due_key(o.ob), o.child.case_ref, o.ob.rule))
    return out


def _due_key(ob: Obligation) -> str:
    return ob.due.isoformat() if isinstance(ob.due, datetime) else f"{ob.due.isoformat()}T23:59:59"


def acknowledged(session: Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    return set(session.scalars(select(Acknowledgement.key).where(Acknowledgement.key.in_(keys))))


def children_of_worker(session: Session, staff: Staff) -> list[Child]:
    return list(
        session.scalars(
            select(Child)
            .where(Child.lead_social_worker_id == staff.id, Child.closed_at.is_(None))
            .order_by(Child.case_ref)
        )
    )


# Above this many open children, a manager or chair with no team (who covers every team) is shown
# the children that need them rather than every child: evaluating a whole county's caseload for
# one App Home would take as long as a cold sweep.
EVERY_CHILD_UP_TO = 1000
OVERSIGHT_LIMIT = 300  # children evaluated for the organisation-wide view
OVERSIGHT_TOLD_WITHIN = timedelta(days=14)


@dataclass
class Covered:
    """The children a list is about, and what the reader should be told of the choice."""

    children: list[Child]
    note: str = ""


def children_of_team(session: Session, staff: Staff, now: datetime) -> Covered:
    """The children of the staff member's team; with no team, a manager or chair covers every
    team: every child of a small caseload, else the children that need them (`_oversight`)."""
    query = select(Child).where(Child.closed_at.is_(None))
    if staff.team_id is not None:
        return Covered(
            list(session.scalars(query.where(Child.team_id == staff.team_id).order_by(Child.case_ref)))
        )
    if staff.role not in MANAGER_ROLES:
        return Covered([])  # with no team, only managers and chairs cover every team (access.can_see)
    open_children = (
        session.scalar(select(func.count()).select_from(Child).where(Child.closed_at.is_(None))) or 0
    )
    if open_children <= EVERY_CHILD_UP_TO:
        return Covered(list(session.scalars(query.order_by(Child.case_ref))))
    return _oversight(session, staff, open_children, now)


def _oversight(session: Session, staff: Staff, open_children: int, now: datetime) -> Covered:
    """Across every team: the children with something overdue at the last sweep, and those about
    whom this person was sent a message in the last fortnight (prompts escalated to them)."""
    overdue = select(ChildOverdueSummary.child_id).where(ChildOverdueSummary.overdue.is_not(None))
    told = select(Outbox.child_id).where(
        Outbox.recipient_staff_id == staff.id,
        Outbox.child_id.is_not(None),
        Outbox.created_at >= now - OVERSIGHT_TOLD_WITHIN,
    )
    ids = select(Child.id).where(Child.closed_at.is_(None), Child.id.in_(overdue.union(told)))
    wanted = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    children = list(
        session.scalars(
            select(Child).where(Child.id.in_(ids)).order_by(Child.case_ref).limit(OVERSIGHT_LIMIT)
        )
    )
    if not wanted:
        return Covered(
            [],
            f"Across all teams ({open_children} open children): nothing overdue at the last sweep and "
            "no message to you in the last fortnight.",
        )
    note = (
        f"Across all teams ({open_children} open children): the {wanted} with something overdue at "
        "the last sweep or a message to you"
    )
    if wanted > len(children):
        note += f"; the first {len(children)} by case reference are listed, `/seen child REF` shows any child"
    return Covered(children, note + ".")


REST = "App Home lists them all, `/seen child REF` shows one child"


def my_due_parts(session: Session, staff: Staff, now: datetime, max_parts: int | None = None) -> list[str]:
    """`/seen due`: the worker's children by deadline, the counts first; overdue and due-today
    items in full, then the next few; as messages of a readable length (at most `max_parts`)."""
    children = children_of_worker(session, staff)
    if not children:
        return ["You are not the lead social worker of any child. `/seen team` shows your team's list."]
    problems: list[str] = []
    items = [o for o in open_obligations(session, children, now, problems) if o.ob.owner not in MANAGER_ROLES]
    now_due = [o for o in items if section(o.policy, o.ob, now) in IN_FULL]
    later = [o for o in items if section(o.policy, o.ob, now) not in IN_FULL]
    late = sum(o.ob.status == "overdue" for o in now_due)
    counts = [
        (len(problems) + late, "overdue"),
        (len(now_due) - late, "due today"),
        (len(later), "later"),
    ]
    counted = " · ".join(f"{n} {what}" for n, what in counts if n) or "nothing open"
    title = "*Your children by deadline*"
    head = f"{title} ({len(children)} children) · {counted}"
    lines = [f"• *OVERDUE* {line}" for line in problems]
    lines += [f"• {'*OVERDUE* ' if o.ob.status == 'overdue' else ''}{o.line()}" for o in now_due]
    lines += [f"• {o.line()}" for o in later[:FIRST_FEW]]
    if len(later) > FIRST_FEW:
        lines.append(f"… and {len(later) - FIRST_FEW} more: {REST}")
    if not lines:
        lines.append("Nothing open: every child is seen and recorded on time.")
    return split_message(title, [head], lines, REST, max_parts=max_parts)


def my_due_text(session: Session, staff: Staff, now: datetime) -> str:
    return "\n".join(my_due_parts(session, staff, now))


def team_due_parts(session: Session, staff: Staff, now: datetime, max_parts: int | None = None) -> list[str]:
    """`/seen team`: the team's due list, the counts first, overdue and due-today in full."""
    covered = children_of_team(session, staff, now)
    due = DueList()
    problems: list[str] = []
    items = open_obligations(session, covered.children, now, problems)
    for line in problems:
        due.add("Overdue", line)
    for o in items:
        due.add(section(o.policy, o.ob, now) or "Later", o.line())
    team = session.get(Team, staff.team_id) if staff.team_id is not None else None
    title = f"Due list for {team.name if team else 'all teams'}"
    note = f"_{covered.note}_" if covered.note else ""
    return due.parts(title, REST, note=note, max_parts=max_parts)


def team_due_text(session: Session, staff: Staff, now: datetime) -> str:
    return "\n".join(team_due_parts(session, staff, now))


def _redacted(case: Case) -> Case:
    """The case without free text of the records (the explanation goes to Slack)."""
    contacts = tuple(
        c._replace(
            seen_alone_reason=REDACTED if c.seen_alone_reason else None,
            note_not_left_reason=REDACTED if c.note_not_left_reason else None,
        )
        for c in case.contacts
    )
    return dataclasses.replace(case, contacts=contacts)


def child_text(session: Session, child: Child, now: datetime) -> str:
    """`/seen child`: next deadlines (as `seen explain`), open prompts, last visits."""
    policy = policy_of(session, child)
    cases = cases_for_children(session, [child.id])
    if child.id not in cases:
        return f"{child_label(child.case_ref, child.initials)} has no child protection plan recorded in Seen."
    case = _redacted(cases[child.id])
    obligations = evaluate_child(policy, case, now)
    if isinstance(obligations, Unevaluable):
        return (
            f"*{child_label(child.case_ref, child.initials)}*\nSeen cannot work out deadlines: "
            f"{obligations.reason}\nUntil this is put right Seen sends no reminders for this child."
        )
    lines = [
        f"*{child_label(child.case_ref, child.initials)}*",
        "```",
        explain_text(policy, case, now, obligations),
    ]
    lines.append("```")
    prompts = [o for o in obligations if is_prompt(o)]
    if prompts:
        acked = acknowledged(session, [o.key for o in prompts])
        lines.append("*Open manager prompts*")
        lines += [
            f"• [{o.rule}] due {when(policy, o.due)}: "
            f"{'acknowledged, decision not yet recorded' if o.key in acked else 'not yet acknowledged'}"
            for o in prompts
        ]
    recent = list(case.contacts[-3:])
    if recent:
        lines.append("*Last contacts*")
        lines += [
            f"• {when(policy, c.at)}: {outcome_label(policy, c)} by the {c.by.replace('_', ' ')}"
            f"{'' if c.recorded_at else ' (record not yet complete)'}"
            for c in reversed(recent)
        ]
    return "\n".join(lines)


def latest_unrecorded(session: Session, child: Child) -> Contact | None:
    """The newest contact of the child whose record is not complete (and not corrected since)."""
    newer = aliased(Contact)
    return session.scalar(
        select(Contact)
        .where(
            Contact.child_id == child.id,
            Contact.recorded_at.is_(None),
            ~exists().where(newer.correction_of_id == Contact.id),
        )
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(1)
    )


def latest_version(session: Session, contact_id: int) -> Contact | None:
    """The newest correction of a contact (or the contact itself)."""
    row = session.get(Contact, contact_id)
    while row is not None:
        newer = session.scalar(select(Contact).where(Contact.correction_of_id == row.id))
        if newer is None:
            return row
        row = newer
    return None


def siblings(session: Session, child: Child, limit: int = 5) -> list[Child]:
    """Children a family visit may cover: same team and same lead social worker."""
    if child.lead_social_worker_id is None:
        return []
    return list(
        session.scalars(
            select(Child)
            .where(
                Child.team_id == child.team_id,
                Child.lead_social_worker_id == child.lead_social_worker_id,
                Child.closed_at.is_(None),
                Child.id != child.id,
            )
            .order_by(Child.case_ref)
            .limit(limit)
        )
    )
