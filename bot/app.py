"""The Slack app (slack-bolt, sync): `/seen`, the visit record and decision modals, the buttons of
reminders and prompts, thread replies as case notes, and App Home.

Every listener acknowledges first: a command is parsed (pure, no I/O) and acknowledged at once, and
the work runs after the acknowledgement (Bolt lazy listeners). A modal submission is checked and
stored before its acknowledgement, because Slack shows per-field errors only in that answer; that
is a few milliseconds of database work.

Facts are written through `storage.facts` with a `source_key` derived from what Slack sends (the
trigger or view id, the channel and timestamp of a message), so a retry or a double click stores
nothing twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import access, caseview, forms, views
from bot.access import Refused
from bot.commands_parse import HELP, Child, Due, Help, Log, Note, ParseError, Record, Team, parse, visit_time
from bot.slack_messenger import make_client, split_ref, warned
from scheduler.messages import child_label, when
from scheduler.rules import model
from scheduler.rules.engine import outcome_label
from scheduler.rules.policy import Policy
from storage import facts
from storage.audit import write_audit
from storage.facts import FactError
from storage.models import CaseNote, Contact, Decision, Outbox, Staff
from storage.models import Child as ChildRecord

log = logging.getLogger("seen.bot")
Clock = Callable[[], datetime]
REACTION = "white_check_mark"
MAX_SIBLINGS = 6  # children recorded on one form besides the first (Slack allows 100 blocks)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts_time(ts: str | None, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts or ""), UTC)
    except ValueError:
        return fallback


@dataclass(frozen=True)
class Submission:
    """A modal's submission: the view, its private metadata, the entered values, and when."""

    view: dict[str, Any]
    meta: dict[str, Any]
    values: dict[str, Any]
    now: datetime


