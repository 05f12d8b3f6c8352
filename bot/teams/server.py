"""`seen serve` on Microsoft Teams: the Teams SDK app behind uvicorn (the Azure Bot's messaging
endpoint is `https://<host>/api/messages`) and, unless told not to, the scheduler delivering
through the Teams messenger; `seen run` on Teams: the scheduler alone, delivering through the same
messenger (`messenger_for`)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

log = logging.getLogger("seen.teams")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from bot.teams.app import TeamsSettings, TokenSource
    from bot.teams.messenger import TeamsMessenger


def messenger_for(
    settings: TeamsSettings, factory: sessionmaker[Session], *, token: TokenSource | None = None
) -> TeamsMessenger:
    """The Teams messenger on the app's credentials, for a process that sends without serving
    (`seen run`): proactive messages need the app's token and the Bot Connector, not its endpoint."""
    from bot.teams.app import TeamsBot
    from bot.teams.messenger import TeamsMessenger

    return TeamsMessenger.for_app(TeamsBot(settings, factory, token=token).app, factory)


def run_messenger(factory: sessionmaker[Session]) -> TeamsMessenger:
    """`seen run`'s messenger on Teams, from TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET, TEAMS_TENANT_ID."""
    from bot.teams.app import TeamsSettings

    return messenger_for(TeamsSettings.from_env(), factory)


def serve(
    *,
    host: str,
    port: int,
    scheduler: bool = True,
    database_url: str | None = None,
    token: TokenSource | None = None,
) -> None:
    """Serve until stopped. `token` replaces the app's Entra sign-in (the load check's fake
    Bot Connector issues its own); None in production."""
    import uvicorn

    from bot.serving import route_uvicorn_logs, start_scheduler
    from bot.teams.app import MESSAGING_ENDPOINT, TeamsBot, TeamsSettings
    from bot.teams.messenger import TeamsMessenger
    from scheduler.logs import watch_staff
    from storage.db import make_engine, session_factory, upgrade

    settings = TeamsSettings.from_env()
    engine = make_engine(database_url)
    upgrade(engine)
    factory = session_factory(engine)
    watch_staff(factory)  # the log filter removes these staff names wherever they appear
    bot = TeamsBot(settings, factory, token=token)
    asyncio.run(bot.initialize())
    if scheduler:
        start_scheduler(factory, TeamsMessenger.for_app(bot.app, factory))
    log.info("Seen is serving Teams activities on http://%s:%d%s", host, port, MESSAGING_ENDPOINT)
    route_uvicorn_logs()
    uvicorn.run(
        bot.asgi,
        host=host,
        port=port,
        log_config=None,
        log_level=os.environ.get("SEEN_LOG_LEVEL", "info").lower(),
    )
