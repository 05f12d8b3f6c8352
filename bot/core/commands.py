"""The typed commands that read or write without a form, whatever the platform: `due`, `team`,
`child REF` and `note REF text`. Who may ask is checked here (`bot.core.access`), every answer is
audited with the platform it came through, and the answer is words (one message, or several in
order for a long list), which each platform shows in its own way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.parse import Child, Due, Note, Team
from scheduler.messages import child_label
from storage import facts
from storage.audit import write_audit
from storage.models import Staff

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
