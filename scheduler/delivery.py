"""Delivery: drain the outbox through the Messenger port, with retries, backoff and parking.

A row is claimed (a lease) in one short transaction, sent outside any transaction, and marked
sent in another. On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so two processes draining at
once never take the same row. A claim whose lease ran out without being marked (the process died
mid-send) is *in doubt*, and so is a row whose earlier attempt failed (a timeout may hide a
message the platform did post): before sending it again, the messenger is asked whether it
already has it. A row the platform refuses (no such channel, ...) or that keeps failing for a
day is parked, logged and audited: never silently dropped. A person the platform cannot reach yet
is parked until they can be, and their managers are told once (`scheduler.unreachable`).

The morning burst (thousands of reminders and due lists at once) is sent several at a time: up to
the messenger's `max_in_flight` sends are under way together, each to a different conversation,
and one conversation's messages go one after another, in claim order, at the platform's
per-conversation pace (`conversation_interval`) and after any Retry-After it gave. Each send and
its marking run in a worker thread; the claim, and what a failure means for the rest of the run,
stay in the calling thread.

A reminder that goes out late (Seen was down when it fell due, or the chat platform was down when
it was decided) is marked so, and once the team's late reminders have gone, its managers get one
message listing them by case reference and rule ID (`write_late_summaries`).
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from time import monotonic, perf_counter, sleep

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.messages import when
from scheduler.messenger import DeliveryError, Messenger, OutgoingMessage, Unreachable
from scheduler.outbox import add_pending
from scheduler.policies import load_policy
from scheduler.recipients import Recipient
from scheduler.rules.policy import Policy
from scheduler.unreachable import error_text, tell_manager
from storage.models import AuditLog, Child, Outbox, Staff, Team

log = logging.getLogger("seen.delivery")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
GIVE_UP_AFTER = timedelta(hours=24)  # a retryable failure parks a row only after this long
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=10)  # once the platform is back, nothing waits longer than this
# A run (every batch of one deliver_step) starts no send after this long by the wall clock: each
# row is claimed until `now` + LEASE, and a second runner (this process's other job, or a replica)
# takes a row over once that has passed, so a run must not still be sending near the end.
RUN_BUDGET = LEASE / 2
OUTAGE_AFTER = 3  # retryable failures in a row: the platform is down; the rest waits for a later run
LATE_SUMMARY_STAGE = "late-summary"
SUMMARY_WAIT_MAX = timedelta(hours=1)  # a team's summary waits for its late reminders this long at most


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    parked: int = 0
    deferred: int = 0  # claimed but not tried (rate limited, the platform down, out of time)
    out_of_time: bool = False  # the run's budget was spent (RUN_BUDGET)
    late: list[str] = field(default_factory=list)  # keys of rows that went out late
    summaries: list[str] = field(default_factory=list)  # keys of late-reminder summaries written


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1))
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _claim(
    factory: sessionmaker[Session], now: datetime, worker: str, batch: int
) -> list[tuple[Outbox, bool, str | None]]:
    with factory.begin() as session:
        query = (
            select(Outbox)
            .where(
                Outbox.status == "pending",
                Outbox.next_attempt_at <= now,
                or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now),
            )
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        claimed: list[tuple[Outbox, bool, str | None]] = []
        users = {
            s.id: s.chat_user_id
            for s in session.scalars(
                select(Staff).where(Staff.id.in_({r.recipient_staff_id for r in rows} - {None}))
            )
        }
        for row in rows:
            # In doubt: an earlier claim never finished (the process died mid-send), or an earlier
            # attempt failed in a way that may still have delivered (a timeout, a 5xx, a dropped
            # connection: the platform may have posted it without our hearing back).
            in_doubt = row.claimed_by is not None or row.attempts > 0
            row.claimed_by = worker
            row.claimed_until = now + LEASE
            row.attempts += 1
            claimed.append((row, in_doubt, users.get(row.recipient_staff_id)))
        return claimed


def _message(row: Outbox, chat_user: str | None) -> OutgoingMessage:
    return OutgoingMessage(
        key=row.key,
        text=row.text,
        to_user=chat_user,
        to_channel=None if row.recipient_staff_id is not None else row.recipient_channel,
        recipient=str((row.payload or {}).get("to", "")),
        payload=dict(row.payload or {}),
    )


def run_deadline() -> float:
    """The monotonic time after which a run that starts now sends nothing more."""
    return monotonic() + RUN_BUDGET.total_seconds()


def _destination(message: OutgoingMessage) -> str:
    return message.to_channel or message.to_user or ""


def _release(session: Session, row: Outbox, worker: str, not_before: datetime | None = None) -> None:
    """Give back a claimed row that was not tried: no attempt counted (a row in doubt stays so)."""
    values: dict[str, object] = {"claimed_by": None, "claimed_until": None, "attempts": row.attempts - 1}
    if not_before is not None and not_before > row.next_attempt_at:
        values["next_attempt_at"] = not_before
    session.execute(update(Outbox).where(Outbox.id == row.id, Outbox.claimed_by == worker).values(**values))


@dataclass
class _Conversation:
    """The claimed rows of one run to one conversation, sent one at a time, in claim order."""

    rows: deque[tuple[int, Outbox, bool, str | None]]  # (claim order, row, in doubt, chat user)
    # not before (perf_counter): the platform's per-conversation pace is kept by the real clock,
    # apart from `monotonic`, the run budget's clock (which tests move by hand)
    ready_at: float = 0.0


@dataclass
class _Attempt:
    row: Outbox
    message: OutgoingMessage
    error: DeliveryError | None  # None: sent
    delayed: bool = False  # sent later than the policy's late_after_minutes after it was decided
    parked: bool = False


def deliver_due(
    factory: sessionmaker[Session],
    messenger: Messenger,
    now: datetime,
    *,
    worker: str = "delivery",
    batch: int = 100,
    deadline: float | None = None,
) -> DeliveryReport:
    """Send every outbox row due at `now` (repeat until the report says nothing was sent).

    Up to the messenger's `max_in_flight` sends are under way at once (default 1), each to a
    different conversation: never two at once to one conversation, whose messages go in claim
    order and, after the first, no sooner than the messenger's `conversation_interval` seconds
    after the one before came back (default 0; a platform's per-conversation rate limit).
    Retry-After is honoured per conversation: once the platform rate-limits a message, the run's
    other messages to the same conversation wait as long. OUTAGE_AFTER retryable failures in a row
    mean the platform is down: the run starts nothing more and the rest waits, untried, for a
    later run (not one timeout per message, and not hammering a platform that asked us to wait).
    Past `deadline` (`run_deadline()`, by default from now) the rest is given back untried as well.
    """
    report = DeliveryReport()
    if deadline is None:
        deadline = run_deadline()
    lanes = max(int(getattr(messenger, "max_in_flight", 1) or 1), 1)
    interval = float(getattr(messenger, "conversation_interval", 0.0) or 0.0)
    claimed = _claim(factory, now, worker, batch * lanes)
    waiting: dict[str, _Conversation] = {}
    for i, (row, in_doubt, chat_user) in enumerate(claimed):
        destination = _destination(_message(row, chat_user))
        waiting.setdefault(destination, _Conversation(deque())).rows.append((i, row, in_doubt, chat_user))
    in_flight: dict[Future[_Attempt], str] = {}
    # Sends under way at once start at one and grow by one with each message the platform takes, up
    # to `lanes`; a retryable failure brings them back to one. A platform that is down therefore
    # sees no more calls than it would one message at a time before the run stops (OUTAGE_AFTER).
    allowed = 1
    failures = 0
    stop: str | None = None  # why nothing more is started: "time" or "outage"

    def give_back(conversations: list[_Conversation], not_before: datetime | None = None) -> None:
        rows = [row for c in conversations for _, row, _, _ in c.rows]
        if rows:
            with factory.begin() as session:
                for row in rows:
                    _release(session, row, worker, not_before)
        report.deferred += len(rows)

    def settle(attempt: _Attempt) -> None:
        nonlocal allowed, failures, stop
        row, error = attempt.row, attempt.error
        destination = _destination(attempt.message)
        if error is None:
            report.sent += 1
            if row.late or attempt.delayed:
                report.late.append(row.key)
            failures = 0
            allowed = min(allowed + 1, lanes)
        elif attempt.parked:
            report.parked += 1
        else:
            report.retried += 1
        if destination in waiting:
            waiting[destination].ready_at = perf_counter() + interval
        if error is None or not error.retryable:
            return
        failures += 1
        allowed = 1
        if error.retry_after is not None and destination in waiting:
            until = now + backoff(row.attempts, error.retry_after)
            give_back([waiting.pop(destination)], until)
        if failures >= OUTAGE_AFTER and stop is None:
            stop = "outage"
            log.warning("%d failures in a row: the chat platform looks down; the rest waits", failures)

    with ThreadPoolExecutor(lanes, thread_name_prefix="delivery") as pool:
        while waiting or in_flight:
            if stop is None and monotonic() > deadline:
                stop = "time"
                report.out_of_time = True
                log.info("delivery run out of time: the rest waits for the next run")
            if stop is not None and waiting:  # give back what is not under way
                busy = set(in_flight.values())
                give_back([waiting.pop(d) for d in [d for d in waiting if d not in busy]])
            busy, clock = set(in_flight.values()), perf_counter()
            ready = [(c.rows[0][0], d) for d, c in waiting.items() if d not in busy and c.ready_at <= clock]
            if ready and len(in_flight) < allowed and stop is None:
                _, destination = min(ready)
                conversation = waiting[destination]
                _, row, in_doubt, chat_user = conversation.rows.popleft()
                if not conversation.rows:
                    del waiting[destination]
                attempt = partial(_attempt, factory, messenger, now, worker, row, in_doubt, chat_user)
                if lanes == 1:  # one at a time: in this thread, in claim order
                    settle(attempt())
                    continue
                in_flight[pool.submit(attempt)] = destination
                continue
            if not in_flight:
                if not waiting or stop is not None:
                    break
                sleep(min(max(min(c.ready_at for c in waiting.values()) - perf_counter(), 0.001), 1.0))
                continue
            pause = None
            later = [c.ready_at for d, c in waiting.items() if d not in busy]
            if later and len(in_flight) < allowed and stop is None:
                pause = max(min(later) - perf_counter(), 0.001)
            done, _ = wait(in_flight, timeout=pause, return_when=FIRST_COMPLETED)
            for future in done:
                del in_flight[future]
                settle(future.result())
    return report


def _attempt(
    factory: sessionmaker[Session],
    messenger: Messenger,
    now: datetime,
    worker: str,
    row: Outbox,
    in_doubt: bool,
    chat_user: str | None,
) -> _Attempt:
    """Send one claimed row (unless the in-doubt check finds it sent already) and record how it went."""
    message = _message(row, chat_user)
    ref: str | None = None
    error: DeliveryError | None = None
    try:
        if in_doubt:
            find = getattr(messenger, "find_sent", None)
            ref = find(row.key) if find else None
        if ref is None:
            if row.recipient_staff_id is None and not row.recipient_channel:
                raise DeliveryError(
                    "no recipient: nobody holds the role and the team has no channel",
                    retryable=False,
                )
            ref = messenger.send(message)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # a messenger bug must not stop the others from going
        log.exception("messenger failed on %s", row.key)
        error = DeliveryError(f"{type(exc).__name__}: {exc}")
    with factory.begin() as session:
        if error is None:
            delayed = _delayed(session, row, now)
            session.execute(
                update(Outbox)
                .where(Outbox.id == row.id, Outbox.claimed_by == worker)
                .values(
                    status="sent",
                    sent_at=now,
                    message_ref=ref,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=None,
                    **(
                        {
                            "late": True,
                            "payload": {**(row.payload or {}), "meant_for": row.send_after.isoformat()},
                        }
                        if delayed
                        else {}
                    ),
                )
            )
            return _Attempt(row, message, None, delayed)
        # A platform that is down (429, 5xx, refused, timing out) is waited for: an outage of
        # hours must not park the morning's reminders. Only a row failing for a day is parked.
        park = not error.retryable or (row.attempts >= MAX_ATTEMPTS and now - row.send_after >= GIVE_UP_AFTER)
        session.execute(
            update(Outbox)
            .where(Outbox.id == row.id, Outbox.claimed_by == worker)
            .values(
                status="parked" if park else "pending",
                last_error=error_text(error),
                next_attempt_at=now + backoff(row.attempts, error.retry_after),
                claimed_by=None,
                claimed_until=None,
            )
        )
        if park:
            session.add(
                AuditLog(
                    at=now,
                    actor="system",
                    action="outbox.parked",
                    child_id=row.child_id,
                    detail={"key": row.key, "error": str(error)[:500], "attempts": row.attempts},
                )
            )
            log.error("parked %s after %d attempts: %s", row.key, row.attempts, error)
            if isinstance(error, Unreachable):  # held until they can be reached; managers told once
                tell_manager(session, row, error, now)
        else:
            log.warning("retrying %s (attempt %d): %s", row.key, row.attempts, error)
    return _Attempt(row, message, error, parked=park)


# -- late reminders: marked when sent, summarised to the team's managers ----------------------------
def _policy_of(session: Session, child_id: int) -> Policy | None:
    policy_id = session.scalar(
        select(Team.policy_id).join(Child, Child.team_id == Team.id).where(Child.id == child_id)
    )
    return load_policy(policy_id) if policy_id else None


def _delayed(session: Session, row: Outbox, now: datetime) -> bool:
    """A reminder not marked late by the sweep that goes more than the policy's late_after_minutes
    after it was decided (the chat platform was down, or the process was)."""
    if row.late or row.child_id is None or now - row.send_after <= timedelta(minutes=1):
        return False
    policy = _policy_of(session, row.child_id)
    return policy is not None and now - row.send_after > timedelta(
        minutes=policy.reminders.late_after_minutes
    )


def _summary_line(policy: Policy, ref: str, row: Outbox) -> str:
    payload = row.payload or {}
    due = payload.get("due")
    due_text = ""
    if isinstance(due, str):
        try:
            parsed: date | datetime = datetime.fromisoformat(due) if "T" in due else date.fromisoformat(due)
            overdue = " (overdue)" if payload.get("status") == "overdue" else ""
            due_text = f" due {when(policy, parsed)}{overdue}"
        except ValueError:
            due_text = ""
    meant = payload.get("meant_for") or payload.get("planned_at")
    meant_at = datetime.fromisoformat(meant) if isinstance(meant, str) else row.send_after
    sent_at = row.sent_at or meant_at
    stage = payload.get("stage") or row.stage
    return (
        f"{ref} [{row.rule}]{due_text}: the {stage} message, meant for {when(policy, meant_at)},"
        f" went {when(policy, sent_at)}"
    )


def write_late_summaries(session: Session, now: datetime) -> list[str]:
    """For each team whose late reminders have all gone: one message to its managers (or, with
    none, its channel) listing them by case reference and rule ID: no names. Each late row is
    summarised once (its payload notes the summary), under a key made from the rows it lists,
    so a re-run, a restart or a second replica writes nothing twice. Returns the keys written.

    A team with late reminders still waiting (the platform is not back for all of them yet) is
    summarised when they have gone, or SUMMARY_WAIT_MAX after its first late reminder went.
    """
    since = now - timedelta(days=2)
    query = (
        select(Outbox, Child.case_ref, Child.team_id)
        .join(Child, Child.id == Outbox.child_id)
        .where(Outbox.status == "sent", Outbox.late.is_(True), Outbox.sent_at >= since)
        .order_by(Outbox.sent_at, Outbox.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Outbox)
    by_team: dict[int, list[tuple[Outbox, str]]] = {}
    for row, ref, team_id in session.execute(query):
        if "late_summary" not in (row.payload or {}):
            by_team.setdefault(team_id, []).append((row, ref))
    written: list[str] = []
    for team_id, rows in sorted(by_team.items()):
        team = session.get(Team, team_id)
        if team is None:
            continue
        policy = load_policy(team.policy_id)
        late_after = timedelta(minutes=policy.reminders.late_after_minutes)
        waiting = session.scalar(
            select(Outbox.id)
            .join(Child, Child.id == Outbox.child_id)
            .where(
                Child.team_id == team_id,
                Outbox.status == "pending",
                or_(Outbox.late.is_(True), Outbox.send_after < now - late_after),
            )
            .limit(1)
        )
        first_sent = min(r.sent_at for r, _ in rows if r.sent_at is not None)
        if waiting is not None and now - first_sent < SUMMARY_WAIT_MAX:
            continue
        written += _write_summary(session, team, policy, rows, now)
    return written


def _write_summary(
    session: Session, team: Team, policy: Policy, rows: list[tuple[Outbox, str]], now: datetime
) -> list[str]:
    lines: list[str] = []
    for row, ref in rows:
        line = _summary_line(policy, ref, row)
        if line not in lines:  # the same alert to two people is one line
            lines.append(line)
    digest = hashlib.sha256("\n".join(sorted(r.key for r, _ in rows)).encode()).hexdigest()[:12]
    day = now.astimezone(policy.timezone).date().isoformat()
    base = f"{LATE_SUMMARY_STAGE}:team{team.id}:{day}:{digest}"
    managers = list(
        session.scalars(
            select(Staff.id)
            .where(Staff.team_id == team.id, Staff.role == "team_manager", Staff.active.is_(True))
            .order_by(Staff.id)
        )
    )
    recipients = [Recipient(m, None, "team_manager") for m in managers] or [
        Recipient(None, team.slack_channel_id, "team_manager")
    ]
    n = len(lines)
    text = "\n".join(
        [
            f"*Sent late* · {n} reminder{'s' if n != 1 else ''} for {team.name} went out late"
            " (Seen or the chat platform was not available when they were due):",
            *(f"• {line}" for line in lines),
            "Next: check with each lead social worker that these visits, records and decisions"
            " are in hand (`/seen child <case reference>`).",
        ]
    )
    messages = [(f"{base}:{r.key}", r.staff_id, r.channel, text, r.describe) for r in recipients]
    added = add_pending(session, LATE_SUMMARY_STAGE, messages, now, late=False)
    for row, _ in rows:
        session.execute(
            update(Outbox)
            .where(Outbox.id == row.id)
            .values(payload={**(row.payload or {}), "late_summary": base})
        )
    log.warning(
        "%d reminder(s) for team %s went out late; its managers are told (%s): %s",
        n,
        team.id,
        base,
        "; ".join(lines),
    )
    return added
