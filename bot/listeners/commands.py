"""`/seen`: parsed and acknowledged at once, answered after the acknowledgement (lazy listener)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.commands import answer
from bot.core.context import Core
from bot.core.parse import HELP, Child, Due, Help, Log, Note, ParseError, Record, Team, parse, visit_time
from bot.core.words import outcome_words
from bot.slack import views
from bot.slack.errors import say, slack_refused
from scheduler.messages import child_label, when
from scheduler.rules import model
from storage import facts
from storage.audit import write_audit
from storage.facts import FactError

log = logging.getLogger("seen.bot")


class Commands(Core):
    """`/seen`: parsed and acknowledged at once, answered after the acknowledgement (lazy listener)."""

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
            say(respond, part)

    def _command(self, cmd: Any, command: dict[str, Any], client: Any) -> str | list[str] | None:
        """The answer to a command: one message, or several (a long list, in order)."""
        user = command.get("user_id")
        now = self.clock()
        if isinstance(cmd, Due | Team | Child | Note):
            with self.writing() as s:
                staff = access.staff_for(s, user)
                return answer(
                    s,
                    staff,
                    cmd,
                    now,
                    via="slack",
                    note_key=f"slack:note:{command.get('trigger_id')}",
                    max_parts=views.RESPONSE_URL_POSTS,
                )
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


def register(app: App, bot: Commands) -> None:
    app.command("/seen")(ack=bot.ack_command, lazy=[bot.run_command])
