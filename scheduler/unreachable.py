"""A person the chat platform cannot reach yet (`Unreachable`: on Teams, the app is not installed
for them). Their messages are parked, not dropped, and their team's managers are told once per
person, not once per message, in a 1:1 message naming them by role, initials and staff id (never
a name) and saying how to make them reachable. Once they can be reached (on Teams: the app is
installed, or they message Seen), `release` puts their parked messages back for delivery.

The once is one notice for each run of parked messages: its key is made from the person and the
oldest of their messages parked as unreachable, which stays the same until they are released.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.messenger import DeliveryError, Unreachable
from scheduler.outbox import add_pending
from scheduler.recipients import Recipient
from storage.models import AuditLog, Outbox, Staff, Team

log = logging.getLogger("seen.delivery")

STAGE = "unreachable"
MARK = "unreachable: "  # the start of a parked row's last_error: parked until the person is reachable


def error_text(error: DeliveryError) -> str:
    """What a failed row keeps as its last error (a person not reachable yet is marked)."""
    text = f"{MARK}{error}" if isinstance(error, Unreachable) else str(error)
    return text[:500]


def initials(name: str) -> str:
    """A staff member's initials (`Sam Worker` -> `S.W.`): what a message may say of who they are."""
    return "".join(f"{part[0].upper()}." for part in name.replace("-", " ").split() if part[:1].isalpha())


def tell_manager(session: Session, row: Outbox, error: Unreachable, now: datetime) -> list[str]:
    """In the transaction that parks `row`: write the notice to the person's team managers (or,
    with none, the team's channel) unless this run of parked messages has one already. A notice
    itself, or a message to nobody in particular, tells no one."""
    if row.stage == STAGE or row.recipient_staff_id is None:
        return []
    person = session.get(Staff, row.recipient_staff_id)
    if person is None or person.team_id is None:
        return []
    first = session.scalar(
        select(Outbox.id)
        .where(
            Outbox.recipient_staff_id == person.id,
            Outbox.status == "parked",
            Outbox.last_error.startswith(MARK, autoescape=True),
        )
        .order_by(Outbox.id)
        .limit(1)
    )
    team = session.get(Team, person.team_id)
    managers = session.scalars(
        select(Staff.id)
        .where(
            Staff.team_id == person.team_id,
            Staff.role == "team_manager",
            Staff.active.is_(True),
            Staff.id != person.id,
        )
        .order_by(Staff.id)
    )
    channel = team.slack_channel_id if team is not None else None
    recipients = [Recipient(m, None, "team_manager") for m in managers] or [
        Recipient(None, channel, "team_manager")
    ]
    who = f"the {person.role.replace('_', ' ')} {initials(person.name)} (staff {person.id})"
    text = "\n".join(
        [
            f"*Seen cannot reach {who}*: their reminders and prompts are held, not lost, and go"
            " to them as soon as they can be reached.",
            f"Next: {error.how}",
        ]
    )
    base = f"{STAGE}:s{person.id}:{first or row.id}"
    added = add_pending(
        session,
        STAGE,
        [(f"{base}:{r.key}", r.staff_id, r.channel, text, r.describe) for r in recipients],
        now,
        False,
    )
    if added:
        log.warning("staff %s cannot be reached; the team's managers are told (%s)", person.id, base)
    return added


def release(session: Session, chat_user_id: str, now: datetime) -> int:
    """The person with this chat user id can be reached now: their messages parked as unreachable
    go back to pending, due at once (delivery marks any that are late), audited at `now`. Returns how many."""
    staff_id = session.scalar(select(Staff.id).where(Staff.chat_user_id == chat_user_id))
    if staff_id is None:
        return 0
    rows = list(
        session.execute(
            select(Outbox.id, Outbox.key, Outbox.child_id).where(
                Outbox.recipient_staff_id == staff_id,
                Outbox.status == "parked",
                Outbox.last_error.startswith(MARK, autoescape=True),
            )
        )
    )
    if not rows:
        return 0
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_([r.id for r in rows]))
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=Outbox.send_after,  # due at once, whatever this process's clock says
            last_error=None,
            claimed_by=None,
            claimed_until=None,
        )
    )
    for row in rows:
        session.add(
            AuditLog(
                at=now,
                actor="system",
                action="outbox.released",
                child_id=row.child_id,
                detail={"key": row.key, "reason": "the recipient can be reached now"},
            )
        )
    log.info("staff %s can be reached now: %d parked message(s) released", staff_id, len(rows))
    return len(rows)
