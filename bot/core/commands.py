"""The typed commands that read or write without a form, whatever the platform: `due`, `team`,
`child REF`, `note REF text` and `stats [team]`. Who may ask is checked here (`bot.core.access`),
every answer is audited with the platform it came through, and the answer is words (one message,
or several in order for a long list; `stats` adds its chart), which each platform shows in its
own way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import Core
from bot.core.parse import Child, Due, Note, Stats, Team
from scheduler.messages import child_label
from scheduler.weekly_report import Post, covered_teams, stats_post
from storage import facts
from storage.audit import write_audit
from storage.models import Staff
from storage.models import Team as TeamRow

NO_TEAM = (
    "You are in no team, so Seen has no team list to show you. Ask an administrator to add you to your team."
)
Reading = Due | Team | Child | Note


def answer(
    s: Session,
    staff: Staff,
    cmd: Reading,
    now: datetime,
    *,
    via: str,
    note_key: str,
    max_parts: int | None = None,
) -> str | list[str]:
    """The answer to `cmd` from `staff` (refused with `Refused`); `note_key` is the source key a
    note is stored under, so a platform's retry of the same request stores it once."""
    if isinstance(cmd, Due | Team):
        if isinstance(cmd, Team) and staff.team_id is None and staff.role not in access.MANAGER_ROLES:
            raise Refused(NO_TEAM)
        what = "due" if isinstance(cmd, Due) else "team"
        write_audit(s, f"{what}_list.viewed", actor=staff.id, at=now, detail={"via": via})
        if isinstance(cmd, Due):
            return caseview.my_due_parts(s, staff, now, max_parts)
        return caseview.team_due_parts(s, staff, now, max_parts)
    child = access.child_for(s, cmd.case_ref)
    if isinstance(cmd, Child):
        access.check_can_see(staff, child)
        write_audit(s, "case.viewed", child_id=child.id, actor=staff.id, at=now, detail={"via": via})
        return caseview.child_text(s, child, now)
    access.check_can_log(staff, child)
    facts.add_case_note(s, child, staff, cmd.text, at=now, source="command", source_key=note_key, now=now)
    return f"Case note added to {child_label(child.case_ref, child.initials)}."


NO_STATS = (
    "You are in no team, so Seen has no team's figures to show you. Ask an administrator to add you "
    "to your team."
)


def stats_teams(s: Session, staff: Staff, cmd: Stats, now: datetime, *, via: str) -> list[int]:
    """`stats [team]`: the ids of the teams whose timeliness summary `staff` asked for: their team
    (a practice manager or head of service with no team: every team), or the team named if it is
    theirs; else `Refused`, naming the team. The answer is `scheduler.weekly_report.stats_post`'s,
    counted outside this transaction (it takes a moment), and has counts only: no child."""
    mine = covered_teams(s, staff)
    if cmd.team is not None:
        team = s.scalar(select(TeamRow).where(func.lower(TeamRow.name) == cmd.team.lower()))
        names = ", ".join(t.name for t in mine)
        yours = f" Yours: {names}." if names else ""
        if team is None:
            raise Refused(f"Seen has no team called {cmd.team!r}: check the name.{yours}")
        if team.id not in {t.id for t in mine}:
            raise Refused(f"{team.name} is not your team, so Seen cannot show you its figures.{yours}")
        mine = [team]
    if not mine:
        raise Refused(NO_STATS)
    detail = {"via": via, "teams": [t.name for t in mine]}
    write_audit(s, "stats.viewed", actor=staff.id, at=now, detail=detail)
    return [t.id for t in mine]


def stats_answer(
    core: Core, user: str | None, cmd: Stats, *, via: str, action: str, unknown: str = access.UNKNOWN_STAFF
) -> Post:
    """The answer to `stats [team]` from the chat user `user` (`unknown`: what someone Seen does not
    know is told): who may ask is checked and the answer audited in one transaction, then the
    figures are counted outside it (they take a moment). A refusal is audited and raised."""
    now = core.clock()
    try:
        with core.writing() as s:
            teams = stats_teams(s, access.staff_for(s, user, unknown), cmd, now, via=via)
    except Refused as exc:
        core.refused(user, action, str(exc))
        raise
    with core.factory() as s:
        return stats_post(s, [s.get_one(TeamRow, i) for i in teams], now)
