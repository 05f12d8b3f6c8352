"""The sweep: load facts, evaluate, and write each notification whose time has come to the outbox.

Each outbox row has a deterministic key (obligation key + stage + recipient), written in the same
transaction that decides it, so a re-run, a restart or a second replica sends nothing twice and a
sweep after downtime loses nothing.

A child is evaluated again only when something can have changed for it: its facts (the stores bump
`Child.facts_version` with every new fact), its policy (a digest of the policy it was swept under
is kept), or the time: its next threshold, the sooner of the engine's next change
(`scheduler.rules.next_change`: a deadline passing, a lapse reached, a meeting passed...) and the
next stage of its open obligations (`scheduler.stages`), has passed. Not every child every night.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_all_start_methods, get_context
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.evaluation import Unevaluable, evaluate_child
from scheduler.policies import load_policy
from scheduler.recipients import Recipients
from scheduler.rules.model import Obligation
from scheduler.rules.next_change import next_change, policy_digest
from scheduler.rules.policy import Policy
from scheduler.stages import Stage, StagesAt, is_prompt, snoozed_until
from scheduler.sweep_rows import UNEVALUABLE_STAGE as UNEVALUABLE_STAGE  # the stage name, for callers
from scheduler.sweep_rows import outbox_row, row_key, unevaluable_rows
from storage.bulk_insert import insert_rows
from storage.cases import among, cases_for_children
from storage.models import Acknowledgement, Child, ChildSweepState, Outbox, Team

log = logging.getLogger("seen.sweep")
# Each child's obligations (or why there are none), its next change, and the facts version read
# before its facts (the sweep records that version as seen: a fact stored after the read makes the
# child due again)
Evaluated = dict[int, tuple[list[Obligation] | Unevaluable, datetime | None, int]]
BATCH = 2000
PARALLEL_MIN_BATCHES = 4  # below this a sweep is quick enough in one process
PARALLEL_WORKERS = 2


@dataclass
class SweepReport:
    at: datetime
    evaluated: int = 0
    obligations: int = 0
    written: int = 0
    late: int = 0
    seconds: float = 0.0
    keys: list[str] = field(default_factory=list)
    unevaluable: list[str] = field(default_factory=list)  # case references the engine refused
    # overdue obligations by rule of each child evaluated (for the metrics: no second evaluation)
    overdue_by_child: dict[int, dict[str, int]] = field(default_factory=dict)


def next_midnight(policy: Policy, now: datetime) -> datetime:
    """The next local midnight: a child the engine cannot evaluate is tried again then."""
    local = now.astimezone(policy.timezone)
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, datetime.min.time(), policy.timezone).astimezone(UTC)


def children_to_sweep(
    session: Session,
    now: datetime,
    full: bool,
    child_ids: Sequence[int] | None = None,
    digests: dict[str, str] | None = None,
) -> list[int]:
    """The open children to evaluate at `now` (of `child_ids` only, when given): all of them
    (`full`), or those never swept, whose facts changed, whose next threshold has passed, or
    whose policy is not the one they were last swept under (`digests`: policy id -> digest)."""
    query = select(Child.id).where(Child.closed_at.is_(None))
    if child_ids is not None:
        query = query.where(among(session, Child.id, list(child_ids)))
    if not full:
        changed_policy = [
            and_(Team.policy_id == policy_id, ChildSweepState.policy_digest != digest)
            for policy_id, digest in (digests or {}).items()
        ]
        query = (
            query.outerjoin(ChildSweepState, ChildSweepState.child_id == Child.id)
            .join(Team, Team.id == Child.team_id)
            .where(
                or_(
                    ChildSweepState.child_id.is_(None),
                    ChildSweepState.facts_version_seen != Child.facts_version,
                    ChildSweepState.next_threshold_at <= now,
                    ChildSweepState.policy_digest.is_(None),
                    *changed_policy,
                )
            )
        )
    return list(session.scalars(query.order_by(Child.id)))


def sweep(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    full: bool = False,
    child_ids: Sequence[int] | None = None,
) -> SweepReport:
    """One sweep at `now`: every due notification written to the outbox, once. `child_ids`: of
    these children only (e.g. those a new fact just changed); each is evaluated only if it is due
    (see the module docstring), or in any case with `full`."""
    with _collector_paused():
        return _sweep(factory, now, full, child_ids)


def _sweep(
    factory: sessionmaker[Session], now: datetime, full: bool, child_ids: Sequence[int] | None
) -> SweepReport:
    started = time.perf_counter()
    report = SweepReport(at=now)
    with factory() as session:
        context = _Context(session, now)
        ids = children_to_sweep(session, now, full, child_ids, context.digests)
        if ids:
            context.load_recipients(session)
    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
    for batch, evaluated in zip(batches, _evaluations(factory, batches, now), strict=True):
        with factory.begin() as session:
            _sweep_batch(session, batch, now, report, context, evaluated)  # type: ignore[arg-type]
    report.seconds = time.perf_counter() - started
    log.info(
        "sweep at %s: %d children evaluated, %d obligations, %d messages written (%d late) in %.2fs; "
        "%d children without deadlines (records to put right)",
        now.isoformat(),
        report.evaluated,
        report.obligations,
        report.written,
        report.late,
        report.seconds,
        len(report.unevaluable),
    )
    return report


# -- evaluating in parallel ---------------------------------------------------------------------
# Loading a year of facts for 100,000 children is most of a cold sweep's time; with more than a
# few batches to do and more than one core, worker processes load and evaluate batches while
# this process writes the outbox. Workers only read.
_worker_factory: sessionmaker[Session] | None = None


def _start_worker(url: str) -> None:
    global _worker_factory
    from storage.db import make_engine, session_factory

    _worker_factory = session_factory(make_engine(url, read_only=True))


def _evaluate_batch(ids: list[int], now: datetime) -> Evaluated:
    """A worker's batch: its obligations go back as they are (an Obligation is a named tuple, which
    pickles as cheaply as a plain one; a frozen dataclass unpickled through a Python-level
    __setstate__ at ten times the cost of building it)."""
    assert _worker_factory is not None
    with _worker_factory() as session:
        rows = session.execute(
            select(Child.id, Team.policy_id, Child.facts_version)
            .join(Team, Team.id == Child.team_id)
            .where(among(session, Child.id, ids))
        )
        return _evaluate(
            session, ids, now, {child_id: (load_policy(p), version) for child_id, p, version in rows}
        )


def _evaluate(
    session: Session, ids: Sequence[int], now: datetime, children: dict[int, tuple[Policy, int]]
) -> Evaluated:
    """`children`: each child's policy and facts version, read in `session`'s transaction before
    the facts are."""
    out: Evaluated = {}
    with _collector_paused():
        for child_id, case in cases_for_children(session, list(ids), free_text=False).items():
            policy, version = children[child_id]
            obligations = evaluate_child(policy, case, now)
            if isinstance(obligations, Unevaluable):  # tried again each night, and at a new fact
                out[child_id] = (obligations, next_midnight(policy, now), version)
            else:
                out[child_id] = (obligations, next_change(policy, case, now, obligations), version)
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector waits while a batch is loaded and evaluated: the batch makes
    tens of thousands of objects (none in a cycle), and each collection they set off walks every
    object of the process again; it cost a quarter of the load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _evaluations(
    factory: sessionmaker[Session], batches: list[list[int]], now: datetime
) -> Iterator[Evaluated | None]:
    """Each batch's obligations from worker processes, or None: evaluate it in this process."""
    workers = min(os.cpu_count() or 1, PARALLEL_WORKERS)
    bind = factory.kw.get("bind")
    url = bind.url if bind is not None else None
    in_memory = url is None or (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))
    if (
        len(batches) < PARALLEL_MIN_BATCHES
        or workers < 2
        or in_memory
        or "fork" not in get_all_start_methods()
    ):
        yield from (None for _ in batches)
        return
    with ProcessPoolExecutor(
        workers,
        mp_context=get_context("fork"),
        initializer=_start_worker,
        initargs=(url.render_as_string(hide_password=False),),
    ) as pool:
        yield from pool.map(_evaluate_batch, batches, [now] * len(batches))


