"""Who may do what in Slack (issue 4, "Who may do what").

- Staff are known by their Slack user id (`Staff.chat_user_id`); anyone else is told to ask an
  administrator and nothing is done.
- A worker logs visits, records and notes only for children of their own team.
- Only managers of the child's team (team manager, practice manager, head of service), or a
  practice manager / head of service with no team (they cover every team), acknowledge and decide
  its prompts; a rule owned by the CP chair is for a CP chair.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.rules.model import DECIDERS, MANAGERS, SENIOR_MANAGERS
from scheduler.rules.policy import Rule
from storage.models import Child, Staff

UNKNOWN_STAFF = (
    "Seen does not know your Slack account yet, so it cannot act on this. "
    "Ask an administrator to add you (your Slack user id) to Seen."
)
UNKNOWN_TEAMS_STAFF = (
    "Seen does not know your Microsoft Teams account yet, so it cannot act on this. "
    "Ask an administrator to add you (your Entra object id) to Seen."
)
TEAM_MANAGERS = MANAGERS
SENIOR = SENIOR_MANAGERS
MANAGER_ROLES = DECIDERS


class Refused(Exception):
    """The person may not do this; the message says why, for an ephemeral reply."""


def staff_for(session: Session, chat_user_id: str | None, unknown: str = UNKNOWN_STAFF) -> Staff:
    """The active staff member with this chat user id (a Slack user id, or on Teams the Entra
    object id), or `Refused` with `unknown` (UNKNOWN_STAFF on Slack)."""
    staff = None
    if chat_user_id:
        staff = session.scalar(select(Staff).where(Staff.chat_user_id == chat_user_id))
    if staff is None or not staff.active:
        raise Refused(unknown)
    return staff


def child_for(session: Session, case_ref: str | None) -> Child:
    if not isinstance(case_ref, str) or not case_ref:
        raise Refused("which child? No case reference was given: check it with `/seen due` or `/seen team`")
    child = session.scalar(select(Child).where(Child.case_ref == case_ref))
    if child is None:
        raise Refused(f"unknown case reference {case_ref}: check it with `/seen due` or `/seen team`")
    return child


def in_team(staff: Staff, child: Child) -> bool:
    return staff.team_id is not None and staff.team_id == child.team_id


def can_see(staff: Staff, child: Child) -> bool:
    """Reading a child's deadlines: their team, and senior managers and chairs without a team."""
    return in_team(staff, child) or (staff.team_id is None and staff.role in MANAGER_ROLES)


def check_can_see(staff: Staff, child: Child) -> None:
    if not can_see(staff, child):
        raise Refused(f"{child.case_ref} is not a child of your team, so Seen cannot show it to you.")


def check_can_log(staff: Staff, child: Child) -> None:
    if staff.role == "admin" or not in_team(staff, child):
        raise Refused(
            f"You can log visits and notes only for children of your own team; {child.case_ref} is "
            "not one of them. Ask the child's team to record it."
        )


def can_decide(staff: Staff, child: Child, owner: str) -> bool:
    """May `staff` acknowledge or decide a prompt for `child` owned by the role `owner`?"""
    if owner == "cp_chair":
        return staff.role == "cp_chair" and (staff.team_id is None or in_team(staff, child))
    if staff.role not in TEAM_MANAGERS:
        return False
    return in_team(staff, child) or (staff.team_id is None and staff.role in SENIOR)


def check_can_decide(staff: Staff, child: Child, owner: str) -> None:
    if not can_decide(staff, child, owner):
        who = "a CP chair" if owner == "cp_chair" else "a manager of the child's team"
        raise Refused(f"Only {who} can acknowledge or decide this prompt for {child.case_ref}.")


def check_is_decider(staff: Staff, child: Child, rule: Rule | None) -> None:
    """RULES.md R1, "the deciders are policy data, not code": a decision under a rule that names
    its deciders is taken only from one of them (the engine would keep anyone else's and let it
    meet nothing). Checked after `check_can_decide`, which says whose prompt it is."""
    if rule is None or not rule.deciders or engine_role(staff, child) in rule.deciders:
        return
    roles = " or ".join(role.replace("_", " ") for role in rule.deciders)
    raise Refused(
        f"Under {rule.id} the decision is recorded by the {roles} (the council's policy), "
        f"so Seen cannot take it from you for {child.case_ref}."
    )


def engine_role(staff: Staff, child: Child) -> str:
    """The engine's `by` for something this person did about this child."""
    if staff.role in MANAGER_ROLES:
        return staff.role
    if child.lead_social_worker_id == staff.id:
        return "lead_social_worker"
    return "duty_social_worker"
