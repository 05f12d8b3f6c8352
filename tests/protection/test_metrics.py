"""Metrics from the database on scrape (outbox depth, oldest undelivered age, parked, last sweep,
overdue obligations by rule) and the health check that fails when the sweep has stopped."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler import metrics
from scheduler.loop import Runtime
from scheduler.messenger import DeliveryError, OutgoingMessage
from scheduler.policies import load_policy
from scheduler.rules.engine import evaluate
from storage.cases import cases_for_children
from storage.db import session_factory
from storage.demo import DEMO_AS_OF
from storage.models import Child, ChildOverdueSummary, Outbox, SchedulerState, Team
from tests.protection.helpers import load_demo_at

NOW = DEMO_AS_OF


class Chat:
    """Takes most messages; parks the due lists, and is down for anything to team channels."""

    def send(self, message: OutgoingMessage) -> str:
        if message.key.startswith("duelist:staff"):
            raise DeliveryError("not allowed", retryable=False)
        if message.to_channel:
            raise DeliveryError("service unavailable")
        return f"ok:{message.key}"


def scrape(
    factory: sessionmaker[Session], now: Any = None
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render(factory, now).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def overdue_by_rule(factory: sessionmaker[Session], now: Any) -> Counter[str]:
    """Evaluated directly, for comparison."""
    counts: Counter[str] = Counter()
    with factory() as session:
        children = session.execute(
            select(Child.id, Team.policy_id).join(Team).where(Child.closed_at.is_(None))
        ).all()
        cases = cases_for_children(session, [c for c, _ in children])
        for child_id, policy_id in children:
            if child_id in cases:
                for ob in evaluate(load_policy(policy_id), cases[child_id], now):
                    if ob.status == "overdue":
                        counts[ob.rule] += 1
    return counts


@pytest.fixture
def swept(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    load_demo_at(factory)
    Runtime(factory, Chat(), holder="test").tick(NOW)
    return factory


def test_metrics_after_a_sweep(swept: sessionmaker[Session]) -> None:
    factory = swept
    later = NOW + timedelta(minutes=10)
    m = scrape(factory, later)
    with factory() as session:
        status = dict(session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
        oldest = session.scalar(select(func.min(Outbox.send_after)).where(Outbox.status == "pending"))
    assert status["pending"] and status["sent"] and status["parked"]  # the set-up has all three
    assert m[("seen_database_up", ())] == 1
    for s in ("pending", "sent", "parked"):
        assert m[("seen_outbox_messages", (("status", s),))] == status[s]
    assert m[("seen_outbox_parked_messages", ())] == status["parked"]
    assert m[("seen_outbox_oldest_pending_age_seconds", ())] == (later - oldest).total_seconds()
    assert m[("seen_last_sweep_timestamp_seconds", ())] == NOW.timestamp()
    assert m[("seen_last_sweep_age_seconds", ())] == 600
    assert m[("seen_last_sweep_duration_seconds", ())] >= 0
    assert m[("seen_last_sweep_children_evaluated", ())] == 12
    expected = overdue_by_rule(factory, NOW)
    assert expected  # the demo has overdue work
    got = {labels[0][1]: v for (name, labels), v in m.items() if name == "seen_overdue_obligations"}
    assert got == dict(expected)
    assert m[("seen_overdue_summary_stale_children", ())] == 0


def test_metrics_carry_no_personal_data(swept: sessionmaker[Session]) -> None:
    text = metrics.render(swept).decode()
    with swept() as session:
        refs = session.scalars(select(Child.case_ref)).all()
        initials = session.scalars(select(Child.initials)).all()
    for value in [*refs, *initials, "example.org"]:
        assert value not in text


def test_overdue_counts_follow_new_sweeps(swept: sessionmaker[Session]) -> None:
    """A child's overdue obligations are counted again when the sweep evaluates them again."""
    factory = swept
    runtime = Runtime(factory, Chat(), holder="test")
    day_after = NOW + timedelta(days=1, hours=1)  # past midnight: every child is evaluated again
    runtime.tick(day_after)
    got = {
        labels[0][1]: v
        for (name, labels), v in scrape(factory, day_after).items()
        if name == "seen_overdue_obligations"
    }
    assert got == dict(overdue_by_rule(factory, day_after))
    with factory.begin() as session:  # a closed case no longer counts
        first = session.scalar(select(Child.id).order_by(Child.id))
        session.execute(update(Child).where(Child.id == first).values(closed_at=day_after))
    runtime.tick(day_after + timedelta(minutes=5))
    total = sum(v for (name, _), v in scrape(factory).items() if name == "seen_overdue_obligations")
    assert total == sum(overdue_by_rule(factory, day_after + timedelta(minutes=5)).values())


