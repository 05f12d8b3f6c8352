"""App Home: the person's children by deadline, or their team's for a manager (bot.core.home)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core import access
from bot.core.access import Refused
from bot.core.context import Core
from bot.core.home import home_content
from bot.slack import views
from storage.audit import write_audit
from storage.models import Staff

log = logging.getLogger("seen.bot")


class Home(Core):
    """App Home: the person's children by deadline, or their team's for a manager."""

    def on_home(self, event: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event.get("user")
        now = self.clock()
        with self.writing() as s:
            try:
                staff = access.staff_for(s, user)
            except Refused as exc:
                view = views.home_view("Seen", [], str(exc))
            else:
                write_audit(s, "home.viewed", actor=staff.id, at=now, detail={"via": "slack"})
                view = self._home(s, staff, now)
        try:
            client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:  # the tab shows what it showed; the next opening tries again
            log.warning("views.publish of App Home failed: %s", exc.response.get("error"))

    def _home(self, s: Session, staff: Staff, now: datetime) -> dict[str, Any]:
        home = home_content(s, staff, now)
        return views.home_view(home.title, home.sections, home.footer, home.rest)


def register(app: App, bot: Home) -> None:
    app.event("app_home_opened")(bot.on_home)
