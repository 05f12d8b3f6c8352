"""A new outbox row: every message Seen decides to send starts as one of these.

The sweep's reminders and prompts, the daily due lists and the late summaries to managers are all
written as a pending row that may go from `now`, with no attempts yet. `pending_row` gives its
column values as a plain dict, so the sweep can insert tens of thousands at once with a bulk
`insert(Outbox)`; `add_pending` writes the messages that are about no one child (a due list, a
summary) one by one, each once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Outbox

# A message about no one child: its outbox key, recipient staff id, recipient channel, text, and
# who it is to (in words, for the payload).
Addressed = tuple[str, int | None, str | None, str, str]


def pending_row(
    *,
    key: str,
    stage: str,
    recipient_staff_id: int | None,
    recipient_channel: str | None,
    text: str,
    payload: dict[str, Any],
    now: datetime,
    late: bool,
    child_id: int | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """The columns of a message to be delivered from `now`; `child_id` and `rule` are None when the
    message is about no one child."""
    return {
        "key": key,
        "child_id": child_id,
        "rule": rule,
        "stage": stage,
        "recipient_staff_id": recipient_staff_id,
        "recipient_channel": recipient_channel,
        "send_after": now,
        "created_at": now,
        "text": text,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "late": late,
    }


def add_pending(
    session: Session, stage: str, messages: Sequence[Addressed], now: datetime, late: bool
) -> list[str]:
    """Add each message whose key is not in the outbox yet; returns the keys added, in order."""
    existing = set(session.scalars(select(Outbox.key).where(Outbox.key.in_([m[0] for m in messages]))))
    added: list[str] = []
    for key, staff_id, channel, text, to in messages:
        if key in existing:
            continue
        payload = {"stage": stage, "to": to, "rule": None, "child": None}
        row = pending_row(
            key=key,
            stage=stage,
            recipient_staff_id=staff_id,
            recipient_channel=channel,
            text=text,
            payload=payload,
            now=now,
            late=late,
        )
        session.add(Outbox(**row))
        added.append(key)
    return added
