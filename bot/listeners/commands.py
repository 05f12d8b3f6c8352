"""`/seen`: parsed and acknowledged at once, answered after the acknowledgement (lazy listener)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.core import access
from bot.core.access import Refused
from bot.core.commands import answer
from bot.core.parse import HELP, Child, Due, Help, Log, Note, ParseError, Record, Team, parse
from bot.core.visit_log import VisitLogging
from bot.slack import views
from bot.slack.errors import say, slack_refused
from storage.facts import FactError

log = logging.getLogger("seen.bot")


class Commands(VisitLogging):
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
            logged = self.log_visit(s, staff, cmd, now, source_key=f"slack:log:{command.get('trigger_id')}")
        failed = self._open_view(client, command.get("trigger_id"), views.visit_modal(logged.form))
        return logged.words(form_open=failed is None, why_not=failed or "")


def register(app: App, bot: Commands) -> None:
    app.command("/seen")(ack=bot.ack_command, lazy=[bot.run_command])
