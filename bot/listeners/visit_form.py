"""The visit record form: opened by `/seen record` or a reminder's button, stored on submission."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import FORM_UNREADABLE, MAX_SIBLINGS, Core, Submission, crash_point
from bot.core.words import contact_model, outcome_words
from bot.slack import forms, views
from bot.slack.errors import form_metadata, noop_ack
from bot.slack.messenger import warned
from scheduler.messages import child_label, when
from scheduler.rules.policy import Policy
from storage import facts
from storage.facts import FactError
from storage.models import Child as ChildRecord
from storage.models import Contact, Staff

log = logging.getLogger("seen.bot")


class VisitForm(Core):
    """The visit record form: opened by `/seen record` or a reminder's button, stored on submission."""

    def _visit_form(
        self,
        s: Session,
        staff: Staff,
        child: Any,
        policy: Policy,
        contact: Contact | None,
        now: datetime,
        sibling_refs: list[str] | None = None,
    ) -> views.VisitForm:
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
        return views.VisitForm(
            children=rows,
            at=at.replace(tzinfo=None),
            kind=contact.kind if contact is not None else "home_visit",
            no_one_home_note=note_rule.id if note_rule else None,
            metadata=metadata,
            candidates=[(c.case_ref, child_label(c.case_ref, c.initials)) for c in candidates],
        )

    def _child_row(
        self, s: Session, child: Any, policy: Policy, contact: Contact | None, now: datetime
    ) -> views.ChildRow:
        row = views.ChildRow(child.case_ref, child.initials, baby=self._is_baby(policy, child, now))
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

    def _record_form(self, s: Session, staff: Staff, child: Any, now: datetime) -> tuple[dict[str, Any], str]:
        policy = caseview.policy_of(s, child)
        contact = caseview.latest_unrecorded(s, child)
        form = self._visit_form(s, staff, child, policy, contact, now)
        label = child_label(child.case_ref, child.initials)
        if contact is not None:
            what = outcome_words(policy, contact_model(contact))
            reply = f"Completing the record of the {what} of {label} on {when(policy, contact.at)}."
        else:
            reply = f"Recording a new visit to {label}."
        return views.visit_modal(form), reply

    def siblings_changed(self, body: dict[str, Any], client: Any) -> None:
        """The form's sibling selection changed: the form again with one section per child."""
        view = body["view"]
        meta = form_metadata(view)
        chosen = [
            o["value"]
            for o in (
                (view.get("state") or {})
                .get("values", {})
                .get("siblings", {})
                .get(views.SIBLINGS_ACTION, {})
                .get("selected_options")
                or []
            )
        ]
        user = body["user"]["id"]
        try:
            with self.factory() as s:
                staff = access.staff_for(s, user)
                _, completes = _visit_metadata(meta)
                child = access.child_for(s, meta.get("c"))
                access.check_can_log(staff, child)
                policy = caseview.policy_of(s, child)
                contact = s.get(Contact, completes) if completes is not None else None
                if contact is not None and contact.child_id != child.id:
                    raise Refused(FORM_UNREADABLE)  # a contact of another child: a forged form
                form = self._visit_form(s, staff, child, policy, contact, self.clock(), chosen)
        except Refused as exc:  # the form stays as it was; submitting it is refused the same way
            c = meta.get("c")
            self.refused(user, "visit record", str(exc), c if isinstance(c, str) else None)
            return
        try:
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=views.visit_modal(form))
        except SlackApiError as exc:  # the form stays as it was (hash_conflict: a newer one is shown)
            log.warning("views.update of the visit form failed: %s", exc.response.get("error"))

    def _submit(
        self,
        ack: Any,
        body: dict[str, Any],
        view: dict[str, Any],
        client: Any,
        *,
        kind: str,
        refused_as: str,
        error_block: str,
        store: Callable[[Session, Staff, Submission], None],
        follow_up: Callable[[dict[str, Any], dict[str, Any], Any], None],
    ) -> None:
        """A modal submission: checked and stored before the acknowledgement (per-field errors go in
        it), then the follow-up. (Not a lazy listener: Bolt starts those alongside this one, not after
        it.) `store` reads the form and writes its facts inside the write transaction; a refusal is
        audited and shown on `error_block`. The crash points are "<kind>-before-commit" and
        "<kind>-after-commit"."""
        meta = form_metadata(view)
        user = body["user"]["id"]
        submitted = Submission(view, meta, (view.get("state") or {}).get("values") or {}, self.clock())
        try:
            with self.writing() as s:
                staff = access.staff_for(s, user)
                store(s, staff, submitted)
                crash_point(f"{kind}-before-commit")
            crash_point(f"{kind}-after-commit")
        except forms.FormErrors as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except (Refused, FactError) as exc:
            self.refused(user, refused_as, str(exc), meta.get("c"))
            ack(response_action="errors", errors={error_block: str(exc)[:150]})
            return
        ack()
        self._after(follow_up, body, view, client)

    def submit_visit(self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        """The visit record form: a contact and its record for each child, then a confirmation."""
        self._submit(
            ack,
            body,
            view,
            client,
            kind="visit",
            refused_as="visit record",
            error_block=f"outcome__{form_metadata(view).get('c')}",
            store=self._store_visit,
            follow_up=self.after_visit,
        )

    def _store_visit(self, s: Session, staff: Staff, submitted: Submission) -> None:
        view, meta, values, now = submitted.view, submitted.meta, submitted.values, submitted.now
        sibling_refs, corrects = _visit_metadata(meta)
        child = access.child_for(s, meta.get("c"))
        access.check_can_log(staff, child)
        policy = caseview.policy_of(s, child)
        children = [child] + [access.child_for(s, ref) for ref in sibling_refs]
        for c in children[1:]:
            access.check_can_log(staff, c)
        metas = [
            forms.ChildMeta(c.case_ref, self._is_baby(policy, c, now), access.engine_role(staff, c))
            for c in children
        ]
        note_rule = policy.rule_of_kind("no_one_home_note")
        entries = forms.read_visit(
            values,
            metas,
            tz=policy.timezone,
            now=now,
            qualified=staff.qualified_registered,
            note_rule=note_rule.id if note_rule else None,
        )
        group = uuid.uuid5(uuid.NAMESPACE_URL, f"slack:view:{view['id']}")
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
                source_key=f"slack:view:{view['id']}:{entry.ref}",
                now=now,
            )

    def after_visit(self, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        """After a saved record: a confirmation to the worker (case references and labels only)."""
        meta = form_metadata(view)
        with self.factory() as s:
            rows = list(
                s.scalars(select(Contact).where(Contact.source_key.like(f"slack:view:{view['id']}:%")))
            )
            if not rows:
                return
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
        warned(client.chat_postMessage(channel=body["user"]["id"], text=views.mrkdwn(text)), "confirmation")

    @staticmethod
    def _after(follow_up: Callable[..., None], *args: Any) -> None:
        try:
            follow_up(*args)
        except Exception:  # the fact is stored; a failed confirmation must not hide that
            log.exception("follow-up %s failed", follow_up.__name__)


def _visit_metadata(meta: dict[str, Any]) -> tuple[list[str], int | None]:
    """The visit form's siblings ("s": case references) and the contact it completes ("x")."""
    siblings, corrects = meta.get("s") or [], meta.get("x")
    if not isinstance(siblings, list) or not all(isinstance(ref, str) for ref in siblings):
        raise Refused(FORM_UNREADABLE)
    if corrects is not None and (isinstance(corrects, bool) or not isinstance(corrects, int)):
        raise Refused(FORM_UNREADABLE)
    return siblings, corrects


def register(app: App, bot: VisitForm) -> None:
    app.action(views.SIBLINGS_ACTION)(ack=noop_ack, lazy=[bot.siblings_changed])
    app.view(views.VISIT_CALLBACK)(bot.submit_visit)
