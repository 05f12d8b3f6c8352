"""The visit record form built for a child (prefilled from the contact it completes), the form again
with the siblings chosen, and a submission stored: one contact and record per child, the same on
Slack and Teams. The platform gives the submission's key (`slack:view:<view id>`,
`teams:dialog:<activity id>`): each contact's source key is `<key>:<case ref>`, so a retried
submission stores nothing twice."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import FORM_UNREADABLE, MAX_SIBLINGS, Core
from bot.core.form_answers import Answers
from bot.core.visit_form import ChildMeta, ChildRow, VisitForm, read_visit
from bot.core.words import contact_model, outcome_words
from scheduler.messages import child_label, when
from scheduler.rules.policy import Policy
from storage import facts
from storage.models import Child as ChildRecord
from storage.models import Contact, Staff


class VisitRecording(Core):
    """The visit record form: what it shows for a child, and its submission stored."""

    unknown_staff = access.UNKNOWN_STAFF

    def _visit_form(
        self,
        s: Session,
        staff: Staff,
        child: Any,
        policy: Policy,
        contact: Contact | None,
        now: datetime,
        sibling_refs: list[str] | None = None,
    ) -> VisitForm:
        tz = policy.timezone
        rows = [self._child_row(s, child, policy, contact, now)]
        candidates = caseview.siblings(s, child, limit=100)
        for ref in (sibling_refs or [])[:MAX_SIBLINGS]:
            sib = next((c for c in candidates if c.case_ref == ref), None)
            if sib is not None:
                rows.append(self._child_row(s, sib, policy, None, now))
        note_rule = policy.rule_of_kind("no_one_home_note")
        at = (contact.at if contact is not None else now).astimezone(tz)
        metadata = {
            "c": child.case_ref,
            "s": [r.ref for r in rows[1:]],
            "x": contact.id if contact is not None else None,
        }
        return VisitForm(
            children=rows,
            at=at.replace(tzinfo=None),
            kind=contact.kind if contact is not None else "home_visit",
            no_one_home_note=note_rule.id if note_rule else None,
            metadata=metadata,
            candidates=[(c.case_ref, child_label(c.case_ref, c.initials)) for c in candidates],
        )

    def _child_row(
        self, s: Session, child: Any, policy: Policy, contact: Contact | None, now: datetime
    ) -> ChildRow:
        row = ChildRow(child.case_ref, child.initials, baby=self._is_baby(policy, child, now))
        if contact is not None:
            row.outcome = (
                "seen" if contact.child_seen else ("no-one-home" if contact.no_one_home else "not-seen")
            )
            row.alone = contact.seen_alone
            row.alone_reason = contact.seen_alone_reason
            row.bedroom = contact.bedroom_seen
            row.awake = contact.child_awake
        return row

    @staticmethod
    def _is_baby(policy: Policy, child: Any, now: datetime) -> bool:
        rule = policy.rule_of_kind("baby_awake")
        months = rule.params.baby_under_months if rule is not None else 18
        dob = child.date_of_birth
        if dob is None:
            return False
        today = now.astimezone(policy.timezone).date()
        age = (today.year - dob.year) * 12 + today.month - dob.month - (today.day < dob.day)
        return age < months

    def record_form_for(self, s: Session, staff: Staff, child: Any, now: datetime) -> tuple[VisitForm, str]:
        """The form completing the child's latest visit not yet recorded (else a new visit), and
        words saying which."""
        policy = caseview.policy_of(s, child)
        contact = caseview.latest_unrecorded(s, child)
        form = self._visit_form(s, staff, child, policy, contact, now)
        label = child_label(child.case_ref, child.initials)
        if contact is not None:
            what = outcome_words(policy, contact_model(contact))
            reply = f"Completing the record of the {what} of {label} on {when(policy, contact.at)}."
        else:
            reply = f"Recording a new visit to {label}."
        return form, reply

    def form_with_siblings(
        self, s: Session, staff: Staff, meta: dict[str, Any], chosen: list[str]
    ) -> VisitForm:
        """The form of `meta` again with one part per sibling chosen; `Refused` for a form that is
        not one Seen made for a child the person may log."""
        _, completes = visit_metadata(meta)
        child = access.child_for(s, meta.get("c"))
        access.check_can_log(staff, child)
        policy = caseview.policy_of(s, child)
        contact = s.get(Contact, completes) if completes is not None else None
        if contact is not None and contact.child_id != child.id:
            raise Refused(FORM_UNREADABLE)  # a contact of another child: a forged form
        return self._visit_form(s, staff, child, policy, contact, self.clock(), chosen)

    def store_visit(
        self, s: Session, staff: Staff, meta: dict[str, Any], answers: Answers, now: datetime, key: str
    ) -> None:
        """A contact and its record for each child of the form; `Refused`, `FormErrors` or
        `FactError` store nothing."""
        sibling_refs, corrects = visit_metadata(meta)
        child = access.child_for(s, meta.get("c"))
        access.check_can_log(staff, child)
        policy = caseview.policy_of(s, child)
        children = [child] + [access.child_for(s, ref) for ref in sibling_refs]
        for c in children[1:]:
            access.check_can_log(staff, c)
        metas = [
            ChildMeta(c.case_ref, self._is_baby(policy, c, now), access.engine_role(staff, c))
            for c in children
        ]
        note_rule = policy.rule_of_kind("no_one_home_note")
        entries = read_visit(
            answers,
            metas,
            tz=policy.timezone,
            now=now,
            qualified=staff.qualified_registered,
            note_rule=note_rule.id if note_rule else None,
        )
        group = uuid.uuid5(uuid.NAMESPACE_URL, key)
        by_ref = {c.case_ref: c for c in children}
        for entry in entries:
            target = by_ref[entry.ref]
            correction = None
            if entry.ref == child.case_ref and corrects:
                latest = caseview.latest_version(s, corrects)
                correction = latest.id if latest is not None else None
            facts.check_new_contact(entry.contact)
            facts.record_contact(
                s,
                target,
                entry.contact,
                record=entry.record,
                by_staff=staff,
                visit_group=group if len(entries) > 1 else None,
                correction_of=correction,
                source_key=f"{key}:{entry.ref}",
                now=now,
            )

    def visit_saved(self, key: str, meta: dict[str, Any]) -> str | None:
        """The confirmation of the record stored under `key` (case references and labels only)."""
        with self.factory() as s:
            rows = list(s.scalars(select(Contact).where(Contact.source_key.like(f"{key}:%"))))
            if not rows:
                return None
            lines = []
            for row in rows:
                c = s.get(ChildRecord, row.child_id)
                assert c is not None
                policy = caseview.policy_of(s, c)
                lines.append(
                    f"• {child_label(c.case_ref, c.initials)}: {outcome_words(policy, contact_model(row))} "
                    f"on {when(policy, row.at)}"
                )
        text = "Visit record saved:\n" + "\n".join(lines)
        if meta.get("x"):
            text += "\n(It completes the visit you logged; the quick entry is kept as history.)"
        return text


def visit_metadata(meta: dict[str, Any]) -> tuple[list[str], int | None]:
    """The visit form's siblings ("s": case references) and the contact it completes ("x")."""
    siblings, corrects = meta.get("s") or [], meta.get("x")
    if not isinstance(siblings, list) or not all(isinstance(ref, str) for ref in siblings):
        raise Refused(FORM_UNREADABLE)
    if corrects is not None and (isinstance(corrects, bool) or not isinstance(corrects, int)):
        raise Refused(FORM_UNREADABLE)
    return siblings, corrects
