"""A submitted form's answers, read the same way whichever platform sent them.

Each platform hands back a form's inputs in its own shape (Slack: `view.state.values`, block id ->
element state; Teams: the dialog's data, input id -> string). `Answers` is what the checks in
`bot.core.visit_form` and `bot.core.decision_form` read through, field id by field id; an answer
not shaped as the platform sends it (a tampered or garbled payload) reads as not answered, so a
required answer is asked for again. `FormErrors` carries the per-field messages (field id ->
message) shown beside each field.
"""

from __future__ import annotations

from typing import Any, Protocol


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Answers(Protocol):
    def text(self, field: str) -> str | None:
        """Entered text, stripped; None when empty."""

    def choice(self, field: str) -> str | None:
        """The chosen option's value."""

    def choices(self, field: str) -> list[str]:
        """The chosen options' values (a multiselect)."""

    def checked(self, field: str) -> bool:
        """A ticked checkbox."""

    def day(self, field: str) -> str | None:
        """A date as entered (YYYY-MM-DD)."""

    def clock(self, field: str) -> str | None:
        """A time as entered (HH:MM)."""


def yes_no(answers: Answers, field: str) -> bool | None:
    choice = answers.choice(field)
    return None if choice is None else choice == "yes"


class DataAnswers:
    """Answers given as a mapping of field id -> string (a Teams dialog's data: every input's value
    is a string; a multiselect's values are joined by commas, a toggle is "true" or "false")."""

    def __init__(self, data: Any) -> None:
        self.data = data if isinstance(data, dict) else {}

    def _raw(self, field: str) -> str | None:
        value = self.data.get(field)
        return value if isinstance(value, str) else None

    def text(self, field: str) -> str | None:
        value = self._raw(field)
        return value.strip() or None if value is not None else None

    def choice(self, field: str) -> str | None:
        return self._raw(field) or None

    def choices(self, field: str) -> list[str]:
        return [v for v in (self._raw(field) or "").split(",") if v]

    def checked(self, field: str) -> bool:
        return self._raw(field) == "true"

    def day(self, field: str) -> str | None:
        return self._raw(field) or None

    def clock(self, field: str) -> str | None:
        return self._raw(field) or None
