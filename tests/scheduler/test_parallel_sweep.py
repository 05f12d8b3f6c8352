"""A large sweep evaluates its batches in worker processes (`scheduler.sweep._evaluations`); what
it writes must be exactly what one process writes. Batches are made tiny here so that the demo
caseload takes the worker path."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import scheduler.sweep as sweep_module
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.sweep import sweep
from storage.demo import load_demo
from storage.models import Child, ChildSweepState, Outbox

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
_evaluate_batch = sweep_module._evaluate_batch
_pids: list[Path] = []  # where the spy notes which process evaluated each batch


def _spy(ids: list[int], now: datetime):  # type: ignore[no-untyped-def]
    with _pids[0].open("a") as f:
        f.write(f"{os.getpid()}\n")
    return _evaluate_batch(ids, now)


def _written(factory: sessionmaker[Session]) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with factory() as session:
        outbox = session.execute(
            select(
                Outbox.key, Outbox.recipient_staff_id, Outbox.recipient_channel, Outbox.text, Outbox.late
            ).order_by(Outbox.key)
        ).all()
        states = session.execute(
            select(ChildSweepState.child_id, ChildSweepState.facts_version_seen)
            .add_columns(ChildSweepState.next_threshold_at)
            .order_by(ChildSweepState.child_id)
        ).all()
    return [tuple(r) for r in outbox], [tuple(r) for r in states]


def _forget(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        session.execute(Outbox.__table__.delete())
        session.execute(ChildSweepState.__table__.delete())


def test_worker_processes_write_what_one_process_writes(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CB-VISIT-10WD, HI-VISIT-20WD and the other rules of the demo caseload: the same outbox
    rows (keys, recipients, texts) and the same next thresholds either way."""
    if "fork" not in sweep_module.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        pytest.skip("worker processes need fork and two cores")
    with factory.begin() as session:
        load_demo(session, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    monkeypatch.setattr(sweep_module, "BATCH", 2)

    pids = tmp_path / "pids"
    monkeypatch.setattr(sweep_module, "_evaluate_batch", _spy)
    monkeypatch.setattr(sys.modules[__name__], "_pids", [pids])
    monkeypatch.setattr(sweep_module, "PARALLEL_MIN_BATCHES", 2)
    in_workers = sweep(factory, NOW)
    workers_wrote = _written(factory)
    used = set(pids.read_text().split())
    assert used and str(os.getpid()) not in used  # the batches really were evaluated elsewhere

    _forget(factory)
    monkeypatch.setattr(sweep_module, "PARALLEL_MIN_BATCHES", 10**9)
    in_process = sweep(factory, NOW)
    assert len(pids.read_text().split()) == in_workers.evaluated // 2 + in_workers.evaluated % 2
    assert workers_wrote[0]  # the demo caseload has messages due on 22 Dec
    assert (in_workers.evaluated, in_workers.written) == (in_process.evaluated, in_process.written)
    assert _written(factory) == workers_wrote


def test_a_fact_stored_after_a_worker_read_its_child_leaves_the_child_due(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CB-VISIT-10WD (the demo caseload): a worker reads a batch's facts, then a fact is stored
    (its child's facts version moves on) before this process writes the batch. The sweep records
    the version the worker read with the facts, so the child is due again, and the wake-up sweep
    of that fact evaluates it; recording the version current at the write would skip it until its
    next threshold."""
    with factory.begin() as session:
        load_demo(session, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    bind = factory.kw["bind"]
    sweep_module._start_worker(bind.url.render_as_string(hide_password=False))  # here, not forked
    changed: list[int] = []

    def read_then_a_fact(batches: list[list[int]], now: datetime):  # type: ignore[no-untyped-def]
        for ids in batches:
            evaluated = sweep_module._evaluate_batch(ids, now)
            with factory.begin() as session:  # a visit logged meanwhile
                session.execute(
                    update(Child).where(Child.id == ids[0]).values(facts_version=Child.facts_version + 1)
                )
            changed.append(ids[0])
            yield evaluated

    monkeypatch.setattr(sweep_module, "_evaluations", lambda _f, batches, now: read_then_a_fact(batches, now))
    sweep(factory, NOW)
    assert changed
    with factory() as session:
        due = set(sweep_module.children_to_sweep(session, NOW, False))
        seen = dict(
            session.execute(select(ChildSweepState.child_id, ChildSweepState.facts_version_seen)).all()
        )
        current = dict(session.execute(select(Child.id, Child.facts_version)).all())
    assert set(changed) <= due
    assert all(seen[c] == current[c] - 1 for c in changed)
    assert all(seen[c] == current[c] for c in seen if c not in changed)  # the others are not due
