"""Typed commands on Teams: in the 1:1 chat with Seen, or as an @mention of Seen in a channel
(`due`, `team`, `child C-1042`, `note C-1042 …`, `help`, and `log C-1042 …` through
bot.teams.visit_log), answered by the same chat-neutral core as Slack's `/seen` (bot.core.commands,
bot.core.visit_log). Staff are matched by their Entra object id (which `Staff.chat_user_id` holds
on a Teams deployment); anyone else is refused, as on Slack, and every answer and refusal is
audited."""

from __future__ import annotations

from bot.core import access
from bot.core.access import Refused
from bot.core.commands import answer
from bot.core.model import Message
from bot.core.parse import HELP, Child, Due, Help, Log, Note, ParseError, Team, parse
from bot.teams.visit_log import TeamsVisitLog
from bot.teams.words import on_teams
from storage.facts import FactError

NOT_YET = (
    "`{word}` opens a form, which Seen shows on Teams from a reminder's buttons; "
    "on Teams type `due`, `team`, `child C-1042`, `note C-1042 …` or `help`."
)


class TeamsCommands(TeamsVisitLog):
    platform = "teams"

    def reply(self, aad_object_id: str | None, text: str, activity_id: str) -> list[str | Message]:
        """The answer to a typed command, as messages in order; `activity_id` keys a note, so the
        Bot Connector's retry of the same message stores it once."""
        try:
            cmd = parse(text.strip())
        except ParseError as exc:
            return [on_teams(f"⚠️ {exc}")]
        if isinstance(cmd, Help):
            return [on_teams(HELP)]
        if isinstance(cmd, Log):
            return [self.log_reply(aad_object_id, cmd, activity_id)]
        if not isinstance(cmd, Due | Team | Child | Note):
            return [on_teams(NOT_YET.format(word=type(cmd).__name__.lower()))]
        try:
            with self.writing() as s:
                staff = access.staff_for(s, aad_object_id, access.UNKNOWN_TEAMS_STAFF)
                out = answer(s, staff, cmd, self.clock(), via="teams", note_key=f"teams:note:{activity_id}")
        except (Refused, FactError) as exc:
            self.refused(aad_object_id, type(cmd).__name__.lower(), str(exc), getattr(cmd, "case_ref", None))
            return [on_teams(f"⚠️ {exc}")]
        return [on_teams(part) for part in ([out] if isinstance(out, str) else out)]
