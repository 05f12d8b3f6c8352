"""`seen serve` on Microsoft Teams: the Teams SDK app behind uvicorn (the Azure Bot's messaging
endpoint is `https://<host>/api/messages`) and, unless told not to, the scheduler delivering
through the Teams messenger."""

from __future__ import annotations

import asyncio
import logging
import os

log = logging.getLogger("seen.teams")


def serve(*, host: str, port: int, scheduler: bool = True, database_url: str | None = None) -> None:
    import uvicorn

    from bot.slack.server import route_uvicorn_logs, start_scheduler
    from bot.teams.app import MESSAGING_ENDPOINT, TeamsBot, TeamsSettings
    from bot.teams.messenger import TeamsMessenger
    from scheduler.logs import watch_staff
    from storage.db import make_engine, session_factory, upgrade

    settings = TeamsSettings.from_env()
    engine = make_engine(database_url)
    upgrade(engine)
    factory = session_factory(engine)
    watch_staff(factory)  # the log filter removes these staff names wherever they appear
    bot = TeamsBot(settings, factory)
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
