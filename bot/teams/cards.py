"""Adaptive Cards 1.5 from the chat-neutral model: a `Message` as a card, a `Form` as a dialog.

Buttons that call back are `Action.Execute` (Universal Actions: the bot answers the `adaptiveCard/action`
invoke with the updated card, so it changes in place for everyone); buttons that open a form are
`Action.Submit` with `msteams.type = task/fetch`, which Teams turns into a `task/fetch` invoke answered
with `task_module(form)`. A form's private metadata travels in its submit action's data and comes
back with the submission (the bot must check it, as on Slack).

Teams renders TextBlock text as a small Markdown dialect and expands `{{DATE(…)}}` / `{{TIME(…)}}`:
`escape` makes any text show as written.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from bot.core.model import Action, Form, FormField, Message

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
FORM_KEY = "seen_form"  # in an open-form button's data: the form to open
METADATA_KEY = "seen_metadata"  # in a form's submit data: its private metadata
TEXT_MAX = 5000  # characters a TextBlock carries before the card is cut (Teams' messages are ~28 KB)

_INLINE = re.compile(r"([\\`*_~\[\]()<>!|])")
_LINE_START = re.compile(r"^(\s*)(\d*)([#>+.)-])", re.MULTILINE)  # a heading, quote or list item
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """Text as written, never as Markdown, a mention, or a date function."""
    text = _CONTROL.sub("", text)[:TEXT_MAX]
    text = _INLINE.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)}", text)
    return text.replace("{{", "{\\{")


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **style}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]], fallback: str | None) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    if fallback:
        card["fallbackText"] = fallback[:TEXT_MAX]
    return card


def action(a: Action) -> dict[str, Any]:
    if a.kind == "open_form":
        data = {**a.value, "msteams": {"type": "task/fetch"}, FORM_KEY: a.id}
        out: dict[str, Any] = {"type": "Action.Submit", "title": a.label, "data": data}
    else:
        out = {"type": "Action.Execute", "title": a.label, "verb": a.id, "data": dict(a.value)}
    if a.primary:
        out["style"] = "positive"
    return out


def message_card(message: Message) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    if message.header:
        body.append(_text(message.header, size="Medium", weight="Bolder", style="heading"))
    body += [_text(s) for s in message.sections]
    if not body:
        body.append(_text(message.fallback))
    if message.fields:
        facts = [{"title": escape(f.label), "value": escape(f.value)} for f in message.fields]
        body.append({"type": "FactSet", "facts": facts})
    if message.context:
        body.append(_text(message.context, size="Small", isSubtle=True))
    return _card(body, [action(a) for a in message.actions], message.fallback)


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": card}


# -- forms --------------------------------------------------------------------------------------
def _initial(f: FormField) -> str | None:
    value = f.initial
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def form_input(f: FormField) -> dict[str, Any]:
    base: dict[str, Any] = {"id": f.id, "label": f.label}
    if f.required:
        base["isRequired"] = True
        base["errorMessage"] = f"{f.label}: required"
    value = _initial(f)
    if f.kind in ("text", "multiline"):
        element = {"type": "Input.Text", **base, "maxLength": f.max_length}
        if f.kind == "multiline":
            element["isMultiline"] = True
    elif f.kind == "date":
        element = {"type": "Input.Date", **base}
    elif f.kind == "time":
        element = {"type": "Input.Time", **base}
    elif f.kind == "select":
        choices = [{"title": o.label, "value": o.value} for o in f.options]
        element = {"type": "Input.ChoiceSet", **base, "choices": choices}  # compact: the default
        if value is not None and value not in {o.value for o in f.options}:
            value = None
    else:  # checkbox
        element = {"type": "Input.Toggle", **base, "title": f.label}  # on "true", off "false"
        value = value or "false"
    if value is not None:
        element["value"] = value
    return element


def form_card(form: Form) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    for f in form.fields:
        body.append(form_input(f))
        if f.hint:
            body.append(_text(f.hint, size="Small", isSubtle=True, spacing="None"))
    submit = {
        "type": "Action.Submit",
        "title": form.submit,
        "style": "positive",
        "data": {FORM_KEY: form.id, METADATA_KEY: dict(form.metadata)},
    }
    return _card(body, [submit], None)


def task_module(form: Form) -> dict[str, Any]:
    """The answer to a `task/fetch` invoke: the form as a dialog."""
    return {
        "task": {
            "type": "continue",
            "value": {"title": form.title[:80], "width": "medium", "card": attachment(form_card(form))},
        }
    }
