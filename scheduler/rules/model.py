"""The facts the engine reads and the obligations it derives (DESIGN.md: facts in, obligations out).

Plain frozen dataclasses, and named tuples for the facts and obligations a sweep makes millions
and tens of thousands of (as immutable, built in a third of the time, and from a database row in
one call): no I/O, no validation beyond types. A named tuple is changed with `_replace`.
`casefile.py` builds them from the JSON case-file contract; `storage` builds them from the
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple, get_args

Role = Literal[
    "lead_social_worker",
    "duty_social_worker",
    "team_manager",
    "practice_manager",
    "head_of_service",
    "cp_chair",
    "core_group",
]
ROLES: tuple[str, ...] = get_args(Role)
# The role groups every part of Seen uses (the bot's access checks, the stages, the import, the
# recipients, the engine); the policy files name roles from ROLES.
LEAD_SOCIAL_WORKER = "lead_social_worker"
TEAM_MANAGER = "team_manager"
PRACTICE_MANAGER = "practice_manager"
CP_CHAIR = "cp_chair"
WORKERS: frozenset[str] = frozenset({LEAD_SOCIAL_WORKER, "duty_social_worker"})
SENIOR_MANAGERS: frozenset[str] = frozenset({PRACTICE_MANAGER, "head_of_service"})
MANAGERS: frozenset[str] = frozenset({TEAM_MANAGER}) | SENIOR_MANAGERS  # decide a team's prompts
DECIDERS: frozenset[str] = MANAGERS | {CP_CHAIR}  # every role that may be sent a prompt to decide
CONTACT_KINDS: tuple[str, ...] = ("home_visit", "school_visit", "office", "other")
SEEN_ALONE: tuple[str, ...] = ("yes", "no", "not_applicable")
Status = Literal["due", "overdue"]


@dataclass(frozen=True, slots=True)
class Child:
    ref: str
    date_of_birth: date | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    started: date
    plan_number: int = 1
    visit_interval_working_days: int | None = None
    review_conferences: tuple[date, ...] = ()
    core_group_meetings: tuple[date, ...] = ()
    cp_chair_agreed_interval_on: date | None = None
    exploitation_concerns: bool = False
    ended: date | None = None


class Contact(NamedTuple):
    """A visit or other contact with the child, with what its record says (RULES.md "Visit record")."""

    at: datetime
    kind: str = "home_visit"
    by: str = "lead_social_worker"
    qualified: bool = True
    child_seen: bool = True
    seen_alone: str | None = None
    seen_alone_reason: str | None = None
    bedroom_seen: bool | None = None
    child_awake: bool | None = None
    recorded_at: datetime | None = None
    no_one_home: bool = False
    note_left: bool | None = None
    note_not_left_reason: str | None = None
    risk_worsened: bool = False
    new_injury: bool = False
    alone_concerns: bool = False


class AgencySighting(NamedTuple):
    at: datetime
    agency: str


class Decision(NamedTuple):
    """A recorded decision (or record of action) by a manager, chair or worker under a rule."""

    at: datetime
    rule: str
    by: str
    outcome: str
    within_working_days: int | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """Everything the engine needs about one child. Tuples are kept in time order."""

    child: Child
    plan: Plan
    contacts: tuple[Contact, ...] = ()
    agency_sightings: tuple[AgencySighting, ...] = ()
    decisions: tuple[Decision, ...] = ()


class Obligation(NamedTuple):
    """One open obligation: what is owed, by whom, by when, and which fact started its clock."""

    rule: str
    due: date | datetime
    status: Status
    owner: str
    summary: str
    basis: str
    key: str = ""

    @property
    def is_instant(self) -> bool:
        return isinstance(self.due, datetime)

    def as_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "due": self.due.isoformat(),
            "status": self.status,
            "owner": self.owner,
            "summary": self.summary,
        }
