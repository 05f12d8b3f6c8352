"""Typed commands on Teams: in the 1:1 chat with Seen, or as an @mention of Seen in a channel
(`due`, `team`, `child C-1042`, `note C-1042 …`, `home`, `stats [team]`, `help`, and `log C-1042 …`
through bot.teams.visit_log), answered by the
same chat-neutral core as Slack's `/seen` (bot.core.commands); `home` with the same content as
Slack's App Home (bot.core.home) as a card, `stats` with the weekly post's card, the chart inline
(bot.teams.stats). Staff are matched by their Entra object id (which
`Staff.chat_user_id` holds on a Teams deployment); anyone else is refused, as on Slack, and every
answer and refusal is audited. Answers are rendered for Teams (bot.teams.text)."""

from __future__ import annotations

from microsoft_teams.api import MessageActivityInput

from bot.core import access
from bot.core.access import Refused
from bot.core.commands import answer, stats_answer
from bot.core.home import home_content
from bot.core.parse import HELP, Child, Due, Help, Log, Note, ParseError, Stats, Team, parse
from bot.teams import text
from bot.teams.home import home_message
from bot.teams.stats import stats_activity
from bot.teams.visit_log import TeamsVisitLog
from storage.audit import write_audit
from storage.facts import FactError

NOT_YET = (
    "`{word}` opens a form, which Seen shows on Teams from a reminder's buttons; "
    "on Teams type `due`, `team`, `child C-1042`, `note C-1042 …`, `home` or `help`."
)
HOME_HELP = "• `home`: your children by deadline as a card (a manager: the team's, overdue first)\n"
HOME_WORDS = frozenset({"home"})


class TeamsCommands(TeamsVisitLog):
    platform = "teams"

    def reply(self, aad_object_id: str | None, typed: str, activity_id: str) -> list[MessageActivityInput]:
        """The answer to a typed command, as messages in order; `activity_id` keys a note, so the
        Bot Connector's retry of the same message stores it once."""
        return [
            part if isinstance(part, MessageActivityInput) else text.answer(part)
            for part in self._reply(aad_object_id, typed, activity_id)
        ]

    def _reply(
        self, aad_object_id: str | None, typed: str, activity_id: str
    ) -> list[str | MessageActivityInput]:
        if typed.strip().lower() in HOME_WORDS:
            return [self._home(aad_object_id)]
        try:
            cmd = parse(typed.strip())
        except ParseError as exc:
            return [f"⚠️ {exc}"]
        if isinstance(cmd, Help):
            return [HELP.replace("• `/seen help`", HOME_HELP + "• `/seen help`", 1)]
        if isinstance(cmd, Stats):
            unknown = access.UNKNOWN_TEAMS_STAFF
            try:
                post = stats_answer(self, aad_object_id, cmd, via="teams", action="stats", unknown=unknown)
            except Refused as exc:
                return [f"⚠️ {exc}"]
            return [stats_activity(post.text, post.image)]
        if isinstance(cmd, Log):
            logged = self.log_reply(aad_object_id, cmd, activity_id)
            return [logged if isinstance(logged, str) else text.card_activity(logged)]
        if not isinstance(cmd, Due | Team | Child | Note):
            return [NOT_YET.format(word=type(cmd).__name__.lower())]
        try:
            with self.writing() as s:
                staff = access.staff_for(s, aad_object_id, access.UNKNOWN_TEAMS_STAFF)
                out = answer(s, staff, cmd, self.clock(), via="teams", note_key=f"teams:note:{activity_id}")
        except (Refused, FactError) as exc:
            self.refused(aad_object_id, type(cmd).__name__.lower(), str(exc), getattr(cmd, "case_ref", None))
            return [f"⚠️ {exc}"]
        return [out] if isinstance(out, str) else list(out)

    def _home(self, aad_object_id: str | None) -> str | MessageActivityInput:
        """Home as a card (as Slack's App Home shows it), audited as on Slack."""
        now = self.clock()
        try:
            with self.writing() as s:
                staff = access.staff_for(s, aad_object_id, access.UNKNOWN_TEAMS_STAFF)
                write_audit(s, "home.viewed", actor=staff.id, at=now, detail={"via": "teams"})
                home = home_content(s, staff, now)
        except Refused as exc:
            self.refused(aad_object_id, "home", str(exc))
            return f"⚠️ {exc}"
        return text.card_activity(home_message(home))
