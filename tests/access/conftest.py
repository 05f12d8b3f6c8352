"""The real Bolt app over HTTP (uvicorn, signed requests, the fake Slack Web API) on a module's
own SQLite database, with a member of staff for every role, in the North team and (for the roles
that may have none) in no team. tests/bot/conftest.py builds the world; this adds the people."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.app import build_app
from bot.server import SeenASGI, database_health
from storage.db import make_engine, session_factory, upgrade
from storage.models import Staff, Team
from tests.bot.conftest import SECRET, TOKEN, Clock, Running, SlackSender, UvicornThread, World, add_world
from tests.bot.fake_slack import FakeSlack
from tests.storage.conftest import db_url  # noqa: F401 (the fixture: SQLite, and PostgreSQL when configured)

# key -> (Slack user id, role, in the North team?, active?), besides tests/bot's U_SW, U_TM, U_PM, U_CHAIR
MORE_STAFF = {
    "duty": ("U_DSW", "duty_social_worker", True, True),
    "pm_north": ("U_PMN", "practice_manager", True, True),
    "hos_north": ("U_HOSN", "head_of_service", True, True),
    "hos": ("U_HOS", "head_of_service", False, True),
    "chair_north": ("U_CHAIRN", "cp_chair", True, True),
    "admin_north": ("U_ADMN", "admin", True, True),
    "admin": ("U_ADM", "admin", False, True),
    "gone": ("U_GONE", "social_worker", True, False),  # left: no longer active
}


def add_staff(world: World) -> None:
    with world.factory.begin() as s:
        north = s.get(Team, s.get(Staff, world.ids["sw"]).team_id)  # type: ignore[union-attr]
        assert north is not None
        for key, (chat, role, in_north, active) in MORE_STAFF.items():
            row = Staff(
                name=f"Test {key}",
                chat_user_id=chat,
                role=role,
                qualified_registered=role != "admin",
                team_id=north.id if in_north else None,
                active=active,
            )
            s.add(row)
            s.flush()
            world.ids[key] = row.id


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    path = tmp_path_factory.mktemp("access") / "seen.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    world = add_world(factory)
    add_staff(world)
    fake = FakeSlack(TOKEN).start()
    clock = Clock(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))  # Mon 23 Nov 2026, 11:00 London
    bolt = build_app(factory, token=TOKEN, signing_secret=SECRET, clock=clock, base_url=fake.api_url)
    server = UvicornThread(SeenASGI(bolt, health=database_health(factory)))
    url = server.start()
    yield Running(url, SlackSender(url, fake), fake, factory, clock, world)
    server.stop()
    fake.stop()
    engine.dispose()
