"""The buttons of reminders and prompts: acknowledge, decide, log or record a visit, snooze."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.core import buttons, caseview
from bot.core.access import Refused
from bot.core.context import Core, json_object
from bot.slack import views
from bot.slack.errors import SlackFormNotOpened, noop_ack, say, slack_refused
from bot.slack.messenger import split_ref, warned
from storage.facts import FactError
from storage.models import Child as ChildRecord
from storage.models import Staff

log = logging.getLogger("seen.bot")


class Prompts(Core):
    """The buttons of reminders and prompts: acknowledge, decide, log or record a visit, snooze."""

    def on_button(self, body: dict[str, Any], action: dict[str, Any], client: Any, respond: Any) -> None:
        user = body["user"]["id"]
        value = json_object(action.get("value"))
        action_id = action["action_id"]
        try:
            if action_id == buttons.ACKNOWLEDGE:
                self._acknowledge(body, value, client)
            elif action_id == "seen_decide":
                self._open_decision(body, value, client)
            elif action_id in ("seen_log_visit", "seen_open_record"):
                self._open_visit_from_button(body, value, client, action_id == "seen_open_record")
            elif action_id == buttons.SNOOZE:
                self._snooze(body, value, client)
        except (Refused, FactError) as exc:
            self.refused(user, action_id, str(exc), value.get("c"))
            say(respond, f":no_entry: {exc}")
        except SlackFormNotOpened as exc:
            say(respond, f":warning: {exc} Press the button again.")
        except SlackApiError as exc:
            say(respond, f":warning: {slack_refused(exc)} Nothing was changed: press the button again.")

    @staticmethod
    def _clicked(
        s: Session, body: dict[str, Any], value: dict[str, Any], *, decide: bool
    ) -> tuple[Staff, ChildRecord]:
        return buttons.clicked(s, body["user"]["id"], value, decide=decide)

    def _acknowledge(self, body: dict[str, Any], value: dict[str, Any], client: Any) -> None:
        user = body["user"]["id"]
        with self.writing() as s:
            done = buttons.acknowledge(s, user, value, self.clock(), lambda _: views.mention(user))
        self._update_copies(client, body, value, f":white_check_mark: {done.note}", done.keep)

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
        user = body["user"]["id"]
        with self.writing() as s:
            done = buttons.snooze(s, user, value, self.clock(), lambda _: views.mention(user))
        self._update_copies(client, body, value, f":zzz: {done.note}", done.keep, only_clicked=True)

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
            return buttons.prompt_copies(s, obligation_key)

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


BUTTONS = ("seen_ack", "seen_decide", "seen_log_visit", "seen_open_record", "seen_snooze")


def register(app: App, bot: Prompts) -> None:
    for action_id in BUTTONS:
        app.action(action_id)(ack=noop_ack, lazy=[bot.on_button])
