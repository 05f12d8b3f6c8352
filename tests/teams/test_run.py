"""Issue 12: `seen run` delivers through the Teams messenger when Teams is configured, as `seen
serve` does; both platforms, or half of Teams's three values, stop it with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.teams.conversations import Reference, remember
from bot.teams.server import messenger_for
from scheduler.loop import Runtime
from scheduler.outbox import pending_row
from storage.models import Outbox, Staff, Team
from tests.teams.conftest import TENANT, settings_for

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
WORKER = "aad-worker-run"
TEAMS = {"TEAMS_CLIENT_ID": "app", "TEAMS_CLIENT_SECRET": "s", "TEAMS_TENANT_ID": "t"}


def test_the_scheduler_delivers_an_outbox_reminder_through_teams(factory, connector):
    """The scheduler's Runtime (what `seen run` runs) with the Teams messenger `seen run` builds
    sends a due reminder as a 1:1 card through the Bot Connector and stores its reference."""
    remember(
        factory,
        Reference("personal", connector.open("a:chat-run"), connector.url, TENANT, aad_object_id=WORKER),
    )
    with factory.begin() as session:
        team = Team(name="North", policy_id="hillingdon", slack_channel_id="19:north@thread.tacv2")
        session.add(team)
        session.flush()
        worker = Staff(name="W", role="social_worker", chat_user_id=WORKER, team_id=team.id)
        session.add(worker)
        session.flush()
        row = pending_row(
            key="k-run",
            stage="reminder",
            recipient_staff_id=worker.id,
            recipient_channel=None,
            text="*C-1042* (A.B.) home visit due by Tue 24 Nov (HI-VISIT-20WD)",
            payload={"to": "lead social worker"},
            now=NOW,
            late=False,
        )
        session.execute(insert(Outbox), [row])
    messenger = messenger_for(
        settings_for(connector), factory, token=lambda scope, tenant: connector.bot_token
    )
    try:
        report = Runtime(factory, messenger, holder="run-test").deliver_step(NOW)
    finally:
        messenger.close()
    assert (report.sent, report.parked) == (1, 0)
    (call,) = connector.activity_calls()
    assert (call.method, call.path, call.status) == ("POST", "/v3/conversations/a:chat-run/activities", 201)
    assert call.body["text"] == "C-1042 (A.B.) home visit due by Tue 24 Nov (HI-VISIT-20WD)"
    with factory() as session:
        stored = session.scalar(select(Outbox).where(Outbox.key == "k-run"))
        assert stored.status == "sent" and stored.message_ref.startswith("a:chat-run|")


def _seen_run(**env_values: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(env_values, SEEN_DATABASE_URL="sqlite:///" + str(ROOT / "var" / "never-opened.sqlite"))
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "run", "--no-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {
                "TEAMS_CLIENT_ID": "app",
                "TEAMS_CLIENT_SECRET": "s",
                "TEAMS_TENANT_ID": "t",
                "SLACK_BOT_TOKEN": "x",
            },
            "seen run: both Slack (SLACK_BOT_TOKEN) and Teams (TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET, "
            "TEAMS_TENANT_ID) are configured: Seen serves one platform per deployment, so unset one",
        ),
        (
            {"TEAMS_CLIENT_ID": "app"},
            "seen run: Teams: set TEAMS_CLIENT_SECRET, TEAMS_TENANT_ID (the Entra app registration's values)",
        ),
    ],
)
def test_seen_run_with_both_platforms_or_half_of_teams_stops_with_one_line(env, line):
    result = _seen_run(**env)
    assert result.returncode == 2
    assert result.stderr.strip() == line
    assert not (ROOT / "var" / "never-opened.sqlite").exists()
