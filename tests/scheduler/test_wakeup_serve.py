"""The wake-up end to end: a not-seen visit logged with a signed `/seen log` at a real `seen serve`
reaches the team manager as a prompt (RULES.md CB-NOTSEEN-DISCUSS) within seconds, the interval
sweep set to an hour: `seen serve` with its scheduler, and `seen serve --no-scheduler` beside
`seen run` (the file poll on SQLite, LISTEN/NOTIFY on PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.metrics import LAST_SWEEP
from storage.models import Child, Plan, SchedulerState, Staff, Team
from tests.bot.conftest import ROOT, TOKEN, SlackSender, free_port, seen_at_home, serve_env, wait_for_health
from tests.bot.fake_slack import FakeSlack
from tests.scheduler.test_wakeup import PROMPT, wait_until

SEEN = [sys.executable, "-m", "scheduler.cli"]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack(TOKEN).start()
    yield server
    server.stop()


def a_team(factory: sessionmaker[Session]) -> None:
    """A Central Bedfordshire team (worker U0SW, manager U0TM) and C-1042, seen at home a week ago."""
    seen = datetime.now(UTC) - timedelta(days=7)
    with factory.begin() as s:
        team = Team(name="North CP", slack_channel_id="C0NORTH", policy_id="central-bedfordshire")
        s.add(team)
        s.flush()
        staff = {}
        for chat, role in (("U0SW", "social_worker"), ("U0TM", "team_manager")):
            staff[role] = Staff(
                name=f"Staff {chat}",
                chat_user_id=chat,
                role=role,
                qualified_registered=True,
                team_id=team.id,
                active=True,
            )
            s.add(staff[role])
        s.flush()
        child = Child(
            case_ref="C-1042",
            initials="AB",
            date_of_birth=date(2019, 3, 1),
            team_id=team.id,
            lead_social_worker_id=staff["social_worker"].id,
            facts_version=0,
        )
        s.add(child)
        s.flush()
        s.add(Plan(child_id=child.id, started=seen.date() - timedelta(days=20), plan_number=1))
        s.add(seen_at_home(child.id, staff["social_worker"].id, seen))


def prompted(fake: FakeSlack) -> list[str]:
    keys = [
        str(((c.body.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
        for c in fake.of("chat.postMessage")
    ]
    return [k for k in keys if k.startswith(f"C-1042:{PROMPT}:") and ":prompt:" in k]


def swept(factory: sessionmaker[Session]) -> bool:
    with factory() as session:
        return session.get(SchedulerState, LAST_SWEEP) is not None


@pytest.mark.parametrize("processes", [1, 2])
def test_a_not_seen_visit_logged_in_slack_reaches_the_manager_within_seconds(
    processes: int, db_url: str, factory: sessionmaker[Session], fake: FakeSlack
) -> None:
    a_team(factory)
    port = free_port()
    env = {**serve_env(fake, db_url), "SEEN_SWEEP_MINUTES": "60", "SEEN_RETENTION_PURGE": "off"}
    serve = [*SEEN, "serve", "--host", "127.0.0.1", "--port", str(port)]
    commands = [[*serve, "--no-scheduler"], [*SEEN, "run", "--no-demo"]] if processes == 2 else [serve]
    with ExitStack() as stack:
        started = []
        for command in commands:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            stack.callback(process.wait, 10)
            stack.callback(process.terminate)
            started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, started[0], 60)
        assert wait_until(lambda: swept(factory), 60), "the start-up sweep did not run"
        time.sleep(1.0)  # the SQLite poll has read the file's version after the start-up sweep
        assert prompted(fake) == []
        reply = SlackSender(url, fake).command("U0SW", "log C-1042 not-seen")
        assert reply.status == 200
        assert wait_until(lambda: prompted(fake)), "no prompt within 10 s"  # the next sweep: 1 h
    [key] = prompted(fake)
    assert key.endswith(":prompt:s2")  # the team manager (staff 2)
