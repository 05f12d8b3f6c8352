"""Issue 12: `seen serve` picks the platform from the environment; both platforms, or half of
Teams's three values, stop the start with one clear line (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.platform import platform

ROOT = Path(__file__).resolve().parents[2]
TEAMS = {"TEAMS_CLIENT_ID": "app", "TEAMS_CLIENT_SECRET": "secret", "TEAMS_TENANT_ID": "tenant"}


def test_teams_when_its_three_values_are_set_else_slack() -> None:
    assert platform(TEAMS) == "teams"
    assert platform({"SLACK_BOT_TOKEN": "xoxb-1"}) == "slack"
    assert platform({}) == "slack"  # Slack's own check then names SLACK_BOT_TOKEN


def test_half_a_teams_configuration_names_what_is_missing() -> None:
    with pytest.raises(RuntimeError, match=r"^Teams: set TEAMS_CLIENT_SECRET, TEAMS_TENANT_ID \(the Entra"):
        platform({"TEAMS_CLIENT_ID": "app"})


def test_seen_serve_with_both_platforms_stops_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update(TEAMS, SLACK_BOT_TOKEN="xoxb-1")
    result = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "serve", "--no-scheduler"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "seen serve: both Slack (SLACK_BOT_TOKEN) and Teams (TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET, "
        "TEAMS_TENANT_ID) are configured: Seen serves one platform per deployment, so unset one"
    )
