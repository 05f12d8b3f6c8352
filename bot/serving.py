"""What serving Seen over HTTP needs on either platform (bot.slack.server, bot.teams.server): the
scheduler in a background thread of the serving process, the health checks `/healthz` answers with,
and uvicorn's log records made fit for Seen's logs (`UvicornRecords`)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.access")
Health = Callable[[], dict[str, Any]]


class UvicornRecords(logging.Filter):
    """uvicorn's records made fit for Seen's logs, before the personal-data filter sees them.

    An access line becomes "POST /slack/events 200" (field `status`): no client address, no query
    string (it might carry anything), no HTTP version. The path is passed as an argument, so the
    personal-data filter withholds one made of words and removes staff names and emails from it; a
    method HTTP does not define is "[other method]". uvicorn's colour copy of a message for
    terminals (`color_message`) is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        if record.name == "uvicorn.access":
            _access_line(record)
        return True


def _access_line(record: logging.LogRecord) -> None:
    """uvicorn writes '%s - "%s %s HTTP/%s" %d' % (client, method, path?query, version, status)."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 5 and isinstance(args[4], int):
        _client, method, target, _version, status = args
        method = method if method in HTTP_METHODS else "[other method]"
        record.msg, record.args = f"{method} %s {status}", (str(target).split("?", 1)[0],)
        record.status = status
    else:  # not the line this uvicorn writes: none of it is kept
        record.msg, record.args = "HTTP request (access line withheld: unknown format)", None


def route_uvicorn_logs() -> None:
    """Have uvicorn's records pass `UvicornRecords` on their way to the handler of
    scheduler.logs.configure_logging(); uvicorn itself is run with `log_config=None`."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, UvicornRecords) for f in logger.filters):
            logger.addFilter(UvicornRecords())


def scheduler_health(factory: Any, started: float) -> Health:
    """/healthz: the database answers and some replica has swept lately (scheduler.metrics.health);
    a process that has just started is given one sweep interval's grace to make its first sweep."""
    from scheduler.metrics import default_max_sweep_age, health

    def check() -> dict[str, Any]:
        ok, details = health(factory)
        if not ok and details.get("sweep") == "never swept" and details.get("database") == "ok":
            ok = time.monotonic() - started < default_max_sweep_age().total_seconds()
            details["sweep"] = "starting" if ok else "never swept"
        return {"ok": ok, **details}

    return check


def database_health(factory: Any) -> Health:
    def health() -> dict[str, Any]:
        from sqlalchemy import text

        with factory() as session:
            session.execute(text("SELECT 1"))
        return {"ok": True, "database": "ok"}

    return health


def start_scheduler(factory: Any, messenger: Any) -> threading.Thread:
    """The scheduler loop (sweep, due lists, delivery through the platform's messenger) in a daemon
    thread."""
    from scheduler.loop import Runtime, policy_mornings, retention_schedule, run_forever

    runtime = Runtime(factory, messenger)
    minutes = float(os.environ.get("SEEN_SWEEP_MINUTES", 5))
    thread = threading.Thread(
        target=run_forever,
        args=(runtime,),
        kwargs={
            "sweep_minutes": minutes,
            "mornings": policy_mornings(factory),
            "retention_at": retention_schedule(),
        },
        name="seen-scheduler",
        daemon=True,
    )
    thread.start()
    return thread
