"""The visit record and decision forms on Teams, as dialogs (task modules), built from the same
chat-neutral forms as Slack's modals and checked and stored by the same code
(bot.core.visit_form_store, bot.core.decision_form).

- `task/fetch` (a card's open-form button: data = the button's value and `seen_form`, the form to
  open: "seen_log_visit" a new visit, "seen_open_record" the record of the latest visit not yet
  recorded, "seen_decide" the prompt's decision) -> `{"task": {"type": "continue", ...}}` with the
  dialog, or `{"task": {"type": "message", ...}}` saying why not.
- `task/submit` (data = the inputs by field id, `seen_form` and `seen_metadata`) -> stored, and
  the dialog closes with a confirmation; invalid answers -> the dialog again keeping them, each
  error under its field, nothing stored; a refusal -> its words, audited, nothing stored.
- A typed `record C-1042` -> a card with a "Record a visit" button (a message cannot open a dialog).
- The "Record a visit" message extension (`composeExtension/fetchTask`, `/submitAction`): the same
  dialog, for the child named in the message it was started from, else for a child chosen first.

Each submission's key is `teams:dialog:<activity id>` (source keys `<key>:<case ref>` for visits,
`<key>` and `<key>:note` for a decision), so a retried invoke stores nothing twice.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import FORM_UNREADABLE
from bot.core.decision_form import DECISION_FORM, DecisionRecording
from bot.core.form_answers import DataAnswers, FormErrors
from bot.core.model import Action, Form, FormField, Message, Option
from bot.core.parse import ParseError, Record, parse
from bot.core.visit_form import SIBLINGS_ACTION, VISIT_FORM, visit_form
from bot.core.visit_form_store import VisitRecording
from bot.slack.views import ACTION_IDS
from bot.teams.cards import DISPATCH_KEY, FORM_KEY, METADATA_KEY, task_message, task_module
from bot.teams.package import RECORD_VISIT
from scheduler.messages import child_label
from storage.caseload import CASE_REF
from storage.facts import FactError
from storage.models import Child, Decision, Staff

# The open-form buttons' ids, as the outbox's messages name them on both platforms.
LOG_VISIT = ACTION_IDS["Log visit"]  # a new visit
OPEN_RECORD = ACTION_IDS["Open record"]  # "Record a visit": completes the latest visit not yet recorded
DECIDE = ACTION_IDS["Record decision"]
PICK_CHILD = "seen_pick_child"  # the message extension's first step when no child is named
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/.-]{0,63}")
OURS = (FORM_KEY, METADATA_KEY, DISPATCH_KEY, "msteams")


def submission_key(activity_id: str) -> str:
    """The key a dialog's submission is stored under: the invoke's activity id."""
    return f"teams:dialog:{activity_id}"


def entered(data: dict[str, Any]) -> dict[str, Any]:
    """A dialog's inputs as entered (field id -> string), without Seen's own keys."""
    return {k: v for k, v in data.items() if k not in OURS and isinstance(v, str)}


def mentioned_child(s: Session, payload: Any) -> Child | None:
    """The first child a message names by case reference (in its text or its cards), if any."""
    text = json.dumps(payload, default=str) if payload else ""
    words = [w.rstrip(".").upper() for w in _WORD.findall(text)]
    words = [w for w in dict.fromkeys(words) if CASE_REF.fullmatch(w)][:500]
    known = (
        {c.case_ref: c for c in s.scalars(select(Child).where(Child.case_ref.in_(words)))} if words else {}
    )
    return next((known[w] for w in words if w in known), None)


class TeamsDialogs(VisitRecording, DecisionRecording):
    platform = "teams"
    unknown_staff = access.UNKNOWN_TEAMS_STAFF

    # -- opening ------------------------------------------------------------------------------
    def open(self, aad: str | None, data: Any) -> dict[str, Any]:
        """The answer to `task/fetch`: the dialog the button names, or why not."""
        data = data if isinstance(data, dict) else {}
        which = data.get(FORM_KEY)
        try:
            form, child, staff, detail = self._form_to_open(aad, which, data)
        except (Refused, FactError) as exc:
            self.refused(aad, str(which), str(exc), data.get("c") if isinstance(data.get("c"), str) else None)
            return task_message(f"⛔ {exc}")
        action = "decision_form.opened" if form.id == DECISION_FORM else "record_form.opened"
        self.audit(action, staff=staff, child_id=child.id, via="teams", **detail)
        return task_module(form)

    def _form_to_open(
        self, aad: str | None, which: Any, data: dict[str, Any]
    ) -> tuple[Form, Child, dict[str, Any]]:
        now = self.clock()
        with self.factory() as s:
            staff = access.staff_for(s, aad, self.unknown_staff)
            child = access.child_for(s, data.get("c") or "")
            if which == DECIDE:
                access.check_can_decide(staff, child, data.get("w") or "team_manager")
                form, rule = self.decision_form_for(s, staff, child, data, now)
                return form, child, staff, {"rule": rule}
            if which not in (LOG_VISIT, OPEN_RECORD, VISIT_FORM):
                raise Refused(FORM_UNREADABLE)
            access.check_can_log(staff, child)
            if which == LOG_VISIT:
                spec = self._visit_form(s, staff, child, caseview.policy_of(s, child), None, now)
            else:
                spec, _ = self.record_form_for(s, staff, child, now)
            return visit_form(spec), child, staff, {}

    def typed(self, aad: str | None, text: str) -> Message | str | None:
        """A typed `record C-1042`: a card whose button opens the dialog (or why not); None for
        any other text."""
        try:
            cmd = parse(text.strip())
        except ParseError:
            return None
        if not isinstance(cmd, Record):
            return None
        try:
            with self.factory() as s:
                staff = access.staff_for(s, aad, self.unknown_staff)
                child = access.child_for(s, cmd.case_ref)
                access.check_can_log(staff, child)
                _, reply = self.record_form_for(s, staff, child, self.clock())
        except (Refused, FactError) as exc:
            self.refused(aad, "record", str(exc), cmd.case_ref)
            return f"⚠️ {exc}"
        button = Action(
            OPEN_RECORD, "Record a visit", kind="open_form", value={"c": child.case_ref}, primary=True
        )
        return Message(
            fallback=reply, sections=(f"{reply} Open the form to complete it.",), actions=(button,)
        )

    # -- submitting ---------------------------------------------------------------------------
    def submit(self, aad: str | None, data: Any, activity_id: str) -> dict[str, Any]:
        """The answer to `task/submit`: stored and a confirmation, the dialog again with the errors
        (or with the siblings chosen), or the refusal's words."""
        data = data if isinstance(data, dict) else {}
        which = data.get(FORM_KEY)
        meta = data.get(METADATA_KEY) if isinstance(data.get(METADATA_KEY), dict) else {}
        refused_as = "decision" if which == DECISION_FORM else "visit record"
        key = submission_key(activity_id or str(uuid.uuid4()))  # the connector's retry has the same id
        answers = DataAnswers(data)
        now = self.clock()
        try:
            if which == PICK_CHILD:
                return self.open(aad, {FORM_KEY: OPEN_RECORD, "c": answers.choice("child")})
            if which == VISIT_FORM and data.get(DISPATCH_KEY) == SIBLINGS_ACTION:
                with self.factory() as s:
                    staff = access.staff_for(s, aad, self.unknown_staff)
                    spec = self.form_with_siblings(s, staff, meta, answers.choices("siblings"))
                return task_module(visit_form(spec).with_initial(entered(data)))
            try:
                with self.writing() as s:
                    staff = access.staff_for(s, aad, self.unknown_staff)
                    if which == VISIT_FORM:
                        self.store_visit(s, staff, meta, answers, now, key)
                    elif which == DECISION_FORM:
                        self.store_decision(s, staff, meta, answers, now, key)
                    else:
                        raise Refused(FORM_UNREADABLE)
            except FormErrors as exc:
                return task_module(self._again(aad, which, meta).with_initial(entered(data)), exc.errors)
        except (Refused, FactError) as exc:
            c = meta.get("c")
            self.refused(aad, refused_as, str(exc), c if isinstance(c, str) else None)
            return task_message(f"⛔ {exc}")
        return task_message(self._saved(which, meta, key))

    def _again(self, aad: str | None, which: Any, meta: dict[str, Any]) -> Form:
        """The form of a submission with errors, as it was opened."""
        with self.factory() as s:
            staff = access.staff_for(s, aad, self.unknown_staff)
            if which == VISIT_FORM:
                siblings = meta.get("s") if isinstance(meta.get("s"), list) else []
                return visit_form(self.form_with_siblings(s, staff, meta, siblings))
            child = access.child_for(s, meta.get("c") or "")
            return self.decision_form_for(s, staff, child, meta, self.clock())[0]

    def _saved(self, which: Any, meta: dict[str, Any], key: str) -> str:
        if which == VISIT_FORM:
            return self.visit_saved(key, meta) or "Visit record saved."
        with self.factory() as s:
            row = s.scalar(select(Decision).where(Decision.source_key == key))
            child = s.get(Child, row.child_id) if row is not None else None
            if row is None or child is None:
                return "Decision recorded."
            label = child_label(child.case_ref, child.initials)
        return f"Decision recorded for {label}: {self.decision_saved(row)}."

    # -- the message extension ----------------------------------------------------------------
    def extension_open(self, aad: str | None, value: Any) -> dict[str, Any]:
        """`composeExtension/fetchTask` of "Record a visit": the visit dialog for the child the
        message names, else a first dialog choosing one of the person's children."""
        value = value if isinstance(value, dict) else {}
        if value.get("commandId") != RECORD_VISIT:
            return task_message(f"⛔ {FORM_UNREADABLE}")
        try:
            with self.factory() as s:
                staff = access.staff_for(s, aad, self.unknown_staff)
                child = mentioned_child(s, value.get("messagePayload"))
                ref = child.case_ref if child is not None else None
                form = self._pick_child(s, staff) if ref is None else None
            if ref is not None:
                return self.open(aad, {FORM_KEY: OPEN_RECORD, "c": ref})
        except Refused as exc:
            self.refused(aad, "record", str(exc))
            return task_message(f"⛔ {exc}")
        assert form is not None
        return task_module(form)

    @staticmethod
    def _pick_child(s: Any, staff: Staff) -> Form:
        children = caseview.children_of_worker(s, staff)[:100]
        if not children:
            raise Refused("You lead no open case: type `record C-1042` with the child's case reference.")
        options = tuple(Option(c.case_ref, child_label(c.case_ref, c.initials)) for c in children)
        field = FormField("child", "Which child was visited?", "select", options=options)
        return Form(PICK_CHILD, "Record a visit", "Next", (field,))

    def extension_submit(self, aad: str | None, value: Any, activity_id: str) -> dict[str, Any]:
        """`composeExtension/submitAction`: stored as a dialog's submission; the result as a message."""
        value = value if isinstance(value, dict) else {}
        answer = self.submit(aad, value.get("data"), activity_id)
        task = answer["task"]
        if task["type"] == "message":
            return {"composeExtension": {"type": "message", "text": task["value"]}}
        return answer
