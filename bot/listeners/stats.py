"""`/seen stats [team]` on Slack: a team's timeliness this month, its four headline numbers and its
chart, as in the weekly post (scheduler.weekly_report).

Acknowledged at once, answered after (lazy listener), as every `/seen` command. The numbers come
back where the command was typed (ephemeral, as every answer); the numbers with the chart go to the
asker's direct messages with Seen, because a file cannot be shown to one person only in a channel,
and a team's figures are for its staff. Who may ask, and which teams, is `bot.core.commands`'.
This listener is registered before `bot.listeners.commands`' `/seen` and takes only `stats`.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.core.access import Refused
from bot.core.commands import stats_answer
from bot.core.context import Core
from bot.core.parse import ParseError, Stats, parse
from bot.slack.errors import say
from bot.slack.messenger import SlackMessenger
from scheduler.messenger import DeliveryError, OutgoingMessage, with_image

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
        if not isinstance(cmd, Stats):  # not for this listener (is_stats): nothing to do
            return
        try:
            answer = stats_answer(self, user, cmd, via="slack", action="/seen stats")
        except Refused as exc:
            say(respond, f":warning: {exc}")
            return
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
