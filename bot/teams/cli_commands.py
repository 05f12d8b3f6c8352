"""`seen teams …`: Microsoft Teams administration. `seen teams package --out seen-teams.zip`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from scheduler.usage import UsageError


def teams_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="teams_command", required=True, metavar="SUBCOMMAND")
    package = sub.add_parser(
        "package",
        help="write the Teams app package (manifest, icons) to upload in the Teams admin centre",
        description="Write the Teams app package. Needs TEAMS_CLIENT_ID and SEEN_TEAMS_WEBSITE_URL.",
    )
    package.add_argument("--out", default="seen-teams.zip", help="the zip to write (default: seen-teams.zip)")


def cmd_teams(args: argparse.Namespace) -> int:
    from bot.teams.package import PackageError, write_package

    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out: no such folder {out.parent}")
    try:
        data = write_package(out, os.environ)
    except PackageError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {out}: Teams app {data['id']} v{data['version']}, bot {data['bots'][0]['botId']}")
    return 0
