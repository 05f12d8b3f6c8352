"""The decision form: opened by a prompt's "Record decision", checked and stored on submission."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import FORM_UNREADABLE, Core, Submission
from bot.slack import forms, views
from bot.slack.errors import form_metadata
from scheduler.messages import child_label, when
from scheduler.rules import model
from storage import facts
from storage.models import Child as ChildRecord
from storage.models import Decision, Staff

log = logging.getLogger("seen.bot")


class DecisionForm(Core):
    """The decision form: opened by a prompt's "Record decision", checked and stored on submission."""

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
            access.check_is_decider(staff, child, policy.rules.get(ob.rule))
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
        access.check_is_decider(staff, child, policy.rules.get(rule))
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
        meta = form_metadata(view)
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


def register(app: App, bot: DecisionForm) -> None:
    app.view(views.DECISION_CALLBACK)(bot.submit_decision)
