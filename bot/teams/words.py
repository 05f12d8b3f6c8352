"""Seen's words as Teams shows them. Slack's commands are `/seen due`, `/seen child C-1042`; on
Teams the same commands are typed without `/seen` (`due`, `child C-1042`) in the 1:1 chat with
Seen or after an @mention of Seen in a channel. The chat-neutral core and the outbox write the
Slack form; every Teams text (answers, refusals, reminders, prompts, due lists) goes through
`on_teams`."""

from __future__ import annotations

SLACK_COMMAND = "/seen "


def on_teams(text: str) -> str:
    """`/seen child C-1042` -> `child C-1042`: a command hint as it is typed on Teams."""
    return text.replace(SLACK_COMMAND, "")
