"""The Messenger port on Microsoft Teams: the outbox's messages as proactive 1:1 messages and posts.

Each message goes through the Bot Connector REST API (`POST /v3/conversations/{id}/activities`,
with the SDK's `ApiClient` and the app's bot token) to the conversation `bot.teams.conversations`
recorded for the person (their Entra object id, which `Staff.chat_user_id` holds on a Teams
deployment) or for the team's channel. `send` returns `"<conversation id>|<activity id>"`, stored as
the row's `message_ref`; `update` replaces that activity's card in place (`PUT …/activities/{id}`),
the equivalent of Slack's `chat.update`.

Failures map to the port's `DeliveryError`, and the outbox's own backoff does the retrying:
429 -> retry after the connector's Retry-After (Teams allows about 7 messages a second and 60 in
30 s per conversation); 412, 5xx and lost connections -> retry with backoff; 400, 401, 403 (the
bot was removed or blocked) and 404 (no such conversation) -> not retryable (the row is parked,
visibly); a person with no recorded conversation -> `Unreachable` (parked until the app is
installed for them, their manager told once how to do that).

No in-doubt check (`find_sent`): the Bot Connector cannot list a conversation's activities
(Teams answers `GET /v3/conversations/{id}/activities` with an error), so a message whose first
attempt may have gone cannot be looked for there. Reading chats back needs Microsoft Graph
(`Chat.Read.All`, a protected application permission, for 1:1 chats; `ChannelMessage.Read.Group`
for channels), which this messenger does not use: an in-doubt row is sent again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import httpx
from microsoft_teams.api import ApiClient, MessageActivityInput
from microsoft_teams.common import ClientOptions
from sqlalchemy.orm import Session, sessionmaker

from bot.core.model import Action, Message
from bot.slack.views import ACTION_IDS, button_value
from bot.teams.conversations import Reference, for_channel, for_conversation, for_person
from bot.teams.stats import stats_activity
from bot.teams.text import card_activity, plain
from bot.teams.words import on_teams
from scheduler.messenger import DeliveryError, OutgoingMessage, Unreachable, image_of

T = TypeVar("T")
TIMEOUT = 10.0  # seconds a call may take before it counts as a lost connection
RETRYABLE = frozenset({408, 412, 429, 500, 502, 503, 504})
OPEN_FORM = frozenset({"Log visit", "Open record", "Record decision"})  # buttons that open a dialog on Teams
INSTALL_HOW = (
    "install the Seen app in Teams for them: Teams admin centre → Teams apps → Setup policies, add"
    " Seen to Installed apps of their policy, or Microsoft Graph `POST /users/{their Entra object"
    " id}/teamwork/installedApps` (README, Running on Microsoft Teams, step 6); or ask them to open"
    " Seen in Teams and type `help`."
)
NOTE_HINT = "To keep a case note on this child, reply to this message (in a channel: in its thread)."


def outgoing_message(message: OutgoingMessage) -> Message:
    """An outbox message in the chat-neutral model: its words, and its buttons with their keys."""
    text = plain(on_teams(message.text))
    value = json.loads(button_value(message.payload, message.key))
    actions = tuple(
        Action(
            ACTION_IDS[label],
            label,
            kind="open_form" if label in OPEN_FORM else "callback",
            value=value,
            primary=label in ("Acknowledge", "Log visit"),
        )
        for label in message.payload.get("actions") or []
        if label in ACTION_IDS
    )
    return Message(fallback=text, sections=(text,), context=NOTE_HINT if actions else None, actions=actions)


def split_ref(ref: str | None) -> tuple[str, str] | None:
    """`"<conversation id>|<activity id>"` -> (conversation id, activity id)."""
    if not ref or "|" not in ref:
        return None
    conversation, activity = ref.rsplit("|", 1)
    return conversation, activity


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:  # an HTTP date: let the outbox's backoff decide
        return None


def delivery_error(exc: BaseException) -> DeliveryError:
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        code = ""
        try:
            code = str((exc.response.json().get("error") or {}).get("code") or "")
        except (ValueError, AttributeError):
            code = ""
        what = f"teams: {status} {code}".strip()
        if status == 429:
            return DeliveryError(f"{what} (rate limited)", retry_after=retry_after(exc.response))
        return DeliveryError(what, retryable=status in RETRYABLE)
    if isinstance(exc, httpx.TransportError | TimeoutError | FutureTimeout):
        return DeliveryError(f"teams: connection failed: {type(exc).__name__}")
    return DeliveryError(f"teams: {type(exc).__name__}: {exc}")


class TeamsMessenger:
    """Sends on its own event loop (a daemon thread), so the outbox's synchronous delivery can call it."""

    def __init__(self, api: ApiClient, factory: sessionmaker[Session], *, timeout: float = TIMEOUT) -> None:
        self.api = api
        self.factory = factory
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="seen-teams-send", daemon=True)
        self._thread.start()

    @classmethod
    def for_app(cls, app: Any, factory: sessionmaker[Session], *, timeout: float = TIMEOUT) -> TeamsMessenger:
        """A messenger with its own HTTP client, on the SDK app's credentials, cloud and service URL."""
        http = app.http_client.clone(ClientOptions(timeout=timeout))
        api = ApiClient(app.api.service_url, http, cloud=app.cloud, token_provider=app.token_provider)
        return cls(api, factory, timeout=timeout)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(call, self._loop)
        try:
            return future.result(self.timeout * 2)
        except DeliveryError:
            raise
        except BaseException as exc:
            future.cancel()
            raise delivery_error(exc) from exc

    # -- the port -----------------------------------------------------------------------------
    def send(self, message: OutgoingMessage) -> str:
        ref = self._target(message)
        image = image_of(message)  # the weekly report: a card of its own, the chart inline
        if image is not None:
            return self._create(ref, stats_activity(message.text, image))
        return self.post(ref, outgoing_message(message))

    def post(self, ref: Reference, message: Message) -> str:
        return self._create(ref, card_activity(message))

    def _create(self, ref: Reference, activity: MessageActivityInput) -> str:
        conversations = self.api.conversations.activities(ref.conversation_id)
        sent = self._run(conversations.create(activity, service_url=ref.service_url))
        return f"{ref.conversation_id}|{sent.id}"

    def update(self, message_ref: str, message: Message) -> None:
        """Replace the card of a message Seen sent (`send`'s ref) for everyone in the conversation."""
        where = split_ref(message_ref)
        if where is None:
            raise DeliveryError(f"teams: not a Teams message reference: {message_ref!r}", retryable=False)
        conversation_id, activity_id = where
        with self.factory() as session:
            ref = for_conversation(session, conversation_id)
        service_url = ref.service_url if ref else self.api.service_url
        activity = card_activity(message)
        conversations = self.api.conversations.activities(conversation_id)
        self._run(conversations.update(activity_id, activity, service_url=service_url))

    def _target(self, message: OutgoingMessage) -> Reference:
        with self.factory() as session:
            if message.to_channel:
                found = for_channel(session, message.to_channel)
                if found is None:  # a channel's id is its conversation id; the default service URL
                    return Reference("channel", message.to_channel, self.api.service_url, "")
                return found
            if not message.to_user:
                raise DeliveryError("no chat user id for the recipient", retryable=False)
            found = for_person(session, message.to_user)
        if found is None:
            raise Unreachable(
                "teams: the recipient has no conversation with Seen (the app is not installed for them)",
                how=INSTALL_HOW,
            )
        return found
