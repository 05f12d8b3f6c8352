"""What Slack's Web API refuses or cuts, checked as Slack checks it, for the fake Slack servers
(tests/bot/fake_slack.py, tests/faults/faulty_slack.py).

Blocks and views are parsed with slack_sdk's own models (`Block.parse`, `View`) and validated with
their `validate_json()`; on top of that, the limits Slack documents that those models leave to the
server: 50 blocks a message, 100 a modal or Home tab, unique block ids, 3,000 characters of
private metadata, 40,000 characters of message text (beyond that Slack cuts the text and still
answers ok, with the warning `message_truncated`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_TEXT_CHARS = 40_000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
PRIVATE_METADATA_CHARS = 3_000
TRIGGER_SECONDS = 3.0
RESPONSE_URL_POSTS = 5
USER_ID = re.compile(r"[UW]0[A-Z0-9]{2,}")
CONVERSATION_ID = re.compile(r"[CDG]0[A-Z0-9]{2,}")
SEENS_FAULTS = frozenset(
    {"invalid_blocks", "invalid_arguments", "message_truncated", "unescaped mrkdwn", "no_text", "used_url"}
)
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
VIEW_METHODS = frozenset({"views.open", "views.update", "views.publish", "views.push"})


def truncated(text: Any) -> tuple[Any, dict[str, str]]:
    """Message text as Slack keeps it, and the warning it answers with when it cut it."""
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_CHARS:
        return text[:MESSAGE_TEXT_CHARS], {"warning": "message_truncated"}
    return text, {}


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def block_problems(blocks: Any, limit: int) -> list[str]:
    """Why Slack would refuse these blocks (empty when it would take them)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    seen: set[str] = set()
    for i, raw in enumerate(blocks):
        if not isinstance(raw, dict):
            problems.append(f"must be an object [json-pointer:/blocks/{i}]")
            continue
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in seen:
                problems.append(f"duplicate block_id {block_id!r} [json-pointer:/blocks/{i}]")
            seen.add(block_id)
        try:
            block = Block.parse(raw)
            if block is None or type(block) is Block:
                problems.append(f"unsupported type {raw.get('type')!r} [json-pointer:/blocks/{i}]")
            else:
                block.validate_json()
        except (SlackObjectFormationError, TypeError, KeyError, AttributeError, ValueError) as exc:
            problems.append(f"{exc} [json-pointer:/blocks/{i}]")
    return problems


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    problems = block_problems(view.get("blocks") or [], VIEW_BLOCKS)
    if len(view.get("private_metadata") or "") > PRIVATE_METADATA_CHARS:
        problems.append(f"private_metadata must be at most {PRIVATE_METADATA_CHARS} characters")
    if view.get("type") not in ("modal", "home"):
        problems.append(f"unsupported view type {view.get('type')!r}")
    if not problems:
        try:
            View(**view).validate_json()
        except (SlackObjectFormationError, TypeError, KeyError, ValueError) as exc:
            problems.append(str(exc))
    return problems


_MENTION = re.compile(r"<@[UW]0[A-Z0-9]+>")
_STRAY = re.compile(r"[<>]|&(?!amp;|lt;|gt;)")


def misread(method: str, body: dict[str, Any]) -> list[str]:
    """What Slack would read as markup that Seen did not mean: a `<`, `>` or `&` left unescaped in
    mrkdwn text (the message's text, and every mrkdwn text object of its blocks or view), other
    than a mention <@U…>. Slack takes such a message, and shows a link or nothing in its place."""
    texts: list[str] = []
    if method in MESSAGE_METHODS or method == "response_url":
        if isinstance(body.get("text"), str):
            texts.append(body["text"])
        _mrkdwn_texts(_decoded(body.get("blocks")), texts)
    if method in VIEW_METHODS:
        _mrkdwn_texts(_decoded(body.get("view")), texts)
    return [t for t in texts if _STRAY.search(_MENTION.sub("", t))]


def _mrkdwn_texts(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            out.append(value["text"])
        for item in value.values():
            _mrkdwn_texts(item, out)
    elif isinstance(value, list):
        for item in value:
            _mrkdwn_texts(item, out)


def check_call(method: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's refusal of a call whose blocks or view it would not take, or None."""
    if method in MESSAGE_METHODS or method == "response_url":
        blocks = _decoded(body.get("blocks"))
        if blocks is not None:
            problems = block_problems(blocks, MESSAGE_BLOCKS)
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
        if blocks is None and not body.get("text") and method != "chat.update":
            return {"ok": False, "error": "no_text"}
    if method in VIEW_METHODS:
        problems = view_problems(_decoded(body.get("view")))
        if problems:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
            }
    return None
