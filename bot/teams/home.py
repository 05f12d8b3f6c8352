"""Home on Teams: what Slack's App Home shows (bot.core.home), as a card answering `home` in the
1:1 chat with Seen: each heading with its count, then its lines, overdue first. A card holds about
28 KB, so at most HOME_LINES lines are shown; the rest are counted, pointing to `team` / `due`."""

from __future__ import annotations

from bot.core.home import HomeContent
from bot.core.model import Message
from bot.teams.text import plain
from bot.teams.words import on_teams

HOME_LINES = 60


def home_message(home: HomeContent) -> Message:
    sections: list[str] = []
    room = HOME_LINES
    for heading, lines in home.sections:
        sections.append(f"{heading} ({len(lines)})" + ("" if lines else ": nothing here."))
        sections += [f"• {plain(line)}" for line in lines[:room]]
        room -= min(len(lines), room)
    left = sum(len(lines) for _, lines in home.sections) - (HOME_LINES - room)
    if left:
        sections.append(f"… and {left} more not shown here: {plain(on_teams(home.rest))}")
    return Message(
        fallback=home.title,
        header=home.title,
        sections=tuple(sections),
        context=plain(on_teams(home.footer)),
    )
