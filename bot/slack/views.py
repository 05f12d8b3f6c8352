"""Block Kit: the messages with buttons, the visit record and decision modals, and App Home.

Pure builders (data in, JSON-able dicts out). Children appear by case reference and initials
only; button values carry keys and case references, never names or note text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

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
VISIT_CALLBACK = "seen_visit_record"
DECISION_CALLBACK = "seen_decision"
SIBLINGS_ACTION = "seen_siblings"
CONTACT_KIND_TEXT = {
    "home_visit": "Home visit",
    "school_visit": "Visit at school",
    "office": "Seen at the office",
    "other": "Other contact",
}
OUTCOME_TEXT = {
    "seen": "Seen",
    "not-seen": "Not seen",
    "no-one-home": "No one home",
}
DECISION_TEXT = {
    "emergency_action": "Emergency action",
    "further_visit": "A further visit",
    "risk_assessed": "Risks assessed: not immediate, contact the family",
    "family_contacted": "Family contacted to meet the parent",
    "written_agreement": "Parent met: written agreement, core group informed",
    "core_group_meeting": "Urgent core group meeting arranged",
    "chair_notified": "CP Chair notified and agrees the action plan",
    "access_difficulty": "There is difficulty obtaining access",
    "another_agency_to_see": "Another agency is to see the child (authorised)",
    "review_conference": "A Review CP Conference is called",
    "interval_changed": "Visit interval changed",
    "cin_arrangement_recorded": "Child in Need visiting arrangement recorded",
    "reviewed": "Reviewed and recorded (e.g. in supervision)",
}


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


# -- the visit record modal ---------------------------------------------------------------------
@dataclass
class ChildRow:
    ref: str
    initials: str
    baby: bool = False  # under the policy's baby age: "seen awake?" is asked
    outcome: str | None = None  # prefill: seen / not-seen / no-one-home
    alone: str | None = None  # prefill: yes / no / not_applicable
    alone_reason: str | None = None
    bedroom: bool | None = None
    awake: bool | None = None

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.initials})" if self.initials else self.ref


@dataclass
class VisitForm:
    children: list[ChildRow]  # the first is the child the form is for; the others are siblings
    at: datetime  # local wall time to prefill
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (ref, label) of siblings
    kind: str = "home_visit"
    no_one_home_note: str | None = None  # rule ID asking for the note (HI-NOONE-NOTE), if any
    metadata: dict[str, Any] = field(default_factory=dict)


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    hint: str | None = None,
    dispatch: bool = False,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label),
        "element": {**element, "action_id": "v"},
    }
    if hint:
        block["hint"] = _plain(hint)
    if dispatch:
        block["dispatch_action"] = True
    return block


def _radio(options: list[tuple[str, str]], initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "radio_buttons", "options": [_option(v, t) for v, t in options]}
    if initial is not None and initial in {v for v, _ in options}:
        element["initial_option"] = _option(initial, dict(options)[initial])
    return element


def _select(options: list[tuple[str, str]], initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "placeholder": _plain("Choose"),
        "options": [_option(v, t) for v, t in options],
    }
    if initial is not None and initial in {v for v, _ in options}:
        element["initial_option"] = _option(initial, dict(options)[initial])
    return element


def _textbox(multiline: bool = True, initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": 3000}
    if initial:
        element["initial_value"] = initial
    return element


def _check(value: str, text: str) -> dict[str, Any]:
    return {"type": "checkboxes", "options": [_option(value, text)]}


YES_NO = [("yes", "Yes"), ("no", "No")]
ALONE = [("yes", "Yes"), ("no", "No"), ("not_applicable", "Not applicable (age or understanding)")]


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def visit_modal(form: VisitForm) -> dict[str, Any]:
    """The Record of a Child Protection Visit (RULES.md "Visit record"), one outcome per child."""
    blocks: list[dict[str, Any]] = [
        section(
            "*Record of a Child Protection Visit* for "
            + ", ".join(c.label for c in form.children[:1])
            + ". Brothers or sisters seen on the same visit can be added below, one outcome each."
        ),
        _input(
            "at_date",
            "Date of the visit",
            {"type": "datepicker", "initial_date": form.at.date().isoformat()},
        ),
        _input(
            "at_time",
            "Time of the visit",
            {"type": "timepicker", "initial_time": form.at.strftime("%H:%M")},
        ),
        _input("kind", "Kind of contact", _select(list(CONTACT_KIND_TEXT.items()), form.kind)),
        _input(
            "title",
            "Title (for a contact other than a home visit)",
            _textbox(False),
            hint='e.g. "visit to a child at school"',
        ),
        _input("present", "Who was present", _textbox()),
    ]
    if form.candidates:
        selected = [_option(c.ref, c.label) for c in form.children[1:]]
        element: dict[str, Any] = {
            "type": "multi_static_select",
            "action_id": SIBLINGS_ACTION,
            "placeholder": _plain("Choose brothers or sisters"),
            "options": [_option(ref, label) for ref, label in form.candidates[:100]],
        }
        if selected:
            element["initial_options"] = selected
        blocks.append(
            {
                "type": "input",
                "block_id": "siblings",
                "optional": True,
                "dispatch_action": True,
                "label": _plain("Other children seen on this visit (one outcome each)"),
                "element": element,
            }
        )
    for child in form.children:
        r = child.ref
        blocks += [
            {"type": "divider"},
            section(f"*{child.label}*"),
            _input(f"outcome__{r}", f"{r}: outcome", _radio(list(OUTCOME_TEXT.items()), child.outcome)),
            _input(f"alone__{r}", f"{r}: seen alone?", _select(ALONE, child.alone)),
            _input(f"alone_reason__{r}", f"{r}: why not seen alone", _textbox(initial=child.alone_reason)),
            _input(
                f"alone_concerns__{r}",
                f"{r}: concerns",
                _check("yes", "Not seen alone, and I have concerns (the team manager is told)"),
            ),
            _input(f"spoken__{r}", f"{r}: spoken with?", _radio(YES_NO)),
            _input(f"bedroom__{r}", f"{r}: bedroom seen?", _radio(YES_NO, _yes_no(child.bedroom))),
        ]
        if child.baby:
            blocks.append(
                _input(f"awake__{r}", f"{r}: baby seen awake?", _radio(YES_NO, _yes_no(child.awake)))
            )
        blocks += [
            _input(f"presentation__{r}", f"{r}: presentation and behaviour", _textbox()),
            _input(
                f"wishes__{r}",
                f"{r}: wishes and feelings",
                _textbox(),
                hint="Best written in the child's own words",
            ),
        ]
    blocks += [
        {"type": "divider"},
        _input("observations", "Observations on the identified risks", _textbox()),
        _input(
            "risk_worsened",
            "Risks",
            _check("yes", "The risks have worsened greatly (a manager is told at once)"),
        ),
        _input("family", "Circumstances of all family members", _textbox()),
        _input("new_adults", "New adults or young people in the home", _textbox()),
        _input("sleeping", "Sleeping arrangements", _textbox()),
        _input("incident", "New incident or injury", _textbox()),
        _input(
            "new_injury",
            "Child protection enquiries",
            _check("yes", "There is a new incident or injury (full CP enquiries start)"),
        ),
    ]
    if form.no_one_home_note:
        blocks += [
            _input(
                "note_left",
                f"No one home: was a note left? [{form.no_one_home_note}]",
                _radio(YES_NO),
                hint="With the call-back time and contact details",
            ),
            _input("note_reason", "Why no note was left", _textbox()),
        ]
    return _modal(VISIT_CALLBACK, "Child protection visit", "Save record", form.metadata, blocks)


# -- the decision modal ------------------------------------------------------------------------
def decision_modal(
    *,
    rule: str,
    child_label: str,
    summary: str,
    outcomes: list[str],
    max_days: int | None,
    metadata: dict[str, Any],
    days_label: str = "Further visit within (working days)",
) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        section(f"*{child_label}* · [{rule}]\n{summary}"),
        _input("outcome", "Decision", _radio([(o, _choice_text(o)) for o in outcomes])),
    ]
    if max_days is not None:
        blocks.append(
            _input(
                "days",
                days_label,
                _select([(str(n), f"{n} working day{'s' if n > 1 else ''}") for n in range(1, max_days + 1)]),
                hint=f"At most {max_days} working days ({metadata.get('limit_rule') or rule})",
            )
        )
    blocks += [
        _input("informed", "Who was informed (roles, not names)", _textbox(False)),
        _input("note", "Reasons and what happens next (kept as a case note)", _textbox()),
    ]
    return _modal(DECISION_CALLBACK, "Record decision", "Record decision", metadata, blocks)


def _modal(
    callback_id: str, title: str, submit: str, metadata: dict[str, Any], blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    """A form with a Cancel button; its metadata comes back with the submission. Slack takes at most
    100 blocks in a modal."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": blocks[:100],
    }


def _choice_text(outcome: str) -> str:
    text = DECISION_TEXT.get(outcome, outcome)
    return f"{text} within a timeframe (below)" if outcome in ("further_visit", "interval_changed") else text


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
