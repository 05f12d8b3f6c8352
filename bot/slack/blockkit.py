"""Block Kit from the chat-neutral model: a `Message` as blocks, a `Form` as a modal view.

Text is shown as written: sections and context are `plain_text`; field values, the only mrkdwn,
have `&`, `<` and `>` escaped (Slack's rule) and are `verbatim`, so nothing becomes a link or a
mention. A button's value is its Action's value as compact JSON; an open-form button's action id
is the form's id (the app opens the modal in its action listener). Each input block's id is the
field's id, its element's action id is `v`, as in `bot.slack.views`.
"""

from __future__ import annotations

import json
from datetime import date, time
from typing import Any

from bot.core.model import Action, Form, FormField, Message

TEXT_MAX = 3000  # a section's text
HEADER_MAX = 150
LABEL_MAX = 75  # button texts, labels, option texts
TITLE_MAX = 24  # a modal's title and submit label
VALUE_MAX = 2000  # a button's value
METADATA_MAX = 3000  # a modal's private_metadata
VIEW_BLOCKS = 100  # blocks of a modal


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str, limit: int = TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _compact(value: dict[str, Any], limit: int, what: str) -> str:
    out = json.dumps(value, separators=(",", ":"), default=str)
    if len(out) > limit:
        raise ValueError(f"{what}: {len(out)} characters of JSON, Slack takes {limit}")
    return out


def button(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "button", "action_id": a.id, "text": _plain(a.label, LABEL_MAX)}
    if a.value:
        out["value"] = _compact(a.value, VALUE_MAX, f"button {a.id}")
    if a.primary:
        out["style"] = "primary"
    return out


def message_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.header:
        blocks.append({"type": "header", "text": _plain(message.header, HEADER_MAX)})
    blocks += [{"type": "section", "text": _plain(s)} for s in message.sections]
    if not blocks:
        blocks.append({"type": "section", "text": _plain(message.fallback)})
    for start in range(0, len(message.fields), 10):  # a section holds ten fields
        fields = [
            {"type": "mrkdwn", "text": f"*{escape(f.label)}*\n{escape(f.value)}"[:2000], "verbatim": True}
            for f in message.fields[start : start + 10]
        ]
        blocks.append({"type": "section", "fields": fields})
    if message.context:
        blocks.append({"type": "context", "elements": [_plain(message.context)]})
    if message.actions:
        blocks.append({"type": "actions", "elements": [button(a) for a in message.actions][:25]})
    return blocks


# -- forms --------------------------------------------------------------------------------------
def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": _plain(text, LABEL_MAX), "value": value}


def _element(f: FormField) -> dict[str, Any]:
    initial = f.initial
    if f.kind in ("text", "multiline"):
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "multiline": f.kind == "multiline",
            "max_length": f.max_length,
        }
        if isinstance(initial, str) and initial:
            element["initial_value"] = initial
    elif f.kind == "date":
        element = {"type": "datepicker"}
        if isinstance(initial, date):
            element["initial_date"] = initial.isoformat()
    elif f.kind == "time":
        element = {"type": "timepicker"}
        if isinstance(initial, time):
            element["initial_time"] = initial.strftime("%H:%M")
    elif f.kind in ("select", "radio"):
        element = {"type": "radio_buttons"} if f.kind == "radio" else {"type": "static_select"}
        if f.kind == "select":
            element["placeholder"] = _plain("Choose", LABEL_MAX)
        element["options"] = [_option(o.value, o.label) for o in f.options]
        chosen = [o for o in f.options if o.value == initial]
        if chosen:
            element["initial_option"] = _option(chosen[0].value, chosen[0].label)
    elif f.kind == "multiselect":
        element = {
            "type": "multi_static_select",
            "placeholder": _plain("Choose", LABEL_MAX),
            "options": [_option(o.value, o.label) for o in f.options[:100]],
        }
        values = initial if isinstance(initial, tuple) else ()
        chosen = [_option(o.value, o.label) for o in f.options if o.value in values]
        if chosen:
            element["initial_options"] = chosen
    else:  # checkbox
        element = {"type": "checkboxes", "options": [_option("yes", f.label)]}
        if initial is True:
            element["initial_options"] = [_option("yes", f.label)]
    return {**element, "action_id": f.dispatch or "v"}


def input_block(f: FormField) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": f.id,
        "optional": not f.required,
        "label": _plain(f.label, 2000),
        "element": _element(f),
    }
    if f.hint:
        block["hint"] = _plain(f.hint, 2000)
    if f.dispatch:
        block["dispatch_action"] = True
    return block


def form_blocks(form: Form) -> list[dict[str, Any]]:
    """Each field as an input block; a `section` as a section, a `heading` as a divider (unless it
    opens the form) and a bold section. Slack takes at most 100 blocks in a modal."""
    blocks: list[dict[str, Any]] = []
    for f in form.fields:
        if f.kind == "section":
            blocks.append({"type": "section", "text": _plain(f.label)})
        elif f.kind == "heading":
            if blocks:
                blocks.append({"type": "divider"})
            text = {"type": "mrkdwn", "text": f"*{escape(f.label)[: TEXT_MAX - 2]}*", "verbatim": True}
            blocks.append({"type": "section", "text": text})
        else:
            blocks.append(input_block(f))
    return blocks[:VIEW_BLOCKS]


def modal(form: Form) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": form.id,
        "title": _plain(form.title, TITLE_MAX),
        "submit": _plain(form.submit, TITLE_MAX),
        "close": _plain("Cancel", TITLE_MAX),
        "private_metadata": _compact(form.metadata, METADATA_MAX, f"form {form.id} metadata"),
        "blocks": form_blocks(form),
    }
