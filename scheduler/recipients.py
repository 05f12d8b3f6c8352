"""Who a role is for one child: the lead social worker, the team's managers, the CP chairs, and
the out-of-hours channel its team's policy names for urgent prompts ([out_of_hours]).

A role nobody holds goes to the team's channel, so a message is never silently dropped; with no
channel either, the row is written without a recipient and delivery parks it, visibly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.policies import load_policy
from scheduler.rules.hours import WorkingHours
from scheduler.rules.model import MANAGERS, WORKERS, Obligation
from scheduler.stages import OUT_OF_HOURS
from storage.models import Staff, Team


@dataclass(frozen=True, slots=True)
class Recipient:
    staff_id: int | None
    channel: str | None
    role: str

    @property
    def key(self) -> str:
        return f"s{self.staff_id}" if self.staff_id is not None else f"c{self.channel or '-'}"

    @property
    def describe(self) -> str:
        who = f"staff {self.staff_id}" if self.staff_id is not None else f"channel {self.channel}"
        return f"{self.role.replace('_', ' ')} ({who})"


class Recipients:
    """Resolves roles for a batch of children with one query for staff and one for teams (plain
    rows: a large council has tens of thousands of staff, and every sweep that finds work
    resolves them)."""

    def __init__(self, session: Session) -> None:
        self.channels: dict[int, str | None] = {}
        self.hours: dict[int, WorkingHours] = {}  # of the teams whose policy names an out-of-hours channel
        for team_id, channel, policy_id in session.execute(
            select(Team.id, Team.slack_channel_id, Team.policy_id)
        ):
            self.channels[team_id] = channel
            hours = load_policy(policy_id).working_hours
            if hours.out_of_hours_channel is not None:
                self.hours[team_id] = hours
        self.by_team_role: dict[tuple[int | None, str], list[int]] = defaultdict(list)
        for staff_id, team_id, role in session.execute(
            select(Staff.id, Staff.team_id, Staff.role).where(Staff.active.is_(True)).order_by(Staff.id)
        ):
            self.by_team_role[(team_id, role)].append(staff_id)
        self._known: dict[tuple[int, int | None, str], list[Recipient]] = {}

    def role(self, child: Any, role: str) -> list[Recipient]:
        """Who holds `role` for `child` (a row with team_id, lead_social_worker_id); the list is
        shared by every child of the same team and lead social worker: not to be changed."""
        key = (child.team_id, child.lead_social_worker_id, role)
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._resolve(child.team_id, child.lead_social_worker_id, role)
        return known

    def _resolve(self, team_id: int, lead_social_worker_id: int | None, role: str) -> list[Recipient]:
        if role == OUT_OF_HOURS:
            hours = self.hours.get(team_id)
            return [Recipient(None, hours.out_of_hours_channel, role)] if hours else []
        if role in WORKERS:
            if lead_social_worker_id is not None:
                return [Recipient(lead_social_worker_id, None, role)]
        else:
            ids = self.by_team_role.get((team_id, role)) or self.by_team_role.get((None, role))
            if ids:
                return [Recipient(i, None, role) for i in ids]
        return [Recipient(None, self.channels.get(team_id), role)]

    def for_obligation(self, child: Any, ob: Obligation, role: str) -> list[Recipient]:
        """Who `role` is for `child`'s obligation `ob` when a stage is sent to it: the holders of
        its owner's role and of the managers' roles; the out-of-hours channel only for a rule its
        team's policy marks urgent; nobody for any other role."""
        if role == ob.owner or role in MANAGERS:
            return self.role(child, role)
        if role == OUT_OF_HOURS:
            hours = self.hours.get(child.team_id)
            if hours is not None and hours.urgent_out_of_hours(ob.rule):
                return self.role(child, role)
        return []
