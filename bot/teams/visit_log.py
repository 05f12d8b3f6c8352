"""A typed `log C-1042 not-seen …` on Teams (the 1:1 chat, or an @mention in a channel): stored,
kept once and answered by the same chat-neutral code as Slack's `/seen log`
(bot.core.visit_log), the person known by their Entra object id. A typed message cannot open a
dialog on Teams, so the answer is a card whose "Open record" button opens the Record of a Child
Protection Visit for the visit just logged (bot.teams.dialogs)."""

from __future__ import annotations

from bot.core import access
from bot.core.access import Refused
from bot.core.model import Action, Message
from bot.core.parse import Log, ParseError
from bot.core.visit_log import VisitLogging
from bot.teams.dialogs import OPEN_RECORD
from storage.facts import FactError


class TeamsVisitLog(VisitLogging):
    platform = "teams"

    def log_reply(self, aad_object_id: str | None, cmd: Log, activity_id: str) -> Message | str:
        """The visit logged and a card to complete its record, or why nothing was stored.
        `activity_id` keys the contact, so the Bot Connector's retry of the message stores it once."""
        now = self.clock()
        try:
            with self.writing() as s:
                staff = access.staff_for(s, aad_object_id, access.UNKNOWN_TEAMS_STAFF)
                logged = self.log_visit(s, staff, cmd, now, source_key=f"teams:log:{activity_id}")
        except (Refused, ParseError, FactError) as exc:
            self.refused(aad_object_id, "log", str(exc), cmd.case_ref)
            return f"⚠️ {exc}"
        text = logged.words(form_open=False)  # rendered for Teams by bot.teams.text
        button = Action(
            OPEN_RECORD, "Open record", kind="open_form", value={"c": logged.case_ref}, primary=True
        )
        return Message(fallback=text, sections=(text,), actions=(button,))
