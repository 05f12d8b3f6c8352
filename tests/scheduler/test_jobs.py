"""The jobs `seen run` and `seen serve` schedule (scheduler.loop.build_scheduler): the sweep at
start and every few minutes, on the dot at each policy's reminder morning (RULES.md reminders:
08:30 London, working days), delivery, and the daily retention purge."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session, sessionmaker

from scheduler.loop import DEFAULT_MORNINGS, Runtime, build_scheduler, policy_mornings
from scheduler.policy_catalogue import bundled_catalogue
from storage.demo import load_demo

FRIDAY_NOON = datetime(2026, 12, 18, 12, 0, tzinfo=UTC)


def test_mornings_come_from_the_teams_policies(factory: sessionmaker[Session]) -> None:
    assert policy_mornings(factory) == DEFAULT_MORNINGS  # no teams yet
    with factory.begin() as session:
        load_demo(
            session, as_of=date(2026, 12, 22), policies=bundled_catalogue()
        )  # a Central Bedfordshire and a Hillingdon team
    assert policy_mornings(factory) == frozenset({("Europe/London", time(8, 30))})


def test_a_morning_sweep_per_policy_morning_on_weekdays() -> None:
    runtime = Runtime(None, None, holder="x")  # type: ignore[arg-type]
    mornings = frozenset({("Europe/London", time(8, 30)), ("Europe/London", time(9, 0))})
    scheduler = build_scheduler(runtime, clock=lambda: FRIDAY_NOON, mornings=mornings, retention_at=None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"sweep", "deliver", "weekly", "morning-sweep-0", "morning-sweep-1"}
    nexts = sorted(
        jobs[i].trigger.get_next_fire_time(None, FRIDAY_NOON) for i in ("morning-sweep-0", "morning-sweep-1")
    )
    # Friday noon -> Monday 21 December (GMT: London is on UTC in winter)
    assert nexts == [datetime(2026, 12, 21, 8, 30, tzinfo=UTC), datetime(2026, 12, 21, 9, 0, tzinfo=UTC)]
