"""Block Kit: the messages with buttons, the visit record and decision modals (the chat-neutral
forms of bot.core.visit_form and bot.core.decision_form, rendered by bot.slack.blockkit), and App Home.

Pure builders (data in, JSON-able dicts out). Children appear by case reference and initials
only; button values carry keys and case references, never names or note text.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from bot.core.decision_form import DECISION_FORM, DECISION_TEXT, decision_form
from bot.core.visit_form import (
    CONTACT_KIND_TEXT,
    OUTCOME_TEXT,
    SIBLINGS_ACTION,
    VISIT_FORM,
    ChildRow,
    VisitForm,
    visit_form,
)
from bot.slack import blockkit

# Buttons of the outbox payload's "actions" -> action ids.
ACTION_IDS = {
    "Acknowledge": "seen_ack",
    "Record decision": "seen_decide",
    "Log visit": "seen_log_visit",
    "Open record": "seen_open_record",
    "Snooze until tomorrow": "seen_snooze",
}
RESPONSE_URL_POSTS = 5  # answers Slack takes on one response_url
SECTION_CHARS = 3_000  # text of a section block
VIEW_BLOCKS = 100  # blocks of a modal or Home tab
VISIT_CALLBACK = VISIT_FORM
DECISION_CALLBACK = DECISION_FORM
__all__ = [
    "CONTACT_KIND_TEXT",
    "DECISION_TEXT",
    "OUTCOME_TEXT",
    "SIBLINGS_ACTION",
    "ChildRow",
    "VisitForm",
]


# A mention of a Slack user inside Seen's text, kept apart from the text's own characters until
# mrkdwn() writes it as Slack's <@U…>.
_MENTION = re.compile("\ue000([A-Z0-9]+)\ue001")
_SLACK_MENTION = re.compile(r"<@([A-Z0-9]+)>")


def mention(user: str) -> str:
    """A mention of the Slack user `user` in text that mrkdwn() will render."""
    return f"\ue000{user}\ue001"


def mrkdwn(text: str) -> str:
    """Text as Slack's mrkdwn: every `&`, `<` and `>` escaped, so none of Seen's words (a
    "<case reference>", an "A & B") reads as a link, a mention or an entity; mentions made with
    mention() become <@U…>. Every text Seen sends to Slack as mrkdwn passes through here once."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub(r"<@\1>", escaped)


def from_slack(text: str) -> str:
    """A message's text as Slack holds it, back as the text mrkdwn() made it from."""
    text = _SLACK_MENTION.sub(lambda m: mention(m.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": mrkdwn(text)}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75], "emoji": True}


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def _fit(text: str, limit: int = SECTION_CHARS) -> str:
    """mrkdwn text of at most `limit` characters: cut (ending "…", never inside an entity such as
    &amp;) only when a caller passed more than a block holds; callers split long text first."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", len(cut) - 5)
    return (cut[:amp] if amp != -1 and ";" not in cut[amp:] else cut) + "…"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _fit(mrkdwn(text))}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _fit(mrkdwn(text))}]}


def text_sections(text: str) -> list[dict[str, Any]]:
    """Text as section blocks of whole lines, each within a section's 3,000 characters."""
    return [section(chunk) for chunk in line_chunks(text.split("\n"), SECTION_CHARS)]


def line_chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into chunks whose mrkdwn is at most `limit` characters (a longer line alone)."""
    chunks: list[list[str]] = []
    size = limit + 1
    for line in lines:
        length = len(mrkdwn(line)) + 1
        if size + length > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += length
    return ["\n".join(chunk) for chunk in chunks]


# -- messages -----------------------------------------------------------------------------------
def button_value(payload: dict[str, Any], key: str) -> str:
    return json.dumps(
        {
            "k": key,
            "o": payload.get("obligation"),
            "c": payload.get("child"),
            "r": payload.get("rule"),
            "w": payload.get("owner"),
        },
        separators=(",", ":"),
    )


def buttons(actions: list[str], value: str) -> dict[str, Any] | None:
    elements = []
    for action in actions:
        action_id = ACTION_IDS.get(action)
        if action_id is None:
            continue
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": _plain(action),
            "value": value,
        }
        if action in ("Acknowledge", "Log visit"):
            button["style"] = "primary"
        elements.append(button)
    return {"type": "actions", "block_id": "seen_actions", "elements": elements} if elements else None


def message_blocks(text: str, payload: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A reminder or prompt: its words, and its buttons (from the outbox payload's actions)."""
    blocks = text_sections(text)
    actions = buttons(list(payload.get("actions") or []), button_value(payload, key))
    if actions is not None:
        blocks.append(context("Reply in this thread to keep a case note on this child."))
        blocks.append(actions)
    return blocks


def updated_blocks(text: str, note: str, keep: list[str], value: str) -> list[dict[str, Any]]:
    """A message after a click: the same words, who did what and when, the buttons left."""
    blocks = [*text_sections(text), context(note)]
    actions = buttons(keep, value)
    if actions is not None:
        blocks.append(actions)
    return blocks


# -- the forms ---------------------------------------------------------------------------------
def visit_modal(form: VisitForm) -> dict[str, Any]:
    """The Record of a Child Protection Visit (RULES.md "Visit record"), one outcome per child."""
    return blockkit.modal(visit_form(form))


def decision_modal(**kwargs: Any) -> dict[str, Any]:
    """The decision form (bot.core.decision_form.decision_form's arguments) as a modal."""
    return blockkit.modal(decision_form(**kwargs))


# -- App Home -----------------------------------------------------------------------------------
def home_view(
    title: str, sections: list[tuple[str, list[str]]], footer: str, rest: str = "`/seen due`"
) -> dict[str, Any]:
    """The Home tab: each heading with its count, its lines in sections of whole lines (overdue
    first, as the caller orders them). What does not fit in Slack's 100 blocks is counted in a
    last line pointing to `rest`."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(title)}]
    budget = VIEW_BLOCKS - 2  # the footer, and the line saying what did not fit
    left = 0
    for heading, lines in sections:
        if len(blocks) + 3 > budget:  # the heading, a first chunk, the divider
            left += len(lines)
            continue
        blocks.append(section(f"*{heading}* ({len(lines)})"))
        if not lines:
            blocks.append(context("Nothing here."))
        chunks = line_chunks([f"• {line}" for line in lines], SECTION_CHARS)
        for chunk in chunks:
            if len(blocks) + 2 > budget:  # the chunk, the divider
                left += chunk.count("\n") + 1
                continue
            blocks.append(section(chunk))
        blocks.append({"type": "divider"})
    if left:
        blocks.append(context(f"… and {left} more not shown here: {rest}"))
    blocks.append(context(footer))
    return {"type": "home", "blocks": blocks}


def day_text(day: date | datetime) -> str:
    return day.strftime("%a %d %b %Y %H:%M") if isinstance(day, datetime) else day.strftime("%a %d %b %Y")
