"""The real Bolt app over HTTP (uvicorn, signed requests, the fake Slack Web API) on a module's
own SQLite database, with a member of staff for every role, in the North team and (for the roles
that may have none) in no team. tests/bot/conftest.py builds the world; this adds the people."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage.models import Staff, Team
from tests.bot.conftest import Running, World, serving
from tests.storage.conftest import db_url  # noqa: F401 (the fixture: SQLite, and PostgreSQL when configured)

# key -> (Slack user id, role, in the North team?, active?), besides tests/bot's U0SW, U0TM, U0PM, U0CHAIR
MORE_STAFF = {
    "duty": ("U0DSW", "duty_social_worker", True, True),
    "pm_north": ("U0PMN", "practice_manager", True, True),
    "hos_north": ("U0HOSN", "head_of_service", True, True),
    "hos": ("U0HOS", "head_of_service", False, True),
    "chair_north": ("U0CHAIRN", "cp_chair", True, True),
    "admin_north": ("U0ADMN", "admin", True, True),
    "admin": ("U0ADM", "admin", False, True),
    "gone": ("U0GONE", "social_worker", True, False),  # left: no longer active
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
    """Mon 23 Nov 2026, 11:00 London is the business clock."""
    with serving(tmp_path_factory.mktemp("access") / "seen.sqlite", prepare=add_staff) as running:
        yield running
