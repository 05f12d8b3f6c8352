"""The Slack app (slack-bolt, sync): `/seen`, the visit record and decision modals, the buttons of
reminders and prompts, thread replies as case notes, and App Home.

Every listener acknowledges first: a command is parsed (pure, no I/O) and acknowledged at once, and
the work runs after the acknowledgement (Bolt lazy listeners). A modal submission is checked and
stored before its acknowledgement, because Slack shows per-field errors only in that answer; that
is a few milliseconds of database work.

Facts are written through `storage.facts` with a `source_key` derived from what Slack sends (the
trigger or view id, the channel and timestamp of a message), so a retry or a double click stores
nothing twice.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from sqlalchemy.orm import Session, sessionmaker

from bot.core.context import Clock, utcnow
from bot.listeners import commands, decision_form, home, prompts, stats, threads, visit_form
from bot.slack.messenger import make_client

log = logging.getLogger("seen.bot")


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
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="seen-bot"),
    )
    bot = SeenBot(factory, clock)
    for listeners in (stats, commands, visit_form, prompts, decision_form, threads, home):  # stats first
        listeners.register(app, bot)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed: %s (%s)", error, (body or {}).get("type"), exc_info=error)

    app.seen = bot  # type: ignore[attr-defined]
    return app
