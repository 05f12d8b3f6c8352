"""The sweep evaluates a child again only when something can have changed for it (issue 13): its
facts, its policy, or its next threshold (the engine's next change, or the next stage of its open
obligations) having passed; not every child every night. Skipping the others loses nothing: over
a week of sweeps an hour apart (and at each reminder time), the outbox is exactly the one a sweep
of every child every time writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.policies import load_policy
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.rules.engine import evaluate
from scheduler.rules.next_change import policy_digest
from scheduler.sweep import sweep
from storage.cases import cases_for_children
from storage.db import session_factory, upgrade
from storage.demo import load_demo
from storage.models import Child, ChildSweepState, Outbox, Team

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
LONDON = load_policy("central-bedfordshire").timezone


def _demo(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        load_demo(s, as_of=date(2026, 12, 22), policies=bundled_catalogue())


def _messages(factory: sessionmaker[Session]) -> set[tuple[str, str, str]]:
    with factory() as s:
        return {(r.key, r.stage, r.send_after.isoformat()) for r in s.scalars(select(Outbox))}


def _states(factory: sessionmaker[Session]) -> dict[int, ChildSweepState]:
    with factory() as s:
        return {r.child_id: r for r in s.scalars(select(ChildSweepState))}


def _policies(factory: sessionmaker[Session]) -> dict[int, str]:
    with factory() as s:
        return dict(s.execute(select(Child.id, Team.policy_id).join(Team, Team.id == Child.team_id)).all())  # type: ignore[arg-type]


def _sqlite(path: str) -> sessionmaker[Session]:
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    return session_factory(engine)


def test_skipping_children_loses_no_message_over_a_week_of_hourly_sweeps(
    factory: sessionmaker[Session], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """CB-VISIT-10WD, CB-RECORD, CB-NOTSEEN-*, HI-* (the demo caseload, both policies): the sweep
    that skips children writes exactly what sweeping every child every time writes."""
    every = _sqlite(str(tmp_path / "every.sqlite"))
    _demo(factory)
    _demo(every)
    start = NOW
    moments = [start + timedelta(hours=h) for h in range(24 * 7)]
    for day in range(8):  # each reminder time, and the instants either side of midnight
        local_day = start.astimezone(LONDON).date() + timedelta(days=day)
        for clock in (time(8, 30), time(0, 0)):
            at = datetime.combine(local_day, clock, LONDON).astimezone(UTC)
            moments += [at, at + timedelta(seconds=1)]
    evaluated = total = 0
    for at in sorted(m for m in moments if m >= start):
        skipping = sweep(factory, at)
        full = sweep(every, at, full=True)
        assert _messages(factory) == _messages(every), f"at {at.isoformat()}"
        evaluated += skipping.evaluated
        total += full.evaluated
    assert len(_messages(factory)) > 20
    assert evaluated < total / 10, (evaluated, total)  # and it evaluated a tenth as often or less


def test_at_midnight_only_children_whose_obligations_change_are_evaluated(
    factory: sessionmaker[Session],
) -> None:
    """CB-VISIT-10WD, HI-VISIT-20WD (statuses move at midnight for some children only): the
    sweep just after the next local midnight evaluates the children whose threshold has passed,
    not all; every child it skips has the same obligations then as at the last sweep."""
    _demo(factory)
    first = sweep(factory, NOW)
    midnight = datetime.combine(NOW.astimezone(LONDON).date() + timedelta(days=1), time(), LONDON)
    states = _states(factory)
    due = {
        i for i, s in states.items() if s.next_threshold_at is not None and s.next_threshold_at <= midnight
    }
    report = sweep(factory, midnight)
    assert report.evaluated == len(due) < first.evaluated
    policies = _policies(factory)
    with factory() as s:
        cases = cases_for_children(s, list(states), free_text=False)
    for child_id, case in cases.items():
        if child_id in due:
            continue
        policy = load_policy(policies[child_id])
        assert evaluate(policy, case, midnight) == evaluate(policy, case, NOW), child_id


def test_a_child_is_swept_again_when_its_facts_change(factory: sessionmaker[Session]) -> None:
    _demo(factory)
    sweep(factory, NOW)
    assert sweep(factory, NOW + timedelta(minutes=5)).evaluated == 0
    with factory.begin() as s:
        child_id = s.scalar(select(Child.id).order_by(Child.id).limit(1))
        s.execute(update(Child).where(Child.id == child_id).values(facts_version=Child.facts_version + 1))
    assert sweep(factory, NOW + timedelta(minutes=10)).evaluated == 1


def test_a_child_is_swept_again_when_its_policy_changes(factory: sessionmaker[Session]) -> None:
    """A team moved to another policy, or a policy file changed (its digest differs from the one
    the child was swept under): those children are evaluated again, the others are not."""
    _demo(factory)
    sweep(factory, NOW)
    states = _states(factory)
    policies = _policies(factory)
    assert {s.policy_digest for s in states.values()} == {
        policy_digest(load_policy(p)) for p in set(policies.values())
    }
    cb_children = {i for i, p in policies.items() if p == "central-bedfordshire"}
    with factory.begin() as s:
        s.execute(
            update(ChildSweepState)
            .where(ChildSweepState.child_id.in_(cb_children))
            .values(policy_digest="swept under an older file")
        )
    assert sweep(factory, NOW + timedelta(minutes=5)).evaluated == len(cb_children) > 0
    assert sweep(factory, NOW + timedelta(minutes=10)).evaluated == 0
    with factory.begin() as s:
        team_id = s.scalar(select(Team.id).where(Team.policy_id == "hillingdon").order_by(Team.id).limit(1))
        moved = set(s.scalars(select(Child.id).where(Child.team_id == team_id)))
        s.execute(update(Team).where(Team.id == team_id).values(policy_id="central-bedfordshire"))
    assert sweep(factory, NOW + timedelta(minutes=15)).evaluated == len(moved) > 0


def test_a_sweep_of_chosen_children_looks_at_those_only(factory: sessionmaker[Session]) -> None:
    _demo(factory)
    with factory() as s:
        ids = list(s.scalars(select(Child.id).order_by(Child.id)))
    report = sweep(factory, NOW, child_ids=ids[:2])
    assert report.evaluated == 2
    assert set(_states(factory)) == set(ids[:2])
    assert sweep(factory, NOW, child_ids=ids[:2]).evaluated == 0  # nothing changed for them
    assert sweep(factory, NOW, child_ids=ids[:2], full=True).evaluated == 2
    assert sweep(factory, NOW).evaluated == len(ids) - 2
