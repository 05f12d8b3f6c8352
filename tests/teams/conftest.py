"""Fixtures for the Teams tests: a fake Bot Connector, the real SDK app over real HTTP, a database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.teams.app import TeamsBot, TeamsSettings
from tests.bot.conftest import UvicornThread, factory  # noqa: F401  (the SQLite database fixture)
from tests.teams.fake_connector import FakeConnector

APP_ID = "00000000-0000-4000-8000-00000000a11d"
TENANT = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    fake = FakeConnector(APP_ID).start()
    yield fake
    fake.stop()


def settings_for(connector: FakeConnector) -> TeamsSettings:
    return TeamsSettings(
        client_id=APP_ID,
        client_secret=None,
        tenant_id=TENANT,
        openid_metadata_url=connector.openid_url,
        service_url=connector.url,
    )


@pytest.fixture
def teams_bot(connector: FakeConnector, factory: sessionmaker[Session]) -> TeamsBot:  # noqa: F811
    def bot_token(scope: str, tenant: str | None) -> str:
        """The app's token for the Bot Connector, as the fake issues it (no Entra sign-in in tests)."""
        return connector.bot_token

    bot = TeamsBot(settings_for(connector), factory, token=bot_token)
    asyncio.run(bot.initialize())
    return bot


class TeamsSender:
    """Posts activities to the app's messaging endpoint as the Bot Connector does."""

    def __init__(self, url: str, connector: FakeConnector, bot: TeamsBot | None = None) -> None:
        self.url = url
        self.connector = connector
        self.bot = bot  # given: each post returns once the app's work after acknowledging is done
        self.client = httpx.Client(timeout=10)

    def post(self, activity: dict[str, Any], token: str | None = "", **claims: Any) -> httpx.Response:
        conversation = (activity.get("conversation") or {}).get("id")
        if conversation:  # the connector knows the conversation it delivers an activity from
            self.connector.open(conversation)
        if token == "":
            token = self.connector.sign(**claims)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        response = self.client.post(f"{self.url}/api/messages", json=activity, headers=headers)
        if self.bot is not None:
            assert self.bot.later.wait_idle(), "the app's work after acknowledging did not finish"
        return response


@pytest.fixture
def sender(teams_bot: TeamsBot, connector: FakeConnector) -> Iterator[TeamsSender]:
    server = UvicornThread(teams_bot.asgi)
    url = server.start()
    out = TeamsSender(url, connector, teams_bot)
    yield out
    out.client.close()
    server.stop()


def personal_message(connector: FakeConnector, aad: str, text: str = "help", tenant: str = TENANT) -> dict:
    return {
        "type": "message",
        "id": "1700000000001",
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": f"29:{aad}", "aadObjectId": aad, "name": "A Worker"},
        "recipient": {"id": f"28:{APP_ID}", "name": "Seen"},
        "conversation": {"id": f"a:chat-{aad}", "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
        "text": text,
    }


def channel_message(connector: FakeConnector, aad: str, text: str) -> dict[str, Any]:
    """A message in the North channel that @mentions Seen, as the connector delivers it."""
    channel = "19:north@thread.tacv2"
    return {
        "type": "message",
        "id": "1700000000009",
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": f"29:{aad}", "aadObjectId": aad, "name": "A Manager"},
        "recipient": {"id": f"28:{APP_ID}", "name": "Seen"},
        "conversation": {"id": channel, "conversationType": "channel", "tenantId": TENANT, "isGroup": True},
        "channelData": {"tenant": {"id": TENANT}, "team": {"id": channel}, "channel": {"id": channel}},
        "text": f"<at>Seen</at> {text}",
        "entities": [
            {"type": "mention", "text": "<at>Seen</at>", "mentioned": {"id": f"28:{APP_ID}", "name": "Seen"}}
        ],
    }


def team_installation(connector: FakeConnector, team: str, action: str = "add") -> dict:
    channel = f"19:{team}@thread.tacv2"
    return {
        "type": "installationUpdate",
        "id": "f:install-1",
        "action": action,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": "29:admin", "aadObjectId": "aad-admin"},
        "recipient": {"id": f"28:{APP_ID}", "name": "Seen"},
        "conversation": {"id": channel, "conversationType": "channel", "tenantId": TENANT, "isGroup": True},
        "channelData": {"tenant": {"id": TENANT}, "team": {"id": channel}, "channel": {"id": channel}},
    }


@pytest.fixture
def clock() -> list[datetime]:
    """The Teams app's clock in `timed_sender`: a test sets clock[0]."""
    return [datetime(2026, 11, 25, 11, 0, tzinfo=UTC)]


@pytest.fixture
def timed_sender(
    connector: FakeConnector,
    factory: sessionmaker[Session],  # noqa: F811
    clock: list[datetime],
) -> Iterator[TeamsSender]:
    """As `sender`, to an app whose clock is `clock[0]`."""
    bot = TeamsBot(
        settings_for(connector),
        factory,
        token=lambda scope, tenant: connector.bot_token,
        now=lambda: clock[0],
    )
    asyncio.run(bot.initialize())
    server = UvicornThread(bot.asgi)
    out = TeamsSender(server.start(), connector, bot)
    yield out
    out.client.close()
    server.stop()
