"""The walkthroughs' one fixture, `driver`: the same steps on Slack and on Teams, each platform's
real app over HTTP on a fresh SQLite database holding add_world's teams, staff and children, its
business clock at Mon 23 Nov 2026 11:00 London. The platform fixtures are the ones the Slack and
Teams tests use (tests/bot/conftest.py, tests/teams/conftest.py), not copies of them; the slowest
step, migrating a database, is done once and each walkthrough gets a copy."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, session_factory, upgrade
from tests.bot.conftest import clock, fake, running, world  # noqa: F401  (fixtures)
from tests.teams.conftest import connector  # noqa: F401  (the fake Bot Connector fixture)
from tests.walkthrough.drivers import Driver
from tests.walkthrough.slack_driver import SlackDriver
from tests.walkthrough.teams_driver import TeamsDriver


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the newest migration, made once for every walkthrough."""
    path = tmp_path_factory.mktemp("walkthrough") / "migrated.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def factory(migrated: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A copy of the migrated database for one walkthrough (what tests/bot/conftest.py's `factory`
    gives, without migrating again)."""
    path = tmp_path / "seen.sqlite"
    with sqlite3.connect(migrated) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    path.chmod(0o600)  # as `seen` expects its database file (storage.db warns when others can read it)
    engine = make_engine(f"sqlite:///{path}")
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(params=["slack", "teams"])
def driver(request: pytest.FixtureRequest) -> Iterator[Driver]:
    if request.param == "slack":
        yield SlackDriver(request.getfixturevalue("running"))
        return
    fixture = request.getfixturevalue
    teams = TeamsDriver(fixture("connector"), fixture("world"), fixture("clock"))
    yield teams
    teams.close()
