"""A typed `log C-1042 not-seen …`, whatever the platform: the visit outcome stored as a quick
contact (completed later by the Record of a Child Protection Visit), the same visit logged twice
kept once (`storage.facts.same_visit`), and the answer in words. Who may log is checked here
(`bot.core.access`); a refusal is `Refused`, a time in the future `ParseError`, and either stores
nothing. The platform gives the source key (`slack:log:<trigger id>`, `teams:log:<activity id>`),
so its retry of the same request stores it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.parse import Log, visit_time
from bot.core.visit_form import VisitForm
from bot.core.visit_form_store import VisitRecording
from bot.core.words import outcome_words
from scheduler.messages import child_label, when
from scheduler.rules import model
from storage import facts
from storage.audit import write_audit
from storage.models import Staff

RECORD_IT = "Complete the Record of a Child Protection Visit"


@dataclass(frozen=True, slots=True)
class Logged:
    """A logged visit: the child, the words for it, whether it was logged before, what is now open
    for the child, and the record form that completes it."""

    case_ref: str
    what: str  # "C-1042 (AB), home visit (child not seen) on Mon 23 Nov 2026 10:30"
    again: bool  # the same visit was logged already by the same person: nothing new stored
    open_now: tuple[str, ...]  # "• [RULE] due …: summary", soonest first
    form: VisitForm

    def words(self, *, form_open: bool, why_not: str = "") -> str:
        """The answer: the form now open with it (Slack), or how to open it (`why_not` first)."""
        if self.again:
            lines = [f"Already logged by you: {self.what}. It is kept once; nothing new was stored."]
        else:
            lines = [f"Logged: {self.what}."]
        if form_open:
            lines[0] += f" {RECORD_IT} in the form now open (or later with `/seen record {self.case_ref}`)."
        else:
            how = f"{RECORD_IT} with `/seen record {self.case_ref}`."
            lines[0] += f" {why_not} {how}" if why_not else f" {how}"
        if self.open_now:
            lines.append("Now open for this child:")
            lines += self.open_now
        return "\n".join(lines)


class VisitLogging(VisitRecording):
    """`log`: the contact stored (or found again), audited with the platform it came through."""

    def log_visit(self, s: Session, staff: Staff, cmd: Log, now: datetime, *, source_key: str) -> Logged:
        """Store `cmd` for `staff` in the transaction `s`."""
        child = access.child_for(s, cmd.case_ref)
        access.check_can_log(staff, child)
        policy = caseview.policy_of(s, child)
        at = visit_time(cmd.at, policy.timezone, now)
        alone = None
        if cmd.alone is True:
            alone = "yes"
        elif cmd.alone is False and cmd.alone_reason:
            alone = "no"
        contact = model.Contact(
            at=at,
            kind="home_visit",
            by=access.engine_role(staff, child),
            qualified=staff.qualified_registered,
            child_seen=cmd.outcome == "seen",
            seen_alone=alone,
            seen_alone_reason=cmd.alone_reason if alone == "no" else None,
            bedroom_seen=cmd.bedroom if cmd.outcome != "no-one-home" else None,
            child_awake=cmd.awake,
            no_one_home=cmd.outcome == "no-one-home",
            recorded_at=None,  # the record is completed in the form (CB-RECORD, HI-RECORD-24H)
        )
        row = facts.same_visit(s, child, staff, contact)
        again = row is not None and row.source_key != source_key  # not a retry of this command
        if row is None:
            row = facts.record_contact(s, child, contact, by_staff=staff, source_key=source_key, now=now)
        elif again:
            write_audit(
                s,
                "contact.logged_again",
                child_id=child.id,
                actor=staff.id,
                at=now,
                detail={"contact_id": row.id, "via": self.platform},
            )
        s.flush()
        form = self._visit_form(s, staff, child, policy, row, now)
        if cmd.alone is False and not cmd.alone_reason:
            form.children[0].alone = "no"
        opened = caseview.open_obligations(s, [child], now)
        what = (
            f"{child_label(child.case_ref, child.initials)}, {outcome_words(policy, contact)} "
            f"on {when(policy, row.at)}"
        )
        open_now = tuple(f"• [{o.ob.rule}] due {when(policy, o.ob.due)}: {o.ob.summary}" for o in opened[:6])
        return Logged(child.case_ref, what, again, open_now, form)
