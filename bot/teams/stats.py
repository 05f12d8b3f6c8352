"""The weekly timeliness post (and `/seen stats`' answer) on Teams: one Adaptive Card with the chart
inline.

The card has the heading, each team's four headline numbers as a FactSet, the line saying what the
chart shows, and the chart as an `Image` whose `url` is a `data:image/png;base64,…` URI (Adaptive
Cards 1.2 and later take data URIs; Teams shows them in bot messages). The chart is never put
anywhere reachable from the internet: a URL Teams could fetch would need a public, unauthenticated
address for a council's figures.

Teams refuses a message larger than about 28 KB, card included (most guidance says keep under 25
KB). The chart is a 32-colour PNG of about 10 KB (`scheduler.weekly_report`), so the card is about
15 KB. An image attachment (`contentType: image/png` with a data URI) would count against the same
limit and adds nothing, so it is not used: a card that would still be over CARD_CHARS (a chart
that came out unusually large) goes without the image, saying so, and the numbers still arrive.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from microsoft_teams.api import MessageActivityInput
from microsoft_teams.cards import AdaptiveCard

from bot.teams.cards import SCHEMA, TEXT_MAX, VERSION, escape
from bot.teams.text import plain
from scheduler.messenger import Image

CARD_CHARS = 24_000  # the card's JSON at most (Teams' whole message: about 28 KB, 25 KB to be safe)
TOO_LARGE = "The chart is too large for a Teams message: `seen report timeliness --chart` draws it."
_BOLD = re.compile(r"\*([^*\n]+)\*")


def stats_card(text: str, image: Image | None) -> dict[str, Any]:
    """The card of a summary's text (scheduler.weekly_report.post: a heading, an italic note,
    "Month so far:" lines, "• measure: value" lines) with `image` inline."""
    body: list[dict[str, Any]] = []
    facts: list[dict[str, str]] = []
    for n, line in enumerate(text.split("\n")):
        if line.startswith("• ") and ": " in line:
            label, value = line[2:].rsplit(": ", 1)
            facts.append({"title": escape(label), "value": escape(value)})
            continue
        if facts:
            body.append({"type": "FactSet", "facts": facts})
            facts = []
        words = _BOLD.sub(r"\1", line).replace("`", "")
        if n == 0:
            body.append(_block(words, size="Medium", weight="Bolder", style="heading"))
        elif line.startswith("_") and line.endswith("_"):
            body.append(_block(words.strip("_"), size="Small", isSubtle=True))
        else:
            body.append(_block(words, weight="Bolder" if _BOLD.match(line) else "Default"))
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    card["fallbackText"] = _BOLD.sub(r"\1", text)[:TEXT_MAX]
    if image is not None:
        url = "data:image/png;base64," + base64.b64encode(image.png).decode("ascii")
        body.append({"type": "Image", "url": url, "altText": image.alt[:TEXT_MAX], "size": "Stretch"})
        if len(json.dumps(card)) > CARD_CHARS:
            body[-1] = _block(TOO_LARGE.replace("`", ""), size="Small", isSubtle=True)
    return card


def stats_activity(text: str, image: Image | None) -> MessageActivityInput:
    """The weekly post (or a `stats` answer) as a message: the card, its words as the notification."""
    card = AdaptiveCard.model_validate(stats_card(text, image))
    return MessageActivityInput(text=plain(text)).add_card(card)


def _block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **style}
