"""What a person does in the chat, and what reaches them, in words that fit Slack and Teams alike:
the walkthroughs are written once against `Driver` and run on each platform's real app over HTTP
(`tests.walkthrough.slack_driver`, `tests.walkthrough.teams_driver`).

People are named by their keys in `tests.bot.conftest.add_world` ("sw", "tm", …); a message is a
`Shown` (its text as the platform shows it, its buttons by label); a form is a `FormView` whose
inputs are named by the form's own field ids, and filled with plain strings (a choice's value,
"2026-11-23", "10:30", "true")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Team
from tests.bot.conftest import Clock, World


@dataclass(frozen=True)
class Shown:
    """A message as it arrived: its text, its buttons' labels, where and which it is."""

    text: str
    buttons: tuple[str, ...]
    conversation: str
    id: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Input:
    """One input of a form: its kind on the platform, the values it offers, its initial value."""

    id: str
    kind: str
    options: tuple[str, ...] = ()
    initial: str | None = None
    required: bool = False


@dataclass(frozen=True)
class FormView:
    title: str
    inputs: dict[str, Input]
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Answer:
    """What a typed command got back: its text (the parts in order, one a line), the answer as a
    message (for its buttons) and the form it opened at once, if the platform opens one."""

    text: str
    message: Shown | None = None
    form: FormView | None = None


class Runtime(Protocol):
    def tick(self, now: datetime) -> Any: ...


class Driver(Protocol):
    name: str  # slack | teams
    clock: Clock
    factory: sessionmaker[Session]
    world: World
    runtime: Runtime
    thread_source: str  # the CaseNote.source of a thread reply on this platform
    forms_from_commands: bool  # a typed command can open a form (Slack); on Teams only a button can

    def shown(self, text: str) -> str:
        """How the platform shows the outbox's text (written with Slack's `*bold*` and `code`)."""
        ...

    def who(self, user: str) -> str:
        """How a card or message updated after `user` acted names them."""
        ...

    def type_command(self, user: str, text: str) -> Answer: ...

    def messages_to(self, user: str) -> list[Shown]:
        """What Seen sent `user` of its own accord (reminders, prompts, due lists), in order; not the
        answers to their commands."""
        ...

    def channel_messages(self, team: str) -> list[Shown]:
        """What Seen posted in the channel of the team named `team` in add_world ("North CP")."""
        ...

    def click(self, user: str, message: Shown, button: str) -> None: ...

    def updates_of(self, message: Shown, count: int = 1) -> list[Shown]:
        """The versions `message` was replaced by in place, oldest first (waits for `count`)."""
        ...

    def open_form(self, user: str, message: Shown, button: str) -> FormView: ...

    def submit_form(self, user: str, form: FormView, values: dict[str, str]) -> dict[str, str]:
        """Fill `values` in and submit: the errors shown ({} when the form was accepted)."""
        ...

    def reply_in_thread(self, user: str, message: Shown, text: str) -> None:
        """Reply to `message` in its thread; returns once Seen has acknowledged the reply."""
        ...

    def sent(self) -> list[tuple[str, str]]:
        """Everything Seen sent the platform: (what, body as text)."""
        ...

    def finish(self) -> None:
        """The platform's own checks of everything it received (raises when one fails)."""
        ...


def filled(form: FormView, values: dict[str, str]) -> dict[str, str]:
    """The form's values as a person leaves them: `values` over the initial ones. A value for an
    input the form does not have, or a choice it does not offer, is an error of the test."""
    unknown = sorted(set(values) - set(form.inputs))
    assert not unknown, f"the form {form.title!r} has no inputs {unknown}; it has {sorted(form.inputs)}"
    out: dict[str, str] = {}
    for key, spec in form.inputs.items():
        value = values.get(key, spec.initial)
        if value is None:
            continue
        if spec.options:
            assert value in spec.options, f"{key}: {value!r} is not offered ({spec.options})"
        out[key] = value
    return out


def team_channel(factory: sessionmaker[Session], team: str) -> str:
    """The chat channel of the team named `team`."""
    with factory() as s:
        channel = s.scalar(select(Team.slack_channel_id).where(Team.name == team))
    assert channel, f"no channel for the team {team!r}"
    return channel
