"""A prompt's buttons on Teams: `Action.Execute` (Universal Actions), answered by the bot with the
card that replaces the clicked one. Acknowledge is checked as on Slack (the person is known by
their Entra object id, and may decide for the prompt's owner), stored once and audited
(`storage.facts`), and the card updated in place to show who acknowledged and when, keeping
"Record decision"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import Core
from bot.core.model import Message
from bot.teams.messenger import outgoing_message
from scheduler.messages import when
from scheduler.messenger import OutgoingMessage
from storage import facts
from storage.facts import FactError
from storage.models import Outbox

NOT_YET = "This button works on Slack today; on Teams, type `child {ref}` to see the child's deadlines."


class TeamsButtons(Core):
    platform = "teams"

    def clicked(self, aad_object_id: str | None, verb: str, value: dict[str, Any]) -> Message | str:
        """The card that replaces the clicked one, or words saying why nothing was done."""
        if verb != "seen_ack":
            return NOT_YET.format(ref=value.get("c") or "C-…")
        now = self.clock()
        try:
            with self.writing() as s:
                staff = access.staff_for(s, aad_object_id, access.UNKNOWN_TEAMS_STAFF)
                child = access.child_for(s, value.get("c") or "")
                access.check_can_decide(staff, child, value.get("w") or "team_manager")
                if not isinstance(value.get("o"), str) or not value["o"]:
                    raise Refused("This message has nothing to acknowledge.")
                ack = facts.acknowledge(s, child, staff, value["o"], at=now, now=now)
                policy = caseview.policy_of(s, child)
                row = s.scalar(select(Outbox).where(Outbox.key == str(value.get("k") or "")))
                text = row.text if row is not None and row.child_id == child.id else child.case_ref
                who = staff.role.replace("_", " ")
                note = (
                    f"✅ Acknowledged by the {who} at {when(policy, ack.at)}. "
                    "The rule is met by the recorded decision."
                )
                payload = {
                    "actions": ["Record decision"],
                    "obligation": value["o"],
                    "child": child.case_ref,
                    "rule": value.get("r"),
                    "owner": value.get("w"),
                }
        except (Refused, FactError) as exc:
            self.refused(aad_object_id, verb, str(exc), value.get("c"))
            return f"⛔ {exc}"
        return outgoing_message(
            OutgoingMessage(key=str(value.get("k") or ""), text=f"{text}\n{note}", payload=payload)
        )
