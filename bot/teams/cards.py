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

from bot.core.model import CHOICE_KINDS, Action, Form, FormField, Message
from bot.teams.words import on_teams

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
FORM_KEY = "seen_form"  # in an open-form button's data: the form to open
METADATA_KEY = "seen_metadata"  # in a form's submit data: its private metadata
DISPATCH_KEY = "seen_dispatch"  # in a form's data: the field whose change asks for the form again
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
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ",".join(value) or None
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
    elif f.kind in CHOICE_KINDS:
        choices = [{"title": o.label, "value": o.value} for o in f.options]
        element = {"type": "Input.ChoiceSet", **base, "choices": choices}  # compact: the default
        if f.kind == "radio":
            element["style"] = "expanded"
        known = {o.value for o in f.options}
        if f.kind == "multiselect":
            element["isMultiSelect"] = True
            value = ",".join(v for v in (value or "").split(",") if v in known) or None
        elif value is not None and value not in known:
            value = None
    else:  # checkbox
        element = {"type": "Input.Toggle", **base, "title": f.label}  # on "true", off "false"
        value = value if value in ("true", "false") else "false"
    if value is not None:
        element["value"] = value
    return element


def form_card(form: Form, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The form as a dialog's card: its inputs (their ids the fields' ids), words between them,
    and under each input the message `errors` holds for it (a submission shown again). A field
    that reports its changes (`dispatch`) gets a button sending the form back to be shown again."""
    errors = errors or {}
    body: list[dict[str, Any]] = []
    if errors:
        body.append(_text("Some answers need a change: see the messages below them.", color="Attention"))
    actions: list[dict[str, Any]] = []
    metadata = {FORM_KEY: form.id, METADATA_KEY: dict(form.metadata)}
    for f in form.fields:
        if f.kind == "section":
            body.append(_text(f.label))
            continue
        if f.kind == "heading":
            body.append(
                _text(f.label, weight="Bolder", separator=True) if body else _text(f.label, weight="Bolder")
            )
            continue
        body.append(form_input(f))
        if f.hint:
            body.append(_text(f.hint, size="Small", isSubtle=True, spacing="None"))
        if f.id in errors:
            body.append(_text(errors[f.id], color="Attention", spacing="None"))
        if f.dispatch:
            data = {**metadata, DISPATCH_KEY: f.dispatch}
            actions.append({"type": "Action.Submit", "title": f"Update the form: {f.label}", "data": data})
    submit = {"type": "Action.Submit", "title": form.submit, "style": "positive", "data": metadata}
    return _card(body, [submit, *actions], None)


def task_module(form: Form, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The answer to a `task/fetch` invoke (or a `task/submit` to show again): the form as a dialog."""
    card = attachment(form_card(form, errors))
    return {
        "task": {"type": "continue", "value": {"title": form.title[:80], "width": "medium", "card": card}}
    }


def task_message(text: str) -> dict[str, Any]:
    """The answer to a `task/submit` that closes the dialog showing `text`."""
    return {"task": {"type": "message", "value": on_teams(text)}}
