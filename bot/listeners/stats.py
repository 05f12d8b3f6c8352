"""`/seen stats [team]` on Slack: a team's timeliness this month, its four headline numbers and its
chart, as in the weekly post (scheduler.weekly_report).

Acknowledged at once, answered after (lazy listener), as every `/seen` command. The numbers come
back where the command was typed (ephemeral, as every answer); the numbers with the chart go to the
asker's direct messages with Seen, because a file cannot be shown to one person only in a channel,
and a team's figures are for its staff. Who may ask, and which teams, is `bot.core.commands.stats_teams`'s.
This listener is registered before `bot.listeners.commands`' `/seen` and takes only `stats`.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.core import access
from bot.core.access import Refused
from bot.core.commands import stats_teams
from bot.core.context import Core
from bot.core.parse import ParseError, Stats, parse
from bot.slack.errors import say
from bot.slack.messenger import SlackMessenger
from scheduler.messenger import DeliveryError, OutgoingMessage, with_image
from scheduler.weekly_report import stats_post
from storage.models import Team

CHART_SENT = "_The chart, with these numbers, is in your direct messages with Seen._"
CHART_NOT_SENT = ":warning: The chart could not be sent to your direct messages ({why}): try again later."


def is_stats(body: dict[str, Any]) -> bool:
    """A `/seen stats …` command (the words the other commands are parsed from)."""
    try:
        return isinstance(parse(str(body.get("text") or "")), Stats)
    except ParseError:
        return False


class StatsCommand(Core):
    """`/seen stats [team]`."""

    def ack_stats(self, ack: Any) -> None:
        ack()

    def run_stats(self, command: dict[str, Any], respond: Any, client: Any) -> None:
        user = command.get("user_id")
        cmd = parse(command.get("text") or "")
        assert isinstance(cmd, Stats)
        now = self.clock()
        try:
            with self.writing() as s:
                teams = stats_teams(s, access.staff_for(s, user), cmd, now, via="slack")
        except Refused as exc:
            self.refused(user, "/seen stats", str(exc))
            say(respond, f":warning: {exc}")
            return
        with self.factory() as s:  # counted outside the write transaction: it takes a moment
            answer = stats_post(s, [s.get_one(Team, i) for i in teams], now)
        message = OutgoingMessage(
            key=f"stats:{command.get('trigger_id')}",
            text=answer.text,
            to_user=user,
            payload=with_image({}, answer.image),
        )
        try:
            SlackMessenger(client).send(message)
        except DeliveryError as exc:
            say(respond, f"{answer.text}\n{CHART_NOT_SENT.format(why=exc)}")
            return
        say(respond, f"{answer.text}\n{CHART_SENT}")


def register(app: App, bot: StatsCommand) -> None:
    app.command("/seen", matchers=[is_stats])(ack=bot.ack_stats, lazy=[bot.run_stats])
