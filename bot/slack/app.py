"""The Slack app (slack-bolt, sync): `/seen`, the visit record and decision modals, the buttons of
reminders and prompts, thread replies as case notes, and App Home.

Every listener acknowledges first: a command is parsed (pure, no I/O) and acknowledged at once, and
the work runs after the acknowledgement (Bolt lazy listeners). A modal submission is checked and
stored before its acknowledgement, because Slack shows per-field errors only in that answer; that
is a few milliseconds of database work.

Acknowledgements never wait behind work. A command's or an interaction's acknowledgement runs on
the thread that received the request (`acknowledging_here`; Bolt would hand it to a pool and look
for the answer every 10 ms); events, which Bolt acknowledges by itself, are handled on a pool. The
work after acknowledgements (lazy listeners) runs on a few threads of its own (FOLLOW_UP_WORKERS,
SEEN_FOLLOW_UP_WORKERS; bot.slack.followups), so that a burst of commands does not become a crowd
of threads taking the interpreter from the acknowledgements; the rest of a burst's work waits its
turn, the work that opens a form first.

Facts are written through `storage.facts` with a `source_key` derived from what Slack sends (the
trigger or view id, the channel and timestamp of a message), so a retry or a double click stores
nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from sqlalchemy.orm import Session, sessionmaker

from bot.core.context import Clock, utcnow
from bot.listeners import commands, decision_form, home, prompts, stats, threads, visit_form
from bot.slack.followups import FollowUps
from bot.slack.messenger import make_client

log = logging.getLogger("seen.bot")
ACK_WORKERS = 16  # events, and acknowledgements outside `acknowledging_here` (Socket Mode)
FOLLOW_UP_WORKERS = 6  # the work after acknowledgements: database writes and Slack calls


def follow_up_workers() -> int:
    """SEEN_FOLLOW_UP_WORKERS, else FOLLOW_UP_WORKERS; at least 1."""
    try:
        return max(1, int(os.environ.get("SEEN_FOLLOW_UP_WORKERS", FOLLOW_UP_WORKERS)))
    except ValueError:
        return FOLLOW_UP_WORKERS


class SeenBot(
    stats.StatsCommand,
    commands.Commands,
    visit_form.VisitForm,
    prompts.Prompts,
    decision_form.DecisionForm,
    threads.Threads,
    home.Home,
):
    """The listeners' work, against one database and one clock."""


class _TokenFromClient(logging.Filter):
    """Bolt warns at every start that the token it read from SLACK_BOT_TOKEN is unused when it is
    given a client: Seen gives it the client made from that same token (on SEEN_SLACK_API_URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_here = threading.local()


@contextlib.contextmanager
def acknowledging_here() -> Iterator[None]:
    """Within this block, the listeners Bolt runs to answer a request (the acknowledgement) run on
    this thread (bot.slack.server uses it for commands and interactions, never for events, whose
    listeners run after Bolt's own acknowledgement)."""
    _here.active = True
    try:
        yield
    finally:
        _here.active = False


class AckExecutor(Executor):
    """Bolt's listener executor: on the calling thread inside `acknowledging_here`, else a pool."""

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="seen-ack")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if not getattr(_here, "active", False):
            return self.pool.submit(fn, *args, **kwargs)
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # as a pool would: kept in the future (Bolt reports its own)
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait, cancel_futures=cancel_futures)


def build_app(
    factory: sessionmaker[Session],
    *,
    token: str,
    signing_secret: str,
    clock: Clock = utcnow,
    base_url: str | None = None,
    process_before_response: bool = False,
    token_verification_enabled: bool = True,
) -> App:
    """The Bolt app. `process_before_response` must stay False except on FaaS (it is what lets
    listeners acknowledge first and work after); signatures are always verified."""
    client = make_client(token, base_url)
    bolt_log = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenFromClient) for f in bolt_log.filters):
        bolt_log.addFilter(_TokenFromClient())
    app = App(
        name="seen",
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,
        request_verification_enabled=True,
        token_verification_enabled=token_verification_enabled,
        listener_executor=AckExecutor(ACK_WORKERS),
    )
    # Bolt runs lazy listeners on the acknowledgements' pool unless given a runner of their own
    runner = app.listener_runner
    runner.lazy_listener_runner = FollowUps(runner.lazy_listener_runner.logger, follow_up_workers())
    bot = SeenBot(factory, clock)
    for listeners in (stats, commands, visit_form, prompts, decision_form, threads, home):  # stats first
        listeners.register(app, bot)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed: %s (%s)", error, (body or {}).get("type"), exc_info=error)

    app.seen = bot  # type: ignore[attr-defined]
    return app
