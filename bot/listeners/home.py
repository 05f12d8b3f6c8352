"""App Home: the person's children by deadline, or their team's for a manager."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import Core
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
        footer = f"Updated {now.astimezone(UTC).strftime('%Y-%m-%d %H:%M')} UTC · `/seen help` for commands"
        if staff.role in access.MANAGER_ROLES:
            covered = caseview.children_of_team(s, staff, now)
            if covered.note:
                footer = f"{covered.note} · {footer}"
            problems: list[str] = []
            items = caseview.open_obligations(s, covered.children, now, problems)
            prompts = [o for o in items if o.ob.owner in access.MANAGER_ROLES]
            work = [o for o in items if o.ob.owner not in access.MANAGER_ROLES]
            acked = caseview.acknowledged(s, [o.ob.key for o in prompts])
            overdue = problems + [o.line() for o in work if o.ob.status == "overdue"]
            rest = [o.line() for o in work if o.ob.status != "overdue"]
            prompt_lines = [
                f"{o.line()} · {'acknowledged' if o.ob.key in acked else '*not acknowledged*'}"
                for o in prompts
            ]
            sections = [
                ("Overdue", overdue),
                ("Open manager prompts", prompt_lines),
                ("Due next", rest),
            ]
            title = "Your team's children" if staff.team_id is not None else "Children across all teams"
            return views.home_view(title, sections, footer, "`/seen team` and `/seen child REF`")
        problems = []
        items = [
            o
            for o in caseview.open_obligations(s, caseview.children_of_worker(s, staff), now, problems)
            if o.ob.owner not in access.MANAGER_ROLES
        ]
        sections = [("Your children by deadline", problems + [o.line() for o in items])]
        return views.home_view("Your children", sections, footer, "`/seen due` and `/seen child REF`")


def register(app: App, bot: Home) -> None:
    app.event("app_home_opened")(bot.on_home)