def test_a_large_backlog_is_refreshed_over_several_sweeps(
    swept: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = swept
    with factory.begin() as session:
        session.execute(ChildOverdueSummary.__table__.delete())
    monkeypatch.setattr(metrics, "BATCH", 5)
    report = type("Report", (), {"seconds": 0.1, "evaluated": 12})()
    metrics.record_sweep(factory, NOW, report, budget_seconds=0)  # one batch per call
    assert scrape(factory)[("seen_overdue_summary_stale_children", ())] == 7
    metrics.record_sweep(factory, NOW, report, budget_seconds=0)
    metrics.record_sweep(factory, NOW, report, budget_seconds=0)
    m = scrape(factory)
    assert m[("seen_overdue_summary_stale_children", ())] == 0
    got = {labels[0][1]: v for (name, labels), v in m.items() if name == "seen_overdue_obligations"}
    assert got == dict(overdue_by_rule(factory, NOW))


def test_recording_never_breaks_the_sweep(
    swept: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    broken = session_factory(create_engine("sqlite:////nonexistent-dir/x/y.sqlite"))
    metrics.record_sweep(broken, NOW, object())  # logs, does not raise
    assert "could not record the sweep's metrics" in caplog.text


def test_health_ok_after_a_sweep_and_failing_when_it_stops(swept: sessionmaker[Session]) -> None:
    ok, details = metrics.health(swept, NOW + timedelta(minutes=5))
    assert ok and details["database"] == "ok" and details["sweep"] == "ok"
    assert details["sweep_age_seconds"] == 300 and details["max_sweep_age_seconds"] == 15 * 60
    ok, details = metrics.health(swept, NOW + timedelta(minutes=16))
    assert not ok and details["sweep"] == "overdue"
    ok, _ = metrics.health(swept, NOW + timedelta(minutes=16), max_sweep_age=timedelta(hours=1))
    assert ok


def test_health_default_follows_the_sweep_interval(
    swept: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEN_SWEEP_MINUTES", "10")
    assert metrics.default_max_sweep_age() == timedelta(minutes=30)
    assert metrics.health(swept, NOW + timedelta(minutes=25))[0]
    assert not metrics.health(swept, NOW + timedelta(minutes=31))[0]


def test_health_fails_before_any_sweep(factory: sessionmaker[Session]) -> None:
    ok, details = metrics.health(factory, NOW)
    assert not ok and details["sweep"] == "never swept"


def test_health_and_metrics_when_the_database_is_unreachable() -> None:
    engine = create_engine("postgresql+psycopg://seen@127.0.0.1:1/seen", connect_args={"connect_timeout": 2})
    factory = session_factory(engine)
    ok, details = metrics.health(factory, NOW)
    assert not ok and details["database"] == "unreachable" and details["error"] == "OperationalError"
    m = scrape(factory)
    assert m == {("seen_database_up", ()): 0}


def test_health_by_the_real_clock(swept: sessionmaker[Session]) -> None:
    """What the HTTP server's /healthz reports: the real clock, (ok, details)."""
    with swept.begin() as session:  # the last sweep an hour ago by the real clock
        row = session.get(SchedulerState, metrics.LAST_SWEEP)
        row.updated_at = datetime.now(UTC) - timedelta(hours=1)
    ok, details = metrics.health(swept, max_sweep_age=timedelta(hours=2))
    assert ok is True and details["database"] == "ok"
    assert metrics.health(swept)[0] is False  # default: 3 x 5 minutes


def test_last_sweep_is_recorded_in_scheduler_state(swept: sessionmaker[Session]) -> None:
    with swept() as session:
        row = session.get(SchedulerState, metrics.LAST_SWEEP)
        assert row is not None and row.updated_at == NOW
        figures = json.loads(row.value)
        assert figures["evaluated"] == 12 and figures["at"] == NOW.isoformat()
        overdue = json.loads(session.get(SchedulerState, metrics.OVERDUE).value)
        assert overdue["stale"] == 0 and overdue["rules"]


def test_a_sweep_report_with_overdue_counts_is_not_evaluated_again(
    swept: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = swept
    with factory() as session:
        ids = session.scalars(select(Child.id)).all()
    with factory.begin() as session:
        session.execute(ChildOverdueSummary.__table__.delete())

    def no_evaluation(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("evaluated again")

    monkeypatch.setattr("scheduler.rules.engine.evaluate", no_evaluation)
    report = type(
        "Report",
        (),
        {"seconds": 0.1, "evaluated": len(ids), "overdue_by_child": {i: {"CB-VISIT-10WD": 1} for i in ids}},
    )()
    metrics.record_sweep(factory, NOW, report)
    m = scrape(factory)
    assert m[("seen_overdue_obligations", (("rule", "CB-VISIT-10WD"),))] == len(ids)
    assert m[("seen_overdue_summary_stale_children", ())] == 0
