"""The chat-neutral model: what reaches Seen from a chat platform, and what Seen sends back.

Incoming interactions (`Command`, `ButtonClicked`, `FormSubmitted`, `ThreadReply`, `Installed`,
`HomeOpened`) and outgoing content (`Message`, `Form`) name people, conversations and messages by
references that carry their platform (`UserRef`, `ConversationRef`, `MessageRef`). Renderers turn
a `Message` or `Form` into Block Kit (`bot.slack.blockkit`) or an Adaptive Card (`bot.teams.cards`);
nothing here knows either.

Text is plain: a renderer escapes it for its platform. `*bold*` is not markup here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time
from typing import Any, Literal

Platform = Literal["slack", "teams"]


# -- references ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UserRef:
    platform: Platform
    id: str  # Slack user id (U…), Teams: the user's Entra object id
    tenant: str | None = None  # Slack team id, Teams tenant id


@dataclass(frozen=True, slots=True)
class ConversationRef:
    platform: Platform
    id: str  # Slack channel / IM id; Teams conversation id
    service_url: str | None = None  # Teams: where the conversation's Bot Connector lives
    tenant: str | None = None


@dataclass(frozen=True, slots=True)
class MessageRef:
    platform: Platform
    conversation: ConversationRef
    id: str  # Slack ts; Teams activity id


# -- incoming -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Command:
    """A typed command: `/seen log C-1042 seen` on Slack, `log C-1042 seen` (or an @mention) on Teams."""

    user: UserRef
    conversation: ConversationRef
    text: str  # without the command word or the mention


@dataclass(frozen=True, slots=True)
class ButtonClicked:
    user: UserRef
    message: MessageRef
    action: str  # the Action's id
    value: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FormSubmitted:
    user: UserRef
    form_id: str
    values: dict[str, Any]  # field id -> value (str, bool, date, time, or None when left empty)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ThreadReply:
    user: UserRef
    parent: MessageRef  # the message replied to
    text: str
    reply_id: str
    edited: bool = False
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Installed:
    user: UserRef | None  # who installed it (None: an installation for a team)
    conversation: ConversationRef


@dataclass(frozen=True, slots=True)
class HomeOpened:
    user: UserRef
    conversation: ConversationRef | None = None


# -- outgoing -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: str


ActionKind = Literal["callback", "open_form"]


@dataclass(frozen=True, slots=True)
class Action:
    """A button. `callback` comes back as ButtonClicked; `open_form` opens the form `id` names."""

    id: str
    label: str
    kind: ActionKind = "callback"
    value: dict[str, Any] = field(default_factory=dict)
    primary: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    fallback: str  # notification and screen-reader text; the whole message when nothing else is set
    header: str | None = None
    sections: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    context: str | None = None
    actions: tuple[Action, ...] = ()


FieldKind = Literal[
    "text", "multiline", "date", "time", "select", "radio", "multiselect", "checkbox", "section", "heading"
]
CHOICE_KINDS = ("select", "radio", "multiselect")
SHOWN_KINDS = ("section", "heading")  # words only, no input: the label is the text (a heading starts a part)


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a form, or (`section`, `heading`) words between them. A field with `dispatch`
    reports a change of its value at once (the form is shown again, e.g. with one part per child
    chosen): Slack's element action id, a Teams dialog's extra button."""

    id: str
    label: str
    kind: FieldKind
    required: bool = False
    initial: str | bool | date | time | tuple[str, ...] | None = None  # multiselect: the values
    options: tuple[Option, ...] = ()  # select, radio, multiselect
    hint: str | None = None
    max_length: int = 3000  # text, multiline
    dispatch: str | None = None


@dataclass(frozen=True, slots=True)
class Form:
    id: str
    title: str
    submit: str
    fields: tuple[FormField, ...]
    metadata: dict[str, Any] = field(default_factory=dict)  # private: comes back with the submission

    def __post_init__(self) -> None:
        ids = [f.id for f in self.fields]
        if len(ids) != len(set(ids)):
            raise ValueError(f"form {self.id}: field ids repeat")
        for f in self.fields:
            if f.kind in CHOICE_KINDS and not f.options:
                raise ValueError(f"form {self.id}: {f.kind} {f.id} has no options")

    @property
    def inputs(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if f.kind not in SHOWN_KINDS)

    def with_initial(self, values: dict[str, Any]) -> Form:
        """The same form showing `values` (field id -> value as entered) instead of its initial ones."""
        fields = tuple(replace(f, initial=values[f.id]) if f.id in values else f for f in self.fields)
        return replace(self, fields=fields)
