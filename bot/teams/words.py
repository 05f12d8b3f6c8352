"""Seen's words as Teams shows them. Slack's commands are `/seen due`, `/seen child C-1042`; on
Teams the same commands are typed without `/seen` (`due`, `child C-1042`) in the 1:1 chat with
Seen or after an @mention of Seen in a channel. The chat-neutral core and the outbox write the
Slack form; every Teams text (answers, refusals, reminders, prompts, due lists) goes through
`on_teams`: the outbox's messages in bot.teams.messenger, everything the app answers in
bot.teams.app (`card_activity`, its plain answers) and bot.teams.cards (a dialog's closing words)."""

from __future__ import annotations

from dataclasses import replace

from bot.core.model import Message

SLACK_COMMAND = "/seen "


def on_teams(text: str) -> str:
    """`/seen child C-1042` -> `child C-1042`: a command hint as it is typed on Teams."""
    return text.replace(SLACK_COMMAND, "")


def message_on_teams(message: Message) -> Message:
    """Every text of a message (`on_teams`), its buttons as they are."""
    return replace(
        message,
        fallback=on_teams(message.fallback),
        header=on_teams(message.header) if message.header is not None else None,
        sections=tuple(on_teams(s) for s in message.sections),
        context=on_teams(message.context) if message.context is not None else None,
    )