class _Context:
    """What every batch of one sweep shares: the teams, their policies, who holds which role, and
    the stages to send at the sweep's instant."""

    def __init__(self, session: Session, now: datetime) -> None:
        teams = session.execute(select(Team.id, Team.policy_id)).all()
        self.policies = {team_id: load_policy(policy_id) for team_id, policy_id in teams}
        self.digests = {policy_id: _digest(load_policy(policy_id)) for policy_id in {p for _, p in teams}}
        self.digest_of = {team_id: self.digests[policy_id] for team_id, policy_id in teams}
        self.recipients: Recipients | None = None  # read once there is a child to sweep
        self.stages = StagesAt(now)

    def load_recipients(self, session: Session) -> None:
        self.recipients = Recipients(session)


_OUTBOX = Outbox.__table__
_STATE = ChildSweepState.__table__
_UPDATE_STATE = _STATE.update().where(_STATE.c.child_id == bindparam("id"))
_digests: dict[int, tuple[Policy, str]] = {}  # by id of the (cached) policy, kept alive here


def _digest(policy: Policy) -> str:
    known = _digests.get(id(policy))
    if known is None or known[0] is not policy:
        known = _digests[id(policy)] = (policy, policy_digest(policy))
    return known[1]


def _sweep_batch(
    session: Session,
    ids: Sequence[int],
    now: datetime,
    report: SweepReport,
    context: _Context,
    evaluated: Evaluated | None = None,
) -> None:
    # Plain rows and Core statements throughout (not the ORM's: nothing here is an ORM object, and
    # its result processing cost more than the queries): a cold sweep handles 100,000 children.
    connection = session.connection()
    children = {
        c.id: c
        for c in connection.execute(
            select(
                Child.id,
                Child.case_ref,
                Child.initials,
                Child.team_id,
                Child.lead_social_worker_id,
                Child.facts_version,
            ).where(among(session, Child.id, ids))
        ).all()
    }
    policies = context.policies
    recipients = context.recipients
    assert recipients is not None
    if evaluated is None:
        evaluated = _evaluate(
            session, ids, now, {i: (policies[c.team_id], c.facts_version) for i, c in children.items()}
        )
    swept: dict[int, datetime] = dict(
        connection.execute(  # type: ignore[arg-type]
            select(ChildSweepState.child_id, ChildSweepState.last_swept_at).where(
                among(session, ChildSweepState.child_id, ids)
            )
        ).all()
    )
    # Acknowledgements of the batch's children: of a prompt (its obligation key) they stop the
    # ladder; of a reminder message (its outbox key, "Snooze until tomorrow") they postpone the
    # obligation's reminders to the next working morning.
    acknowledged: set[str] = set()
    snoozed: dict[str, datetime] = {}
    for key, at in connection.execute(
        select(Acknowledgement.key, Acknowledgement.at).where(among(session, Acknowledgement.child_id, ids))
    ):
        acknowledged.add(key)
        ob_key = key.rsplit(":", 2)[0]  # an outbox key is the obligation key + stage + recipient
        snoozed[ob_key] = max(snoozed.get(ob_key, at), at)
    # The stages whose time has come, and the next threshold of each child: at once for all but
    # the prompts, whose stages depend on when they first went (read below for all of them).
    stages_at = context.stages
    thresholds: dict[int, datetime] = {}
    rows: dict[str, dict[str, Any]] = {}  # the unevaluable children's notices, then the stages'
    # Each obligation with stages to send, and each prompt with its outbox keys (None: not a prompt)
    sending: list[tuple[Any, Policy, Obligation, list[Stage], list[str] | None]] = []
    for child_id, (obligations, _, _) in evaluated.items():
        child = children[child_id]
        policy = policies[child.team_id]
        if isinstance(obligations, Unevaluable):
            report.unevaluable.append(child.case_ref)
            report.overdue_by_child[child_id] = {}
            log.warning("no deadlines for %s: %s", child.case_ref, obligations.reason)
            for row in unevaluable_rows(child, obligations, recipients, now):
                rows[row["key"]] = row
            continue
        report.evaluated += 1
        overdue: dict[str, int] = {}
        soonest = None
        for ob in obligations:
            if ob.status == "overdue":
                overdue[ob.rule] = overdue.get(ob.rule, 0) + 1
            if is_prompt(ob):
                keys = [row_key(ob, "prompt", r) for r in recipients.role(child, ob.owner)]
                sending.append((child, policy, ob, [], keys))
                continue
            if snoozed and ob.key in snoozed and policy.reminders.snooze_allowed:
                at = snoozed[ob.key]
                stages, upcoming = stages_at(policy, ob, None, False, (at, snoozed_until(policy, at)))
            else:
                stages, upcoming = stages_at(policy, ob, None, False)
            if upcoming is not None and (soonest is None or upcoming < soonest):
                soonest = upcoming
            if stages:
                sending.append((child, policy, ob, stages, None))
        if soonest is not None:
            thresholds[child_id] = soonest
        report.overdue_by_child[child_id] = overdue
        report.obligations += len(obligations)
    # What was sent before: the prompts' first times.
    prompt_keys = [k for *_, keys in sending if keys is not None for k in keys]
    prompted: dict[str, datetime] = {}
    if prompt_keys:
        prompted.update(
            connection.execute(  # type: ignore[arg-type]
                select(Outbox.key, Outbox.send_after).where(among(session, Outbox.key, prompt_keys))
            ).all()
        )
    for child, policy, ob, stages, keys in sending:
        if keys is not None:
            first = [prompted[k] for k in keys if k in prompted]
            stages, upcoming = stages_at(policy, ob, min(first) if first else None, ob.key in acknowledged)
            t = thresholds.get(child.id)
            if upcoming is not None and (t is None or upcoming < t):
                thresholds[child.id] = upcoming
        for stage in stages:
            for role in stage.to:
                for r in recipients.for_obligation(child, ob, role):
                    row = outbox_row(child, policy, ob, stage, r, now, swept.get(child.id))
                    rows[row["key"]] = row
    existing = set(connection.scalars(select(Outbox.key).where(among(session, Outbox.key, list(rows)))))
    new_rows = [row for key, row in rows.items() if key not in existing]
    insert_rows(connection, _OUTBOX, new_rows)
    for row in new_rows:
        report.written += 1
        report.late += row["late"]
        report.keys.append(row["key"])
    updates, inserts = [], []
    for child_id, (_, threshold, version) in evaluated.items():
        child = children[child_id]
        stage = thresholds.get(child_id)
        if stage is not None and (threshold is None or stage < threshold):
            threshold = stage
        state = {
            "child_id": child_id,
            "facts_version_seen": version,
            "next_threshold_at": threshold,
            "last_swept_at": now,
            "policy_digest": context.digest_of[child.team_id],
        }
        (updates if child_id in swept else inserts).append(state)
    # Core statements, not the ORM's bulk ones: a cold sweep writes a row for every child
    insert_rows(connection, _STATE, inserts)
    if updates:
        connection.execute(_UPDATE_STATE, [{"id": u.pop("child_id"), **u} for u in updates])