class SeenBot:
    """The listeners' work, against one database and one clock."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self.factory = factory
        self.clock = clock

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction. On SQLite it takes the write lock first (waiting for it, with the
        busy timeout): a transaction that reads first and writes later fails at once, without
        waiting, when another writer committed in between (WAL snapshot), as concurrent Slack
        requests do."""
        with self.factory.begin() as s:
            if s.get_bind().dialect.name == "sqlite":
                s.execute(sql("UPDATE scheduler_state SET value = value WHERE 0"))
            yield s

    # -- shared -------------------------------------------------------------------------------
    def audit(
        self, action: str, *, staff: Staff | None = None, child_id: int | None = None, **detail: Any
    ) -> None:
        with self.writing() as s:
            write_audit(
                s,
                action,
                child_id=child_id,
                actor=staff.id if staff is not None else "slack",
                at=self.clock(),
                detail=detail,
            )

    def refused(self, user: str | None, action: str, reason: str, child_ref: str | None = None) -> None:
        with self.writing() as s:
            staff = s.scalar(select(Staff).where(Staff.chat_user_id == user)) if user else None
            write_audit(
                s,
                "slack.refused",
                actor=staff.id if staff is not None else "slack",
                at=self.clock(),
                detail={"chat_user_id": user, "action": action, "child": child_ref, "reason": reason},
            )

    # -- /seen ----------------------------------------------------------------------------------
    def ack_command(self, ack: Any, command: dict[str, Any]) -> None:
        try:
            cmd = parse(command.get("text") or "")
        except ParseError as exc:
            ack(response_type="ephemeral", text=views.mrkdwn(f":warning: {exc}"))
            return
        if isinstance(cmd, Help):
            ack(response_type="ephemeral", text=views.mrkdwn(HELP))
            return
        ack()

    def run_command(self, command: dict[str, Any], respond: Any, client: Any) -> None:
        try:
            cmd = parse(command.get("text") or "")
        except ParseError:
            return  # answered in the acknowledgement
        if isinstance(cmd, Help):
            return
        user = command.get("user_id")
        try:
            reply = self._command(cmd, command, client)
        except (Refused, ParseError, FactError) as exc:
            self.refused(
                user, f"/seen {type(cmd).__name__.lower()}", str(exc), getattr(cmd, "case_ref", None)
            )
            reply = f":warning: {exc}"
        except SlackApiError as exc:
            reply = f":warning: {slack_refused(exc)} Nothing was changed: try again."
        for part in [reply] if isinstance(reply, str) else reply or []:
            _say(respond, part)

    def _command(self, cmd: Any, command: dict[str, Any], client: Any) -> str | list[str] | None:
        """The answer to a command: one message, or several (a long list, in order)."""
        user = command.get("user_id")
        now = self.clock()
        if isinstance(cmd, Due | Team):
            with self.writing() as s:
                staff = access.staff_for(s, user)
                if isinstance(cmd, Team) and staff.team_id is None and staff.role not in access.MANAGER_ROLES:
                    raise Refused(
                        "You are in no team, so Seen has no team list to show you. "
                        "Ask an administrator to add you to your team."
                    )
                what = "due" if isinstance(cmd, Due) else "team"
                write_audit(s, f"{what}_list.viewed", actor=staff.id, at=now, detail={"via": "slack"})
                if isinstance(cmd, Due):
                    return caseview.my_due_parts(s, staff, now, views.RESPONSE_URL_POSTS)
                return caseview.team_due_parts(s, staff, now, views.RESPONSE_URL_POSTS)
        if isinstance(cmd, Child):
            with self.writing() as s:
                staff = access.staff_for(s, user)
                child = access.child_for(s, cmd.case_ref)
                access.check_can_see(staff, child)
                write_audit(
                    s, "case.viewed", child_id=child.id, actor=staff.id, at=now, detail={"via": "slack"}
                )
                return caseview.child_text(s, child, now)
        if isinstance(cmd, Note):
            with self.writing() as s:
                staff = access.staff_for(s, user)
                child = access.child_for(s, cmd.case_ref)
                access.check_can_log(staff, child)
                facts.add_case_note(
                    s,
                    child,
                    staff,
                    cmd.text,
                    at=now,
                    source="command",
                    source_key=f"slack:note:{command.get('trigger_id')}",
                    now=now,
                )
                return f"Case note added to {child_label(child.case_ref, child.initials)}."
        if isinstance(cmd, Log):
            return self._log(cmd, command, client, now)
        if isinstance(cmd, Record):
            with self.factory() as s:
                staff = access.staff_for(s, user)
                child = access.child_for(s, cmd.case_ref)
                access.check_can_log(staff, child)
                view, reply = self._record_form(s, staff, child, now)
            failed = self._open_view(client, command.get("trigger_id"), view)
            if failed is not None:
                return f":warning: {failed} Type `/seen record {child.case_ref}` again to open it."
            self.audit("record_form.opened", staff=staff, child_id=child.id, via="slack")
            return reply
        return None

    @staticmethod
    def _open_view(client: Any, trigger_id: Any, view: dict[str, Any]) -> str | None:
        """Open a form (views.open): None when it opened, else what to tell the user. Slack takes a
        trigger once and for 3 seconds only, so a slow answer or a second try is refused."""
        try:
            client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            return f"The form did not open: {slack_refused(exc)}"
        return None

    def _log(self, cmd: Log, command: dict[str, Any], client: Any, now: datetime) -> str:
        with self.writing() as s:
            staff = access.staff_for(s, command.get("user_id"))
            child = access.child_for(s, cmd.case_ref)
            access.check_can_log(staff, child)
            policy = caseview.policy_of(s, child)
            at = visit_time(cmd.at, policy.timezone, now)
            seen = cmd.outcome == "seen"
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
                child_seen=seen,
                seen_alone=alone,
                seen_alone_reason=cmd.alone_reason if alone == "no" else None,
                bedroom_seen=cmd.bedroom if cmd.outcome != "no-one-home" else None,
                child_awake=cmd.awake,
                no_one_home=cmd.outcome == "no-one-home",
                recorded_at=None,  # the record is completed in the form (CB-RECORD, HI-RECORD-24H)
            )
            source_key = f"slack:log:{command.get('trigger_id')}"
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
                    detail={"contact_id": row.id, "via": "slack"},
                )
            s.flush()
            form = self._visit_form(s, staff, child, policy, row, now)
            if cmd.alone is False and not cmd.alone_reason:
                form.children[0].alone = "no"
            label = outcome_words(policy, contact)
            opened = caseview.open_obligations(s, [child], now)
            stored_at = row.at
        failed = self._open_view(client, command.get("trigger_id"), views.visit_modal(form))
        what = f"{child_label(child.case_ref, child.initials)}, {label} on {when(policy, stored_at)}"
        if again:
            lines = [f"Already logged by you: {what}. It is kept once; nothing new was stored."]
        else:
            lines = [f"Logged: {what}."]
        if failed is None:
            lines[0] += (
                " Complete the Record of a Child Protection Visit in the form now open "
                f"(or later with `/seen record {child.case_ref}`)."
            )
        else:
            lines[0] += (
                f" {failed} Complete the Record of a Child Protection Visit with "
                f"`/seen record {child.case_ref}`."
            )
        if opened:
            lines.append("Now open for this child:")
            lines += [f"• [{o.ob.rule}] due {when(policy, o.ob.due)}: {o.ob.summary}" for o in opened[:6]]
        return "\n".join(lines)

    # -- the visit record form -----------------------------------------------------------------
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
            what = outcome_words(policy, _model(contact))
            reply = f"Completing the record of the {what} of {label} on {when(policy, contact.at)}."
        else:
            reply = f"Recording a new visit to {label}."
        return views.visit_modal(form), reply

    def siblings_changed(self, body: dict[str, Any], client: Any) -> None:
        """The form's sibling selection changed: the form again with one section per child."""
        view = body["view"]
        meta = _metadata(view)
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
        meta = _metadata(view)
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
            error_block=f"outcome__{_metadata(view).get('c')}",
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
        meta = _metadata(view)
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
                    f"• {child_label(c.case_ref, c.initials)}: {outcome_words(policy, _model(row))} "
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

    # -- buttons --------------------------------------------------------------------------------
    def on_button(self, body: dict[str, Any], action: dict[str, Any], client: Any, respond: Any) -> None:
        user = body["user"]["id"]
        value = _json_object(action.get("value"))
        action_id = action["action_id"]
        try:
            if action_id == "seen_ack":
                self._acknowledge(body, value, client)
            elif action_id == "seen_decide":
                self._open_decision(body, value, client)
            elif action_id in ("seen_log_visit", "seen_open_record"):
                self._open_visit_from_button(body, value, client, action_id == "seen_open_record")
            elif action_id == "seen_snooze":
                self._snooze(body, value, client)
        except (Refused, FactError) as exc:
            self.refused(user, action_id, str(exc), value.get("c"))
            _say(respond, f":no_entry: {exc}")
        except SlackFormNotOpened as exc:
            _say(respond, f":warning: {exc} Press the button again.")
        except SlackApiError as exc:
            _say(respond, f":warning: {slack_refused(exc)} Nothing was changed: press the button again.")

    @staticmethod
    def _clicked(
        s: Session, body: dict[str, Any], value: dict[str, Any], *, decide: bool
    ) -> tuple[Staff, ChildRecord]:
        """Who clicked a button and the child its message is about ("c" in the button's value),
        refused unless they may decide for the message's owner ("w", a prompt's buttons) or, with
        `decide` False, log visits for the child (a reminder's buttons)."""
        staff = access.staff_for(s, body["user"]["id"])
        child = access.child_for(s, value.get("c") or "")
        if decide:
            access.check_can_decide(staff, child, value.get("w") or "team_manager")
        else:
            access.check_can_log(staff, child)
        return staff, child

    def _acknowledge(self, body: dict[str, Any], value: dict[str, Any], client: Any) -> None:
        now = self.clock()
        user = body["user"]["id"]
        with self.writing() as s:
            staff, child = self._clicked(s, body, value, decide=True)
            if not value.get("o"):
                raise Refused("This message has nothing to acknowledge.")
            ack = facts.acknowledge(s, child, staff, value["o"], at=now, now=now)
            policy = caseview.policy_of(s, child)
            note = (
                f":white_check_mark: Acknowledged by {views.mention(user)} at {when(policy, ack.at)}. "
                "The rule is met by the recorded decision."
            )
        self._update_copies(client, body, value, note, ["Record decision"])

    def _open_decision(self, body: dict[str, Any], value: dict[str, Any], client: Any) -> None:
        now = self.clock()
        with self.factory() as s:
            staff, child = self._clicked(s, body, value, decide=True)
            policy = caseview.policy_of(s, child)
            open_now = [o for o in caseview.open_obligations(s, [child], now) if o.ob.key == value.get("o")]
            if not open_now:
                raise Refused(
                    f"Nothing to decide: [{value.get('r')}] for {child.case_ref} is already met "
                    "(a decision may have been recorded)."
                )
            ob = open_now[0].ob
            choices = forms.decision_choices(policy, ob.rule, ob.owner)
            container = body.get("container") or {}
            meta = {
                "o": ob.key,
                "r": ob.rule,
                "c": child.case_ref,
                "w": ob.owner,
                "k": value.get("k"),
                "ch": container.get("channel_id"),
                "ts": container.get("message_ts"),
                "limit_rule": choices.limit_rule,
            }
            view = views.decision_modal(
                rule=ob.rule,
                child_label=child_label(child.case_ref, child.initials),
                summary=f"{ob.summary}. Due {when(policy, ob.due)}.",
                outcomes=list(choices.outcomes),
                max_days=choices.max_days,
                metadata=meta,
                days_label=choices.days_label,
            )
        self._open_from_button(client, body, view)
        self.audit("decision_form.opened", staff=staff, child_id=child.id, via="slack", rule=ob.rule)

    def _open_visit_from_button(
        self, body: dict[str, Any], value: dict[str, Any], client: Any, record: bool
    ) -> None:
        now = self.clock()
        with self.factory() as s:
            staff, child = self._clicked(s, body, value, decide=False)
            if record:
                view, _ = self._record_form(s, staff, child, now)
            else:
                policy = caseview.policy_of(s, child)
                view = views.visit_modal(self._visit_form(s, staff, child, policy, None, now))
        self._open_from_button(client, body, view)
        self.audit("record_form.opened", staff=staff, child_id=child.id, via="slack")

    def _open_from_button(self, client: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        failed = self._open_view(client, body.get("trigger_id"), view)
        if failed is not None:
            raise SlackFormNotOpened(failed)

    def _snooze(self, body: dict[str, Any], value: dict[str, Any], client: Any) -> None:
        now = self.clock()
        user = body["user"]["id"]
        with self.writing() as s:
            staff, child = self._clicked(s, body, value, decide=False)
            policy = caseview.policy_of(s, child)
            if not policy.reminders.snooze_allowed:
                raise Refused(f"{policy.name} does not allow snoozing reminders.")
            if not value.get("k"):
                raise Refused("This message has nothing to snooze.")
            facts.acknowledge(s, child, staff, value["k"], at=now, now=now)
            tomorrow = policy.calendar.add_working_days(now.astimezone(policy.timezone).date(), 1)
            write_audit(
                s,
                "reminder.snoozed",
                child_id=child.id,
                actor=staff.id,
                at=now,
                detail={"key": value["k"], "until": tomorrow.isoformat(), "rule": value.get("r")},
            )
        note = (
            f":zzz: Snoozed by {views.mention(user)} until {tomorrow.strftime('%a %d %b')}: "
            "the next reminder comes then."
        )
        self._update_copies(client, body, value, note, ["Log visit", "Open record"], only_clicked=True)

    def _update_copies(
        self,
        client: Any,
        body: dict[str, Any],
        value: dict[str, Any],
        note: str,
        keep: list[str],
        only_clicked: bool = False,
    ) -> None:
        """Update the clicked message in place (chat.update), and the other copies of the prompt."""
        refs: dict[str, str] = {}
        container = body.get("container") or {}
        message = body.get("message") or {}
        if container.get("channel_id") and container.get("message_ts"):
            refs[f"{container['channel_id']}:{container['message_ts']}"] = views.from_slack(
                message.get("text") or ""
            )
        if not only_clicked and value.get("o"):
            for ref, text in self._prompt_messages(value["o"]):
                refs.setdefault(ref, text)
        self._update_refs(client, refs, note, keep, value)

    def _prompt_messages(self, obligation_key: str) -> list[tuple[str, str]]:
        """Every delivered message (reference, text) of an obligation's prompt, at any stage."""
        with self.factory() as s:
            rows = s.execute(
                select(Outbox.message_ref, Outbox.text).where(
                    Outbox.key.startswith(obligation_key + ":", autoescape=True),
                    Outbox.message_ref.is_not(None),
                )
            )
            return [(ref, text) for ref, text in rows]

    def _update_refs(
        self, client: Any, refs: dict[str, str], note: str, keep: list[str], value: dict[str, Any]
    ) -> None:
        button_value = json.dumps(value, separators=(",", ":"))
        for ref, text in refs.items():
            where = split_ref(ref)
            if where is None:
                continue
            channel, ts = where
            try:
                response = client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=views.mrkdwn(f"{text}\n{note}"),
                    blocks=views.updated_blocks(text, note, keep, button_value),
                )
            except SlackApiError as exc:
                log.warning("could not update %s: %s", ref, exc.response.get("error"))
            else:
                warned(response, ref)

    # -- the decision form ---------------------------------------------------------------------
    def submit_decision(self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        """The decision form: the decision and its case note, then the prompt's messages updated."""
        self._submit(
            ack,
            body,
            view,
            client,
            kind="decision",
            refused_as="decision",
            error_block="outcome",
            store=self._store_decision,
            follow_up=self.after_decision,
        )

    def _store_decision(self, s: Session, staff: Staff, submitted: Submission) -> None:
        view, meta, values, now = submitted.view, submitted.meta, submitted.values, submitted.now
        rule, owner = meta.get("r"), meta.get("w") or "team_manager"
        if not isinstance(rule, str) or not isinstance(owner, str):
            raise Refused(FORM_UNREADABLE)
        child = access.child_for(s, meta.get("c") or "")
        access.check_can_decide(staff, child, owner)
        policy = caseview.policy_of(s, child)
        choices = forms.decision_choices(policy, rule, owner)
        entry = forms.read_decision(values, choices)
        decision = model.Decision(
            at=now,
            rule=rule,
            by=access.engine_role(staff, child),
            outcome=entry.outcome,
            within_working_days=entry.within_working_days,
        )
        text = decision_note(decision, entry)
        facts.record_decision(
            s,
            child,
            decision,
            by_staff=staff,
            note=text,
            source_key=f"slack:view:{view['id']}",
            now=now,
        )
        facts.add_case_note(
            s,
            child,
            staff,
            text,
            at=now,
            source="decision",
            source_key=f"slack:view:{view['id']}:note",
            now=now,
        )

    def after_decision(self, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        meta = _metadata(view)
        user = body["user"]["id"]
        with self.factory() as s:
            row = s.scalar(select(Decision).where(Decision.source_key == f"slack:view:{view['id']}"))
            child = s.scalar(select(ChildRecord).where(ChildRecord.case_ref == meta.get("c")))
            if row is None or child is None:
                return
            policy = caseview.policy_of(s, child)
        what = views.DECISION_TEXT.get(row.outcome, row.outcome)
        if row.within_working_days:
            what += (
                f" within {row.within_working_days} working day{'s' if row.within_working_days > 1 else ''}"
            )
        note = (
            f":memo: Decision recorded by {views.mention(user)} at {when(policy, row.created_at)}: "
            f"{what} [{row.rule}]."
        )
        refs = dict(self._prompt_messages(meta["o"])) if meta.get("o") else {}
        value = {
            "k": meta.get("k"),
            "o": meta.get("o"),
            "c": meta.get("c"),
            "r": meta.get("r"),
            "w": meta.get("w"),
        }
        self._update_refs(client, refs, note, [], value)

    # -- thread replies --------------------------------------------------------------------------
    def on_message(self, event: dict[str, Any], body: dict[str, Any], client: Any, context: Any) -> None:
        """A reply in the thread of a reminder or prompt is a case note; a real edit of it (Slack
        marks it `edited`, and the text changed) is a new version, a deletion a deletion. Anything
        else is not a note: the thread's parent, bots' and Seen's own messages, and the
        `message_changed` Slack sends to add a link preview (same text, not edited)."""
        subtype = event.get("subtype")
        channel = event.get("channel")
        if subtype in (None, "thread_broadcast", "file_share"):
            msg, kind = event, "new"
        elif subtype == "message_changed":
            msg, kind = event.get("message") or {}, "edit"
            if not msg.get("edited") or msg.get("text") == (event.get("previous_message") or {}).get("text"):
                return  # a link preview or an attachment added by Slack: the words are as they were
        elif subtype == "message_deleted":
            msg, kind = event.get("previous_message") or {}, "delete"
        else:
            return
        if msg.get("bot_id") or msg.get("subtype") == "bot_message" or not msg.get("user") or not channel:
            return
        if msg.get("user") == getattr(context, "bot_user_id", None):
            return  # Seen's own post
        ts, thread_ts = msg.get("ts"), msg.get("thread_ts")
        if not ts or not thread_ts or ts == thread_ts:
            return
        now = self.clock()
        reply_key = f"{channel}:{ts}"
        with self.factory() as s:
            row = s.scalar(
                select(Outbox).where(
                    Outbox.message_ref == f"{channel}:{thread_ts}", Outbox.child_id.is_not(None)
                )
            )
            if row is None:
                return  # not a thread of a reminder or prompt
            child_id = row.child_id
        try:
            with self.writing() as s:
                staff = access.staff_for(s, msg.get("user"))
                child = s.get(ChildRecord, child_id)
                assert child is not None
                if not access.can_see(staff, child):
                    raise Refused(f"{child.case_ref} is not a child of your team: the reply was not kept.")
                thread_ref = f"{channel}:{thread_ts}"
                if kind == "new":
                    facts.add_case_note(
                        s,
                        child,
                        staff,
                        msg.get("text") or "",
                        at=_ts_time(ts, now),
                        source="slack_thread",
                        thread_ref=thread_ref,
                        source_key=f"slack:msg:{reply_key}",
                        now=now,
                    )
                else:
                    latest = _latest_note(s, f"slack:msg:{reply_key}")
                    if kind == "edit":
                        edited = (
                            (msg.get("edited") or {}).get("ts")
                            or event.get("event_ts")
                            or body.get("event_id")
                        )
                        if latest is not None and (
                            latest.text == (msg.get("text") or "") or _ts_time(edited, now) <= latest.at
                        ):
                            return  # the words kept already, or an edit older than the version kept
                        facts.add_case_note(
                            s,
                            child,
                            staff,
                            msg.get("text") or "",
                            at=_ts_time(edited, now),
                            source="slack_thread",
                            thread_ref=thread_ref,
                            supersedes=latest,
                            source_key=f"slack:edit:{reply_key}:{edited}",
                            now=now,
                        )
                    elif latest is not None and not latest.deleted:
                        facts.add_case_note(
                            s,
                            child,
                            staff,
                            "",
                            at=_ts_time(event.get("event_ts") or event.get("ts"), now),
                            source="slack_thread",
                            thread_ref=thread_ref,
                            supersedes=latest,
                            deleted=True,
                            source_key=f"slack:delete:{reply_key}",
                            now=now,
                        )
                    else:
                        return
        except IntegrityError:
            return  # the same message arrived twice at once (a Slack retry): the first one stored it
        except (Refused, FactError) as exc:
            self.refused(msg.get("user"), "thread reply", str(exc))
            with contextlib.suppress(SlackApiError):
                client.chat_postEphemeral(
                    channel=channel,
                    user=msg.get("user"),
                    thread_ts=thread_ts,
                    text=views.mrkdwn(f":warning: {exc}"),
                )
            return
        if kind == "new":
            try:
                client.reactions_add(channel=channel, timestamp=ts, name=REACTION)
            except SlackApiError as exc:
                if exc.response.get("error") != "already_reacted":
                    log.warning("could not react to %s: %s", reply_key, exc.response.get("error"))

    # -- App Home ------------------------------------------------------------------------------
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


def _say(respond: Any, text: str) -> None:
    """An answer only the user sees (ephemeral), next to what they typed or clicked."""
    respond(text=views.mrkdwn(text), response_type="ephemeral", replace_original=False)


def decision_note(decision: model.Decision, entry: forms.DecisionEntry) -> str:
    what = views.DECISION_TEXT.get(decision.outcome, decision.outcome)
    if decision.within_working_days:
        what += f" within {decision.within_working_days} working days"
    parts = [f"Decision under {decision.rule} by the {decision.by.replace('_', ' ')}: {what}."]
    if entry.informed:
        parts.append(f"Informed: {entry.informed}.")
    if entry.note:
        parts.append(entry.note)
    return " ".join(parts)


def outcome_words(policy: Policy, contact: model.Contact) -> str:
    """HI-OUTCOME's label where the policy sets one, else the kind of contact and how it went."""
    label = outcome_label(policy, contact)
    if policy.rule_of_kind("outcome_labels") is not None and contact.kind == "home_visit":
        return label
    if contact.no_one_home:
        return f"{label} (no one home)"
    return f"{label} ({'child seen' if contact.child_seen else 'child not seen'})"


def _model(row: Contact) -> model.Contact:
    return model.Contact(
        at=row.at, kind=row.kind, by=row.by_role, child_seen=row.child_seen, no_one_home=row.no_one_home
    )


def _latest_note(s: Session, source_key: str) -> CaseNote | None:
    row = s.scalar(select(CaseNote).where(CaseNote.source_key == source_key))
    while row is not None:
        newer = s.scalar(
            select(CaseNote).where(CaseNote.supersedes_id == row.id).order_by(CaseNote.id.desc())
        )
        if newer is None:
            return row
        row = newer
    return None


FORM_UNREADABLE = "This form could not be read: close it and open it again."
SLACK_ERRORS = {
    "expired_trigger_id": "Slack opens a form only within 3 seconds of the request, and it came too late.",
    "exchanged_trigger_id": "Slack opens one form per request, and this one was used already.",
    "invalid_trigger_id": "Slack did not recognise the request that should open it.",
    "ratelimited": "Slack is busy (rate limited).",
}


class SlackFormNotOpened(Exception):
    """views.open refused after the work before it was stored: the message says so."""


def slack_refused(exc: SlackApiError) -> str:
    """Slack's refusal in words for the user (its error code logged, never the payload)."""
    error = str(exc.response.get("error") or getattr(exc.response, "status_code", ""))
    log.warning("Slack refused a call: %s", error)
    return SLACK_ERRORS.get(error, f"Slack refused it ({error}).")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's private metadata, as this app wrote it when opening the form. Slack sends it back
    unchanged; anything that is not a JSON object (a garbled or forged payload) reads as empty, and
    the submission is then refused for want of a known child."""
    return _json_object(view.get("private_metadata"))


def _json_object(text: Any) -> dict[str, Any]:
    """A JSON object this app wrote (a modal's metadata, a button's value), or {} for anything else."""
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _visit_metadata(meta: dict[str, Any]) -> tuple[list[str], int | None]:
    """The visit form's siblings ("s": case references) and the contact it completes ("x")."""
    siblings, corrects = meta.get("s") or [], meta.get("x")
    if not isinstance(siblings, list) or not all(isinstance(ref, str) for ref in siblings):
        raise Refused(FORM_UNREADABLE)
    if corrects is not None and (isinstance(corrects, bool) or not isinstance(corrects, int)):
        raise Refused(FORM_UNREADABLE)
    return siblings, corrects


def crash_point(name: str) -> None:
    """Fault injection for the crash-safety test (tests/access/test_bot_crash_safety.py): when the
    environment has SEEN_TEST_KILL_AT=<name>, the process kills itself here with SIGKILL (no
    cleanup, no answer to Slack), as a power cut or the OOM killer would. The points are
    "visit-before-commit", "visit-after-commit", "decision-before-commit" and
    "decision-after-commit": inside a form's write transaction with every fact written but not
    committed, and after the commit but before Slack is answered. Never set in production."""
    if os.environ.get("SEEN_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _noop_ack(ack: Any) -> None:
    ack()


class _TokenFromClient(logging.Filter):
    """Bolt warns at every start that the token it read from SLACK_BOT_TOKEN is unused when it is
    given a client: Seen gives it the client made from that same token (on SEEN_SLACK_API_URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def build_app(
    factory: sessionmaker[Session],
    *,
    token: str,
    signing_secret: str,
    clock: Clock = utcnow,
    base_url: str | None = None,
    process_before_response: bool = False,
    token_verification_enabled: bool = True,
) -> App:
    """The Bolt app. `process_before_response` must stay False except on FaaS (it is what lets
    listeners acknowledge first and work after); signatures are always verified."""
    client = make_client(token, base_url)
    bolt_log = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenFromClient) for f in bolt_log.filters):
        bolt_log.addFilter(_TokenFromClient())
    app = App(
        name="seen",
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,
        request_verification_enabled=True,
        token_verification_enabled=token_verification_enabled,
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="seen-bot"),
    )
    bot = SeenBot(factory, clock)
    app.command("/seen")(ack=bot.ack_command, lazy=[bot.run_command])
    for action_id in ("seen_ack", "seen_decide", "seen_log_visit", "seen_open_record", "seen_snooze"):
        app.action(action_id)(ack=_noop_ack, lazy=[bot.on_button])
    app.action(views.SIBLINGS_ACTION)(ack=_noop_ack, lazy=[bot.siblings_changed])
    app.view(views.VISIT_CALLBACK)(bot.submit_visit)
    app.view(views.DECISION_CALLBACK)(bot.submit_decision)
    app.event("message")(bot.on_message)
    app.event("app_home_opened")(bot.on_home)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed: %s (%s)", error, (body or {}).get("type"), exc_info=error)

    app.seen = bot  # type: ignore[attr-defined]
    return app
