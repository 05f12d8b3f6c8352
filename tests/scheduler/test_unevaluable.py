"""A child the engine refuses (here a plan interval above Central Bedfordshire's floor of 10
working days, CB-VISIT-10WD's CaseError) must not stop the sweep: every other child gets exactly
the messages it would have got, the child's team manager is told once that Seen sends nothing
for this child until the record is put right, and once it is, the child is swept as any other."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import scheduler.sweep as sweep_module
from scheduler.evaluation import INTERNAL, Unevaluable, evaluate_child
from scheduler.metrics import record_sweep
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.sweep import UNEVALUABLE_STAGE, sweep
from storage.demo import load_demo
from storage.models import Child, ChildOverdueSummary, ChildSweepState, Outbox, Plan, Staff

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
BAD = "C-2003"


def _outbox(factory: sessionmaker[Session]) -> dict[str, Outbox]:
    with factory() as s:
        return {row.key: row for row in s.scalars(select(Outbox))}


def _set_interval(factory: sessionmaker[Session], ref: str, days: int | None) -> None:
    with factory.begin() as s:
        child = s.scalar(select(Child).where(Child.case_ref == ref))
        assert child is not None
        s.execute(update(Plan).where(Plan.child_id == child.id).values(visit_interval_working_days=days))
        child.facts_version += 1


@pytest.mark.parametrize("workers", [False, True], ids=["one process", "worker processes"])
def test_one_bad_record_does_not_stop_the_others_cb_visit_10wd(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, workers: bool
) -> None:
    with factory.begin() as s:
        load_demo(s, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    reference = sweep(factory, NOW)
    expected = {k for k in _outbox(factory) if not k.startswith(f"{BAD}:")}
    assert reference.unevaluable == [] and expected

    with factory.begin() as s:
        s.execute(Outbox.__table__.delete())
        s.execute(ChildSweepState.__table__.delete())
    _set_interval(factory, BAD, 99)
    if workers:
        monkeypatch.setattr(sweep_module, "BATCH", 2)
        monkeypatch.setattr(sweep_module, "PARALLEL_MIN_BATCHES", 2)
    report = sweep(factory, NOW)
    assert report.unevaluable == [BAD]
    rows = _outbox(factory)
    assert {k for k in rows if not k.startswith(f"{BAD}:")} == expected  # the others, exactly
    alerts = [r for r in rows.values() if r.stage == UNEVALUABLE_STAGE]
    with factory() as s:
        manager = s.scalar(
            select(Staff.id)
            .join(Child, Child.team_id == Staff.team_id)
            .where(Child.case_ref == BAD, Staff.role == "team_manager")
        )
    assert [a.recipient_staff_id for a in alerts] == [manager]
    assert "cannot work out deadlines" in alerts[0].text and BAD in alerts[0].text
    assert "plan.visit_interval_working_days: 99 is above the floor of 10" in alerts[0].text
    assert [k for k in rows if k.startswith(f"{BAD}:")] == [alerts[0].key]  # nothing else for the child

    # The next sweeps, the same night's included, tell nobody again.
    assert sweep(factory, NOW + timedelta(minutes=5)).written == 0
    assert sweep(factory, NOW + timedelta(days=1)).unevaluable == [BAD]
    assert {k for k in _outbox(factory) if k.startswith(f"{BAD}:")} == {alerts[0].key}

    # Put right: the child is evaluated at the next sweep and gets its messages.
    _set_interval(factory, BAD, None)
    fixed = sweep(factory, NOW + timedelta(days=1, minutes=5))
    assert fixed.unevaluable == [] and fixed.evaluated == 1
    assert any(k.startswith(f"{BAD}:CB-") for k in fixed.keys)


def test_metrics_skip_a_child_the_engine_refuses(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        load_demo(s, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    _set_interval(factory, BAD, 99)
    record_sweep(factory, NOW, sweep(factory, NOW), budget_seconds=0)
    with factory() as s:
        summaries = s.scalar(select(ChildOverdueSummary.child_id).limit(1))
    assert summaries is not None  # the overdue summary was written despite the bad record


def test_a_fault_in_the_engine_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    import scheduler.evaluation as evaluation
    from scheduler.policies import load_policy
    from tests.rules.builders import case

    def broken(*_: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(evaluation, "evaluate", broken)
    assert evaluate_child(load_policy("hillingdon"), case("2026-11-02"), NOW) == Unevaluable(INTERNAL)


def test_the_due_list_and_the_child_view_say_why_cb_visit_10wd(factory: sessionmaker[Session]) -> None:
    """The team's due list (and the lead worker's) put the child first, under Overdue, with the
    reason; `/seen child` says the same; the other children's lines are still there."""
    from bot.core import caseview
    from scheduler.duelist import write_due_lists

    with factory.begin() as s:
        load_demo(s, as_of=date(2026, 12, 22), policies=bundled_catalogue())
    _set_interval(factory, BAD, 99)
    morning = datetime(2026, 12, 22, 8, 30, tzinfo=UTC)
    with factory.begin() as s:
        assert write_due_lists(s, morning) > 0
    lists = [r for r in _outbox(factory).values() if r.stage == "due-list" and BAD in r.text]
    assert len(lists) == 2  # the team's channel and the lead social worker
    for row in lists:
        overdue = row.text.split("_Overdue_", 1)[1]
        assert overdue.split("\n")[1].startswith(f"• {BAD} ") and "cannot work out deadlines" in overdue
    with factory() as s:
        child = s.scalar(select(Child).where(Child.case_ref == BAD))
        text = caseview.child_text(s, child, NOW)
        lead = s.get(Staff, child.lead_social_worker_id)
        mine = caseview.my_due_text(s, lead, NOW)
        team = caseview.team_due_text(s, lead, NOW)
    assert "Seen cannot work out deadlines: plan.visit_interval_working_days: 99" in text
    assert mine.split("\n")[1].startswith(f"• *OVERDUE* {BAD} ") and "cannot work out deadlines" in mine
    overdue = team.split("_Overdue_", 1)[1].split("\n")[1]
    assert overdue.startswith(f"• {BAD} ") and "cannot work out deadlines" in overdue
    assert "C-2004" in team  # the rest of the team is still listed
