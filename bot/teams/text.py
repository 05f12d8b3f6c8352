"""Seen's words as Teams shows them: every answer and card Seen sends on Teams is made here.

The core writes its answers as Slack-flavoured text (`*bold*`, `` `code` ``, one line per item).
Teams reads a text message as Markdown of its own dialect by default (`*bold*` shows in italics,
an `_` inside a word may start italics, line breaks may be merged), so `answer` sends the text in
Teams' `xml` text format instead: escaped, `*bold*` as <b>, `code` as <code>, each line break
as <br>. Cards carry plain text (`plain`): the card renderer escapes everything it is given.
"""

from __future__ import annotations

import re
from html import escape

from microsoft_teams.api import MessageActivityInput
from microsoft_teams.cards import AdaptiveCard

from bot.core.model import Message
from bot.teams.cards import message_card
from bot.teams.words import message_on_teams, on_teams

EMPHASIS = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])|`([^`\n]+)`")


def plain(text: str) -> str:
    """Slack-flavoured text (`*bold*`, `code`) as plain text."""
    return EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)


def xml(text: str) -> str:
    """Slack-flavoured text as Teams' XML text format: `*bold*` -> <b>, `code` -> <code>, line
    breaks -> <br>, and everything else escaped, so it shows as written."""
    out: list[str] = []
    at = 0
    for m in EMPHASIS.finditer(text):
        out.append(escape(text[at : m.start()], quote=False))
        if m.group(1) is not None:
            out.append(f"<b>{escape(m.group(1), quote=False)}</b>")
        else:
            out.append(f"<code>{escape(m.group(2), quote=False)}</code>")
        at = m.end()
    out.append(escape(text[at:], quote=False))
    return "".join(out).replace("\r\n", "\n").replace("\n", "<br>")


def answer(text: str) -> MessageActivityInput:
    """A text answer (a command's, a refusal, a kept note), rendered as Teams shows it, its
    command hints as they are typed on Teams."""
    return MessageActivityInput(text=xml(on_teams(text)), text_format="xml")


def card_activity(message: Message) -> MessageActivityInput:
    """A message as an Adaptive Card, with its fallback as the notification's text."""
    message = message_on_teams(message)
    return MessageActivityInput(text=message.fallback).add_card(
        AdaptiveCard.model_validate(message_card(message))
    )
