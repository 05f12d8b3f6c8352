"""The Teams app package: `seen teams package --out seen-teams.zip`.

A zip of `manifest.json` (schema 1.25), `color.png` and `outline.png`. The bot is the Entra app
registration's client id (TEAMS_CLIENT_ID); the developer's pages come from SEEN_TEAMS_WEBSITE_URL
(with SEEN_TEAMS_PRIVACY_URL and SEEN_TEAMS_TERMS_URL, by default its /privacy and /terms). The bot
is installed personally and in teams; its typed commands are listed for both; the team scope's
resource-specific consent ChannelMessage.Read.Group lets it read replies in a channel without an
@mention; the action message extension "Record a visit" opens the visit record dialog
(bot.teams.dialogs) for the child the message it is started from names, else for a child chosen first.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bot.teams.icons import ACCENT, color_icon, outline_icon

MANIFEST_VERSION = "1.25"
SCHEMA_URL = (
    f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
RSC_CHANNEL_MESSAGES = "ChannelMessage.Read.Group"
RECORD_VISIT = "recordVisit"
COMMANDS = (
    ("log", "Log a visit: log C-1042 seen alone bedroom (or not-seen, no-one-home)"),
    ("record", "Complete the Record of a Child Protection Visit: record C-1042"),
    ("due", "What is due and overdue for you, soonest first"),
    ("team", "Your team's children with something due or overdue"),
    ("child", "One child's open obligations: child C-1042"),
    ("note", "Keep a case note on a child: note C-1042 <text>"),
    ("help", "What Seen can do and how to ask"),
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    """A setting the package needs is missing or malformed (one line, naming it)."""


def _https(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    value = env.get(name) or default
    if not value:
        raise PackageError(f"{name} is not set (the council's page about Seen, https://…)")
    if not value.startswith("https://"):
        raise PackageError(f"{name} must be an https:// address, not {value!r}")
    return value


def manifest(env: Mapping[str, str]) -> dict[str, Any]:
    bot_id = env.get("TEAMS_CLIENT_ID", "")
    if not _GUID.match(bot_id):
        raise PackageError("TEAMS_CLIENT_ID must be the Entra app registration's client id (a GUID)")
    app_id = env.get("SEEN_TEAMS_APP_ID") or bot_id
    if not _GUID.match(app_id):
        raise PackageError("SEEN_TEAMS_APP_ID must be a GUID")
    website = _https(env, "SEEN_TEAMS_WEBSITE_URL")
    commands = [{"title": title, "description": text} for title, text in COMMANDS]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version("seen"),
        "id": app_id,
        "developer": {
            "name": (env.get("SEEN_TEAMS_DEVELOPER") or "Seen")[:32],
            "websiteUrl": website,
            "privacyUrl": _https(env, "SEEN_TEAMS_PRIVACY_URL", website.rstrip("/") + "/privacy"),
            "termsOfUseUrl": _https(env, "SEEN_TEAMS_TERMS_URL", website.rstrip("/") + "/terms"),
        },
        "name": {"short": "Seen", "full": "Seen: every child on a plan seen on time"},
        "description": {
            "short": "Reminders and escalations so every child on a plan is seen on time",
            "full": (
                "Seen works out when each child on a child protection plan must next be seen, from the"
                " council's procedure. It reminds social workers before a visit falls due, prompts team"
                " managers when a child was not seen, posts each team's due list every working morning,"
                " and keeps replies to its messages as case notes. Children appear by case reference and"
                " initials only."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": bot_id,
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": ["personal", "team"], "commands": commands}],
            }
        ],
        "composeExtensions": [
            {
                "botId": bot_id,
                "commands": [
                    {
                        "id": RECORD_VISIT,
                        "type": "action",
                        "title": "Record a visit",
                        "description": "Record of a Child Protection Visit for the child a message names",
                        "context": ["compose", "commandBox", "message"],
                        "fetchTask": True,
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
        "webApplicationInfo": {"id": bot_id, "resource": f"api://botid-{bot_id}"},
        "authorization": {
            "permissions": {"resourceSpecific": [{"name": RSC_CHANNEL_MESSAGES, "type": "Application"}]}
        },
    }


def write_package(out: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """Write the zip; returns its manifest. Nothing is written when a setting is wrong."""
    data = manifest(env)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return data
