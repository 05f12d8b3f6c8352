"""Which chat platform a deployment serves, from its environment: one platform per deployment
(DESIGN.md). Teams needs its three values, Slack its tokens; both, or half of Teams, stop the
start with one line saying what to set or unset."""

from __future__ import annotations

import os
from collections.abc import Mapping

TEAMS_VARS = ("TEAMS_CLIENT_ID", "TEAMS_CLIENT_SECRET", "TEAMS_TENANT_ID")
SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")


def platform(env: Mapping[str, str] = os.environ) -> str:
    """ "teams" or "slack" (Slack's own checks then name a missing token); RuntimeError otherwise."""
    teams = [name for name in TEAMS_VARS if env.get(name)]
    slack = [name for name in SLACK_VARS if env.get(name)]
    if teams and slack:
        raise RuntimeError(
            f"both Slack ({', '.join(slack)}) and Teams ({', '.join(teams)}) are configured: "
            "Seen serves one platform per deployment, so unset one"
        )
    if teams and len(teams) < len(TEAMS_VARS):
        missing = [name for name in TEAMS_VARS if name not in teams]
        raise RuntimeError(f"Teams: set {', '.join(missing)} (the Entra app registration's values)")
    return "teams" if teams else "slack"
