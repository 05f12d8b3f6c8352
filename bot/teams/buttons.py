"""A reminder's and a prompt's buttons on Teams: `Action.Execute` (Universal Actions), answered by
the bot with the card that replaces the clicked one. Acknowledge and Snooze do what they do on
Slack, through the same core (`bot.core.buttons`): the person is known by their Entra object id,
checked as on Slack, the fact stored once and audited, and the card updated in place showing who
(their role) and when, keeping the buttons Slack keeps ("Record decision"; "Log visit" and "Open
record"). A refusal is answered and audited as on Slack. The buttons that open a form (Log visit,
Open record, Record decision) open a dialog and are not answered here."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from bot.core import access, buttons
from bot.core.access import Refused
from bot.core.context import Core
from bot.core.model import Message
from bot.teams.messenger import TeamsMessenger, outgoing_message, split_ref
from bot.teams.text import plain
from scheduler.messenger import DeliveryError, OutgoingMessage
from storage.facts import FactError
from storage.models import Outbox, Staff

log = logging.getLogger("seen.teams")
NOT_YET = "This button opens a form; on Teams, type `child {ref}` to see the child's deadlines."
PRESSED = {buttons.ACKNOWLEDGE: (buttons.acknowledge, "✅"), buttons.SNOOZE: (buttons.snooze, "💤")}


def card(value: dict[str, Any], text: str, note: str, keep: list[str]) -> Message:
    """A prompt's or reminder's card once its button did its work: its words, the note, the kept buttons."""
    payload = {
        "actions": keep,
        "obligation": value.get("o"),
        "child": value.get("c"),
        "rule": value.get("r"),
        "owner": value.get("w"),
    }
    return outgoing_message(
        OutgoingMessage(key=str(value.get("k") or ""), text=f"{text}\n{note}", payload=payload)
    )


def role_of(staff: Staff) -> str:
    """How a card names the person who pressed its button: their role, never their name."""
    return f"the {staff.role.replace('_', ' ')}"


class TeamsButtons(Core):
    platform = "teams"
    app: Any = None  # the SDK app (`updates_through`): the other copies of a prompt are updated through it
    _messenger: TeamsMessenger | None = None

    def updates_through(self, app: Any) -> None:
        self.app = app

    def _update_copies(self, value: dict[str, Any], note: str, keep: list[str]) -> None:
        """As on Slack, an acknowledgement shows on every delivered copy of the prompt (the other
        managers' too), each card replaced in place (`PUT …/activities/{id}`); a copy that cannot
        be updated stays as it was, logged."""
        if self.app is None or not isinstance(value.get("o"), str) or not value["o"]:
            return
        with self.factory() as s:
            clicked = str(value.get("k") or "")  # replaced by Teams with the card the click answers
            found = buttons.prompt_copies(s, value["o"], but=clicked)
            copies = [(ref, text) for ref, text in found if split_ref(ref)]
        if not copies:
            return
        if self._messenger is None:
            self._messenger = TeamsMessenger.for_app(self.app, self.factory)
        for ref, text in copies:
            try:
                self._messenger.update(ref, card(value, text, note, keep))
            except DeliveryError as exc:
                log.warning("could not update a copy of a prompt: %s", exc)

    def clicked(self, aad_object_id: str | None, verb: str, value: dict[str, Any]) -> Message | str:
        """The card that replaces the clicked one, or words saying why nothing was done."""
        if verb not in PRESSED:
            return plain(NOT_YET.format(ref=value.get("c") or "C-…"))
        press, icon = PRESSED[verb]
        try:
            with self.writing() as s:
                done = press(s, aad_object_id, value, self.clock(), role_of, access.UNKNOWN_TEAMS_STAFF)
                row = s.scalar(select(Outbox).where(Outbox.key == str(value.get("k") or "")))
                text = row.text if row is not None and row.child_id == done.child.id else done.child.case_ref
        except (Refused, FactError) as exc:
            self.refused(aad_object_id, verb, str(exc), value.get("c"))
            return plain(f"⛔ {exc}")  # a message response shows as written: no Markdown
        note = f"{icon} {done.note}"
        if verb == buttons.ACKNOWLEDGE:
            self._update_copies(value, note, done.keep)
        return card(value, text, note, done.keep)
