"""`seen simulate`: the real sweep, outbox and delivery on a throwaway database and a simulated clock.

The clock steps from one moment that matters to the next (a reminder's time, a child's next
threshold, a retry, a due-list morning, a simulated reply), at most `max_step` apart, and every
message delivered is printed as a JSON line `{"at","to","rule","child","stage","key","text"}`:
`at` is the simulated time it was delivered (UTC), `to` who it went to in words (a role and staff
id, a team's channel, or the policy's out-of-hours channel: `out of hours (channel C0EDT0001)`,
stage `out-of-hours`). A policy's working hours show in `at`: a manager prompt's repeat or climb
that fell outside them is delivered at the start of the next.
It is resumable: killed at any point and started again with the same --db and --out, it carries
on from the last completed step and prints exactly what an uninterrupted run would have.

Simulated replies (`--events`, a JSON list or JSON lines), applied when the clock reaches `at`:
  {"type": "contact", "child": "C-1042", ...a case-file contact (at, kind, by, child_seen, ...)}
  {"type": "decision", "child": "C-1042", ...a case-file decision (at, rule, by, outcome, ...)}
  {"type": "sighting", "child": "C-1042", "at": "...", "agency": "school"}
  {"type": "ack", "child": "C-1042", "at": "...", "rule": "CB-NOTSEEN-DISCUSS"}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.loop import Runtime
from scheduler.messenger import OutgoingMessage
from scheduler.policies import load_policy
from scheduler.rules.casefile import CaseFileError, parse_contact, parse_decision, parse_sighting
from scheduler.stages import morning
from storage import facts
from storage.models import Child, ChildSweepState, Outbox, SchedulerState, Staff, Team

CLOCK = "simulate.clock"
HOLDER = "simulate"


class SimulationError(ValueError):
    """Bad simulation input; the message names what was wrong."""


class JsonLinesMessenger:
    """Delivers by appending one JSON line per message; knows what it has already written."""

    def __init__(self, out: TextIO | str | Path) -> None:
        self.path: Path | None = None
        self.sent: dict[str, str] = {}
        if isinstance(out, str | Path):
            self.path = Path(out)
            if self.path.exists():
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        self.sent[json.loads(line)["key"]] = "sim:" + json.loads(line)["key"]
            self.fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self.stream: TextIO | None = None
        else:
            self.fd = None
            self.stream = out
        self.now: datetime | None = None

    def find_sent(self, key: str) -> str | None:
        return self.sent.get(key)

    def send(self, message: OutgoingMessage) -> str:
        line = (
            json.dumps(
                {
                    "at": (self.now or datetime.now(UTC)).isoformat(),
                    "to": message.recipient or message.to_channel or message.to_user,
                    "rule": message.payload.get("rule"),
                    "child": message.payload.get("child"),
                    "stage": message.payload.get("stage"),
                    "key": message.key,
                    "text": message.text,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        if self.fd is not None:
            os.write(self.fd, line.encode())  # one write: a kill leaves the line whole or absent
            os.fsync(self.fd)
        else:
            assert self.stream is not None
            self.stream.write(line)
            self.stream.flush()
        self.sent[message.key] = "sim:" + message.key
        return self.sent[message.key]


@dataclass(frozen=True)
class Event:
    at: datetime
    index: int
    data: dict[str, Any]


def load_events(text: str) -> list[Event]:
    text = text.strip()
    if not text:
        return []
    try:
        items = (
            json.loads(text)
            if text.startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except json.JSONDecodeError as exc:
        raise SimulationError(f"events: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    events = []
    for i, item in enumerate(items):
        where = f"events[{i}]"
        if not isinstance(item, dict):
            raise SimulationError(f"{where}: must be a JSON object")
        kind = item.get("type")
        if kind not in ("contact", "decision", "sighting", "ack"):
            raise SimulationError(f"{where}.type: must be contact, decision, sighting or ack")
        if not isinstance(item.get("child"), str):
            raise SimulationError(f"{where}.child: missing case reference")
        body = {k: v for k, v in item.items() if k not in ("type", "child")}
        try:  # validate now: a bad event is refused before anything runs
            if kind == "contact":
                at = parse_contact(body, where).at
            elif kind == "decision":
                at = parse_decision(body, where).at
            elif kind == "sighting":
                at = parse_sighting(body, where).at
            else:
                at = parse_sighting({"at": body.get("at"), "agency": "-"}, where).at
                if not isinstance(body.get("rule"), str):
                    raise SimulationError(f"{where}.rule: the rule whose prompt is acknowledged")
        except CaseFileError as exc:
            raise SimulationError(str(exc)) from None
        events.append(Event(at, i, item))
    return sorted(events, key=lambda e: (e.at, e.index))


def apply_event(session: Session, event: Event, now: datetime) -> None:
    data = event.data
    body = {k: v for k, v in data.items() if k not in ("type", "child")}
    child = session.scalar(select(Child).where(Child.case_ref == data["child"]))
    where = f"events[{event.index}]"
    if child is None:
        raise SimulationError(f"{where}.child: unknown case reference {data['child']!r}")
    key = f"simulate:event:{event.index}"
    if data["type"] == "contact":
        contact = parse_contact(body, where)
        facts.record_contact(
            session,
            child,
            contact,
            source_key=key,
            now=now,
            by_staff=child.lead_social_worker_id if contact.by == "lead_social_worker" else None,
        )
    elif data["type"] == "decision":
        decision = parse_decision(body, where)
        facts.record_decision(
            session,
            child,
            decision,
            source_key=key,
            now=now,
            by_staff=_someone(session, child, decision.by),
        )
    elif data["type"] == "sighting":
        facts.record_sighting(session, child, parse_sighting(body, where), source_key=key, now=now)
    else:
        at = parse_sighting({"at": body["at"], "agency": "-"}, where).at
        rows = session.scalars(
            select(Outbox).where(
                Outbox.child_id == child.id, Outbox.rule == body["rule"], Outbox.stage == "prompt"
            )
        )
        for row in rows:
            staff = row.recipient_staff_id or _someone(session, child, "team_manager")
            if staff is not None:
                facts.acknowledge(session, child, staff, row.payload["obligation"], at=at, now=now)


def _someone(session: Session, child: Child, role: str) -> int | None:
    staff_role = "social_worker" if role in ("lead_social_worker", "duty_social_worker") else role
    return session.scalar(
        select(Staff.id).where(Staff.team_id == child.team_id, Staff.role == staff_role).order_by(Staff.id)
    )


def _state(session: Session, name: str) -> str | None:
    row = session.get(SchedulerState, name)
    return row.value if row else None


def _set_state(session: Session, name: str, value: str, now: datetime) -> None:
    row = session.get(SchedulerState, name)
    if row is None:
        session.add(SchedulerState(name=name, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


def _next_moment(
    session: Session, now: datetime, end: datetime, events: list[Event], max_step: timedelta
) -> datetime:
    candidates = [now + max_step, end]
    threshold = session.scalar(
        select(func.min(ChildSweepState.next_threshold_at)).where(ChildSweepState.next_threshold_at > now)
    )
    retry = session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(
            Outbox.status == "pending", Outbox.next_attempt_at > now
        )
    )
    candidates += [t for t in (threshold, retry) if t is not None]
    candidates += [e.at for e in events if e.at > now][:1]
    for policy_id in set(session.scalars(select(Team.policy_id))):
        policy = load_policy(policy_id)
        today = now.astimezone(policy.timezone).date()
        for day in (today, today + timedelta(days=1)):
            at = morning(policy, day)
            if at > now:
                candidates.append(at)
                break
    return min(candidates)


def simulate(
    factory: sessionmaker[Session],
    messenger: JsonLinesMessenger,
    start: date,
    end: date,
    events: list[Event],
    tz: Any,
    max_step: timedelta = timedelta(hours=1),
) -> int:
    """Step the clock from `start` 00:00 to `end` 23:59 local; returns the steps taken."""
    runtime = Runtime(factory, messenger, holder=HOLDER)
    runtime.release_own_claims()
    begin = datetime.combine(start, time(), tz).astimezone(UTC)
    finish = datetime.combine(end, time(23, 59), tz).astimezone(UTC)
    with factory() as session:
        saved = _state(session, CLOCK)
    # The clock is saved *before* each step runs: after a kill, that step runs again (every part
    # of it is idempotent) and the run carries on exactly as it would have.
    now = datetime.fromisoformat(saved) if saved else begin
    applied_through: datetime | None = None  # after a restart, re-apply (idempotently) all so far
    steps = 0
    while True:
        with factory.begin() as session:
            _set_state(session, CLOCK, now.isoformat(), now)
            for event in events:
                if event.at <= now and (applied_through is None or event.at > applied_through):
                    apply_event(session, event, now)
        applied_through = now
        messenger.now = now
        runtime.tick(now)
        steps += 1
        if now >= finish:
            return steps
        with factory() as session:
            now = _next_moment(session, now, finish, events, max_step)
