"""The walkthroughs' one fixture, `driver`: the same steps on Slack and on Teams, each platform's
real app over HTTP on a fresh SQLite database holding add_world's teams, staff and children, its
business clock at Mon 23 Nov 2026 11:00 London. The platform fixtures are the ones the Slack and
Teams tests use (tests/bot/conftest.py, tests/teams/conftest.py), not copies of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bot.conftest import clock, factory, fake, running, world  # noqa: F401  (fixtures)
from tests.teams.conftest import connector  # noqa: F401  (the fake Bot Connector fixture)
from tests.walkthrough.drivers import Driver
from tests.walkthrough.slack_driver import SlackDriver
from tests.walkthrough.teams_driver import TeamsDriver


@pytest.fixture(params=["slack", "teams"])
def driver(request: pytest.FixtureRequest) -> Iterator[Driver]:
    if request.param == "slack":
        yield SlackDriver(request.getfixturevalue("running"))
        return
    teams = TeamsDriver(
        request.getfixturevalue("connector"),
        request.getfixturevalue("world"),
        request.getfixturevalue("clock"),
    )
    yield teams
    teams.close()
