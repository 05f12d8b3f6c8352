"""The decision form on Slack: opened by a prompt's "Record decision" as a modal, checked and
stored on submission (the form and its checks: bot.core.decision_form)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import caseview
from bot.core.context import Core, Submission
from bot.core.decision_form import DecisionRecording
from bot.slack import blockkit, views
from bot.slack.errors import form_metadata
from bot.slack.forms import SlackAnswers
from scheduler.messages import when
from storage.models import Child as ChildRecord
from storage.models import Decision, Staff

log = logging.getLogger("seen.bot")


class DecisionForm(DecisionRecording, Core):
    """The decision form: opened by a prompt's "Record decision", checked and stored on submission."""

    def _open_decision(self, body: dict[str, Any], value: dict[str, Any], client: Any) -> None:
        now = self.clock()
        container = body.get("container") or {}
        with self.factory() as s:
            staff, child = self._clicked(s, body, value, decide=True)
            form, rule = self.decision_form_for(
                s, staff, child, value, now, ch=container.get("channel_id"), ts=container.get("message_ts")
            )
        self._open_from_button(client, body, blockkit.modal(form))
        self.audit("decision_form.opened", staff=staff, child_id=child.id, via="slack", rule=rule)

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
        key = f"slack:view:{submitted.view['id']}"
        self.store_decision(s, staff, submitted.meta, SlackAnswers(submitted.values), submitted.now, key)

    def after_decision(self, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        meta = form_metadata(view)
        user = body["user"]["id"]
        with self.factory() as s:
            row = s.scalar(select(Decision).where(Decision.source_key == f"slack:view:{view['id']}"))
            child = s.scalar(select(ChildRecord).where(ChildRecord.case_ref == meta.get("c")))
            if row is None or child is None:
                return
            policy = caseview.policy_of(s, child)
        note = f":memo: {self.decision_recorded(views.mention(user), when(policy, row.created_at), row)}"
        refs = dict(self._prompt_messages(meta["o"])) if meta.get("o") else {}
        value = {
            "k": meta.get("k"),
            "o": meta.get("o"),
            "c": meta.get("c"),
            "r": meta.get("r"),
            "w": meta.get("w"),
        }
        self._update_refs(client, refs, note, [], value)


def register(app: App, bot: DecisionForm) -> None:
    app.view(views.DECISION_CALLBACK)(bot.submit_decision)
