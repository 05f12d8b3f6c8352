"""A submitted modal's `view.state.values` read as the chat-neutral `Answers` (each input block's
id is the form field's id, its element's action id `v`), and the visit record and decision read
from it by the checks of `bot.core.visit_form` and `bot.core.decision_form`. Errors come back as
`FormErrors` (block id -> message) for Slack's `response_action: errors`.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from bot.core import decision_form, visit_form
from bot.core.decision_form import WITH_DAYS, DecisionChoices, DecisionEntry, decision_choices
from bot.core.form_answers import FormErrors
from bot.core.visit_form import ChildMeta, VisitEntry

__all__ = [
    "WITH_DAYS",
    "ChildMeta",
    "DecisionChoices",
    "DecisionEntry",
    "FormErrors",
    "SlackAnswers",
    "VisitEntry",
    "decision_choices",
    "read_decision",
    "read_visit",
]


class SlackAnswers:
    """`Answers` from Slack's view state; a block whose state is not shaped as Slack sends it (a
    tampered or garbled payload) reads as not answered."""

    def __init__(self, values: Any) -> None:
        self.values = values if isinstance(values, dict) else {}

    def _el(self, block: str, action_id: str = "v") -> dict[str, Any]:
        entry = self.values.get(block)
        element = entry.get(action_id) if isinstance(entry, dict) else None
        return element if isinstance(element, dict) else {}

    def _str(self, block: str, key: str) -> str | None:
        value = self._el(block).get(key)
        return value if isinstance(value, str) else None

    def text(self, field: str) -> str | None:
        value = self._str(field, "value")
        return value.strip() or None if value is not None else None

    def choice(self, field: str) -> str | None:
        option = self._el(field).get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None

    def choices(self, field: str, action_id: str = "v") -> list[str]:
        options = self._el(field, action_id).get("selected_options")
        if not isinstance(options, list):
            return []
        return [o["value"] for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)]

    def checked(self, field: str) -> bool:
        return bool(self._el(field).get("selected_options"))

    def day(self, field: str) -> str | None:
        return self._str(field, "selected_date")

    def clock(self, field: str) -> str | None:
        return self._str(field, "selected_time")


def read_visit(
    values: Any,
    children: list[ChildMeta],
    *,
    tz: tzinfo,
    now: datetime,
    qualified: bool,
    note_rule: str | None,
) -> list[VisitEntry]:
    """The contacts of a submitted visit record modal, one per child visited; `FormErrors` otherwise."""
    return visit_form.read_visit(
        SlackAnswers(values), children, tz=tz, now=now, qualified=qualified, note_rule=note_rule
    )


def read_decision(values: Any, choices: DecisionChoices) -> DecisionEntry:
    return decision_form.read_decision(SlackAnswers(values), choices)
