"""The listeners' shared ground: the database, the clock, the audit trail, and the few helpers every
listener uses (write transactions, refusals recorded, the crash-safety fault points)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session, sessionmaker

from storage import notify
from storage.audit import write_audit
from storage.models import Staff

log = logging.getLogger("seen.bot")
Clock = Callable[[], datetime]
REACTION = "white_check_mark"
MAX_SIBLINGS = 6  # children recorded on one form besides the first (Slack allows 100 blocks)


def utcnow() -> datetime:
    return datetime.now(UTC)


def ts_time(ts: str | None, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts or ""), UTC)
    except ValueError:
        return fallback


@dataclass(frozen=True)
class Submission:
    """A modal's submission: the view, its private metadata, the entered values, and when."""

    view: dict[str, Any]
    meta: dict[str, Any]
    values: dict[str, Any]
    now: datetime


class Core:
    """What every listener needs: one database, one clock, and the audit trail."""

    platform = "slack"  # named in the audit trail: who acted when no staff member is known

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self.factory = factory
        self.clock = clock
        # each commit that stores facts wakes the sweep of their children: NOTIFY on PostgreSQL,
        # and the scheduler of this same process, if it runs one (scheduler.wakeup)
        notify.announce(factory)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction. On SQLite it takes the write lock first (waiting for it, with the
        busy timeout): a transaction that reads first and writes later fails at once, without
        waiting, when another writer committed in between (WAL snapshot), as concurrent Slack
        requests do."""
        with self.factory.begin() as s:
            if s.get_bind().dialect.name == "sqlite":
                s.execute(sql("UPDATE scheduler_state SET value = value WHERE 0"))
            yield s

    # -- shared -------------------------------------------------------------------------------
    def audit(
        self, action: str, *, staff: Staff | None = None, child_id: int | None = None, **detail: Any
    ) -> None:
        with self.writing() as s:
            write_audit(
                s,
                action,
                child_id=child_id,
                actor=staff.id if staff is not None else self.platform,
                at=self.clock(),
                detail=detail,
            )

    def refused(self, user: str | None, action: str, reason: str, child_ref: str | None = None) -> None:
        with self.writing() as s:
            staff = s.scalar(select(Staff).where(Staff.chat_user_id == user)) if user else None
            write_audit(
                s,
                f"{self.platform}.refused",
                actor=staff.id if staff is not None else self.platform,
                at=self.clock(),
                detail={"chat_user_id": user, "action": action, "child": child_ref, "reason": reason},
            )


FORM_UNREADABLE = "This form could not be read: close it and open it again."


def json_object(text: Any) -> dict[str, Any]:
    """A JSON object this app wrote (a modal's metadata, a button's value), or {} for anything else."""
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def crash_point(name: str) -> None:
    """Fault injection for the crash-safety test (tests/access/test_bot_crash_safety.py): when the
    environment has SEEN_TEST_KILL_AT=<name>, the process kills itself here with SIGKILL (no
    cleanup, no answer to Slack), as a power cut or the OOM killer would. The points are
    "visit-before-commit", "visit-after-commit", "decision-before-commit" and
    "decision-after-commit": inside a form's write transaction with every fact written but not
    committed, and after the commit but before Slack is answered. Never set in production."""
    if os.environ.get("SEEN_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
