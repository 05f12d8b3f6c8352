"""`seen serve`: the Slack app over HTTP (uvicorn) or Socket Mode, or the Teams app, with the
scheduler beside it; `seen run`: the scheduler alone."""

from __future__ import annotations

import argparse
import os

from scheduler.usage import UsageError


def cmd_run(args: argparse.Namespace) -> int:
    """`seen run`: the scheduler alone, delivering through Teams when its three values are set, as
    `seen serve` does, through Slack when SLACK_BOT_TOKEN is set, else printing each message (the
    scheduler itself knows only the Messenger port). Both platforms, or half of Teams, stop the
    start with one line."""
    from bot.platform import platform
    from scheduler.commands import cmd_run as run_scheduler

    try:
        teams = platform() == "teams"
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    if teams:
        from bot.teams.server import run_messenger

        return run_scheduler(args, messenger_for=run_messenger)
    messenger = None
    if os.environ.get("SLACK_BOT_TOKEN"):
        from bot.slack.messenger import SlackMessenger

        messenger = SlackMessenger.from_env()
    return run_scheduler(args, messenger)


def serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 3000)))
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="serve Slack only; another process (`seen run`) runs the sweep and delivery",
    )
    p.add_argument("--database-url", help="default: SEEN_DATABASE_URL, else the SQLite file")


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.platform import platform
    from scheduler.logs import configure_logging

    configure_logging()  # as `seen run`: JSON lines on standard error, no personal data
    try:
        if platform() == "teams":
            from bot.teams.server import serve
        else:
            from bot.slack.server import serve
        serve(host=args.host, port=args.port, scheduler=not args.no_scheduler, database_url=args.database_url)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    return 0
