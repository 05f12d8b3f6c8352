"""A prompt's messages on Teams once its decision is recorded in the decision dialog: each one Seen
delivered for the obligation (at any stage, to the manager and elsewhere) is replaced in place
(`PUT …/activities/{id}`, bot.teams.messenger's `update`), as Slack's chat.update after a decision:
the prompt's words and a line saying who recorded what and when (bot.core.decision_form's
wording), without buttons."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import caseview
from bot.core.decision_form import DecisionRecording
from bot.core.model import Message
from bot.teams.messenger import outgoing_message
from scheduler.messages import when
from scheduler.messenger import OutgoingMessage
from storage.models import Child, Decision, Outbox, Staff


class PromptCards(DecisionRecording):
    platform = "teams"

    def decided_cards(self, key: str, obligation: object) -> list[tuple[str, Message]]:
        """(message reference, the card that replaces it) for each delivered message of the prompt
        of `obligation` (its outbox key) whose decision was stored under `key`; none when nothing
        was stored (the dialog was refused or had errors)."""
        if not isinstance(obligation, str) or not obligation:
            return []
        with self.factory() as s:
            row = s.scalar(select(Decision).where(Decision.source_key == key))
            child = s.get(Child, row.child_id) if row is not None else None
            if row is None or child is None:
                return []
            staff = s.get(Staff, row.by_staff_id) if row.by_staff_id is not None else None
            who = "the " + (staff.role if staff is not None else row.by_role).replace("_", " ")
            note = self.decision_recorded(who, when(caseview.policy_of(s, child), row.created_at), row)
            messages = s.execute(
                select(Outbox.key, Outbox.message_ref, Outbox.text).where(
                    Outbox.key.startswith(obligation + ":", autoescape=True),
                    Outbox.child_id == child.id,
                    Outbox.message_ref.is_not(None),
                )
            ).all()
        return [
            (ref, outgoing_message(OutgoingMessage(key=k, text=f"{text}\n📝 {note}")))
            for k, ref, text in messages
        ]
