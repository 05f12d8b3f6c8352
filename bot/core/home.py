"""What a person's home shows, whatever the platform: their children by deadline, or their team's
for a manager (overdue first, then the open manager prompts, then what is due next). Slack shows
it as App Home (bot/listeners/home.py), Teams as a card answering `home` in the 1:1 chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bot.core import access, caseview
from storage.models import Staff


@dataclass(frozen=True, slots=True)
class HomeContent:
    title: str
    sections: list[tuple[str, list[str]]]  # heading, its lines (Slack-flavoured text, as the core's)
    footer: str
    rest: str  # where to see what a platform cannot show


def home_content(s: Session, staff: Staff, now: datetime) -> HomeContent:
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
            f"{o.line()} · {'acknowledged' if o.ob.key in acked else '*not acknowledged*'}" for o in prompts
        ]
        sections = [("Overdue", overdue), ("Open manager prompts", prompt_lines), ("Due next", rest)]
        title = "Your team's children" if staff.team_id is not None else "Children across all teams"
        return HomeContent(title, sections, footer, "`/seen team` and `/seen child REF`")
    problems = []
    items = [
        o
        for o in caseview.open_obligations(s, caseview.children_of_worker(s, staff), now, problems)
        if o.ob.owner not in access.MANAGER_ROLES
    ]
    sections = [("Your children by deadline", problems + [o.line() for o in items])]
    return HomeContent("Your children", sections, footer, "`/seen due` and `/seen child REF`")
