"""The Teams app on the Microsoft Teams SDK for Python (`microsoft-teams-apps`), served by uvicorn.

The SDK validates every incoming activity's Bot Connector JWT before anything here runs: the
signature against the signing keys published beside the OpenID metadata, the issuer, the audience
(this app's client id) and the `serviceurl` claim against the activity's `serviceUrl`. A request
that fails gets 401 and reaches no handler. Unauthenticated requests are never allowed, whatever
the SDK's DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS says.

What the app does: it records where each person and each team channel can be reached
(`bot.teams.conversations`) on installation, on conversation updates and on every message a person
sends, so the outbox's reminders and prompts can go as proactive messages (`bot.teams.messenger`);
and it answers typed commands in the 1:1 chat and @mentions in a channel (`bot.teams.commands`,
through the same chat-neutral core as Slack), keeps replies to Seen's messages as case notes, with
their edits and deletions (`bot.teams.threads`), and opens and stores the visit record and decision
dialogs and the "Record a visit" message extension (`bot.teams.dialogs`), a decision updating its
prompt's messages in place (`bot.teams.prompt_cards`). Every text it answers with names commands
as typed on Teams (`bot.teams.words`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microsoft_teams.api import (
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionMessageResponse,
    MessageActivityInput,
)
from microsoft_teams.api.activities.utils import strip_mentions_text
from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides
from microsoft_teams.apps import App
from microsoft_teams.apps.http import FastAPIAdapter
from microsoft_teams.cards import AdaptiveCard
from sqlalchemy.orm import Session, sessionmaker

from bot.core.decision_form import DECISION_FORM
from bot.teams.buttons import TeamsButtons
from bot.teams.cards import FORM_KEY, METADATA_KEY, message_card
from bot.teams.commands import TeamsCommands
from bot.teams.conversations import Reference, base_conversation_id, forget_person, remember, utcnow
from bot.teams.dialogs import TeamsDialogs, submission_key
from bot.teams.later import Later
from bot.teams.messenger import TeamsMessenger
from bot.teams.prompt_cards import PromptCards
from bot.teams.text import answer as text_answer
from bot.teams.text import card_activity
from bot.teams.threads import TeamsThreads, quoted_ids, without_quotes
from bot.teams.words import message_on_teams, on_teams
from scheduler.messenger import DeliveryError

log = logging.getLogger("seen.teams")

MESSAGING_ENDPOINT = "/api/messages"
ENV_CLIENT_ID = "TEAMS_CLIENT_ID"
ENV_CLIENT_SECRET = "TEAMS_CLIENT_SECRET"
ENV_TENANT_ID = "TEAMS_TENANT_ID"
ENV_OPENID = "SEEN_TEAMS_OPENID_METADATA_URL"  # sovereign clouds, and the tests' fake connector
ENV_SERVICE_URL = "SEEN_TEAMS_SERVICE_URL"
TokenSource = Callable[[str, str | None], str]  # (scope, tenant) -> bearer token


@dataclass(frozen=True, slots=True)
class TeamsSettings:
    client_id: str
    client_secret: str | None
    tenant_id: str
    openid_metadata_url: str | None = None
    service_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> TeamsSettings:
        """All three of the app's client id, secret and tenant id, or one line naming what is missing."""
        names = (ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_TENANT_ID)
        missing = [n for n in names if not env.get(n)]
        if missing:
            raise RuntimeError(f"Teams: set {', '.join(missing)} (the Entra app registration's values)")
        return cls(
            client_id=env[ENV_CLIENT_ID],
            client_secret=env[ENV_CLIENT_SECRET],
            tenant_id=env[ENV_TENANT_ID],
            openid_metadata_url=env.get(ENV_OPENID) or None,
            service_url=env.get(ENV_SERVICE_URL) or None,
        )

    def cloud(self) -> CloudEnvironment:
        return with_overrides(PUBLIC, openid_metadata_url=self.openid_metadata_url)


def reference_of(activity: Any) -> Reference | None:
    """Where the activity's sender (1:1 chat) or channel can be reached, if it says."""
    conversation = activity.conversation
    data = activity.channel_data
    service_url = activity.service_url
    tenant = conversation.tenant_id if conversation else None
    if not tenant and data is not None and data.tenant is not None:
        tenant = data.tenant.id
    if conversation is None or not service_url or not tenant:
        return None
    if conversation.conversation_type == "personal":
        person = activity.from_
        if person is None or not person.aad_object_id:
            return None
        return Reference("personal", conversation.id, service_url, tenant, aad_object_id=person.aad_object_id)
    if conversation.conversation_type == "channel":
        channel = data.channel.id if data and data.channel else None
        channel = channel or base_conversation_id(conversation.id)
        team = data.team.id if data and data.team else None
        return Reference("channel", channel, service_url, tenant, channel_id=channel, team_id=team)
    return None  # group chats: Seen does not post there


class TeamsBot:
    """The SDK app with Seen's handlers; `asgi` is what uvicorn serves once `initialize` ran."""

    def __init__(
        self,
        settings: TeamsSettings,
        factory: sessionmaker[Session],
        *,
        token: TokenSource | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.now = now
        self.commands = TeamsCommands(factory, now)
        self.buttons = TeamsButtons(factory, now)
        self.threads = TeamsThreads(factory, now)
        self.dialogs = TeamsDialogs(factory, now)
        self.later = Later()
        self.prompt_cards = PromptCards(factory, now)
        self._messenger: TeamsMessenger | None = None  # updates cards in place, made when first needed
        self.adapter = FastAPIAdapter()
        self.app = App(
            client_id=settings.client_id,
            client_secret=None if token else settings.client_secret,
            tenant_id=settings.tenant_id,
            token=token,
            cloud=settings.cloud(),
            service_url=settings.service_url,
            http_server_adapter=self.adapter,
            messaging_endpoint=MESSAGING_ENDPOINT,
            dangerously_allow_unauthenticated_requests=False,
            state=False,
        )
        self.app.on_installation_update(self._installation)
        self.app.on_conversation_update(self._conversation)
        self.app.on_message(self._message)
        self.app.on_message_update(self._message_edited)
        self.app.on_message_delete(self._message_deleted)
        self.app.on_card_action(self._card_action)
        self.app.on_dialog_open(self._dialog_open)
        self.app.on_dialog_submit(self._dialog_submit)
        self.app.on_message_ext_open(self._extension_open)
        self.app.on_message_ext_submit(self._extension_submit)
        self.buttons.updates_through(self.app)

    async def initialize(self) -> None:
        await self.app.initialize()

    @property
    def asgi(self) -> Any:
        return self.adapter.app

    def close(self) -> None:
        if self._messenger is not None:
            self._messenger.close()

    # -- handlers -----------------------------------------------------------------------------
    def _ours(self, ref: Reference) -> bool:
        if ref.tenant_id != self.settings.tenant_id:
            log.warning("ignored an activity from another tenant")
            return False
        return True

    async def _keep(self, activity: Any) -> None:
        ref = reference_of(activity)
        if ref is not None and self._ours(ref):
            await asyncio.to_thread(remember, self.factory, ref, self.now)

    async def _installation(self, ctx: Any) -> None:
        activity = ctx.activity
        if str(activity.action or "").startswith("remove"):
            ref = reference_of(activity)
            if ref is not None and ref.aad_object_id and self._ours(ref):
                await asyncio.to_thread(forget_person, self.factory, ref.aad_object_id)
            return
        await self._keep(activity)

    async def _conversation(self, ctx: Any) -> None:
        await self._keep(ctx.activity)

    async def _message(self, ctx: Any) -> None:
        """Acknowledged at once; the command and its answer follow (bot.teams.later)."""
        self.later.run(self._answer(ctx))

    async def _answer(self, ctx: Any) -> None:
        activity = ctx.activity
        ref = reference_of(activity)
        if ref is None or not self._ours(ref):
            return
        await asyncio.to_thread(remember, self.factory, ref, self.now)
        person = activity.from_.aad_object_id if activity.from_ else None
        text = (strip_mentions_text(activity) or "").strip()
        conversation = activity.conversation.id if activity.conversation else ""
        quoted = quoted_ids(activity) if ref.scope == "personal" else []
        note = await asyncio.to_thread(
            self.threads.reply, person, conversation, text, activity.id or "", quoted
        )
        answers: list[MessageActivityInput]
        if note is not None:  # a reply to Seen's message about a child (thread or quote): a case note
            answers = [text_answer(note)]
        elif ref.scope == "channel" and not activity.is_recipient_mentioned():
            return  # a channel message not addressed to Seen
        else:
            text = without_quotes(text)  # a command typed under a quote of another message
            typed = await asyncio.to_thread(self.dialogs.typed, person, text)  # `record C-1042`: a card
            if typed is not None:
                answers = [text_answer(typed) if isinstance(typed, str) else card_activity(typed)]
            else:
                answers = list(await asyncio.to_thread(self.commands.reply, person, text, activity.id or ""))
        for part in answers:
            try:
                await ctx.send(part)
            except Exception as exc:  # the answer is lost, not the command: it is stored and audited
                log.warning("could not answer a command: %s", type(exc).__name__)
                return

    async def _message_edited(self, ctx: Any) -> None:
        """An edit of a reply kept as a case note: a new version (bot.teams.threads)."""
        activity = ctx.activity
        data = activity.channel_data
        if data is None or data.event_type != "editMessage":
            return  # undeleteMessage: the deleted version stays
        await self._changed(ctx, strip_mentions_text(activity) or "")

    async def _message_deleted(self, ctx: Any) -> None:
        """A deletion of a reply kept as a case note: a deleted version (bot.teams.threads)."""
        await self._changed(ctx, None)

    async def _changed(self, ctx: Any, text: str | None) -> None:
        activity = ctx.activity
        ref = reference_of(activity)
        if ref is None or not self._ours(ref) or not activity.id:
            return
        person = activity.from_.aad_object_id if activity.from_ else None
        conversation = activity.conversation.id if activity.conversation else ""
        at = activity.timestamp if activity.timestamp and activity.timestamp.tzinfo else None
        where = (person, conversation, activity.id)
        if text is None:
            why_not = await asyncio.to_thread(self.threads.deleted, *where, at)
        else:
            why_not = await asyncio.to_thread(self.threads.edited, *where, text, at)
        if why_not is not None:
            try:
                await ctx.send(on_teams(why_not))
            except Exception as exc:  # nothing was stored; only the answer is lost
                log.warning("could not answer an edit: %s", type(exc).__name__)

    async def _card_action(self, ctx: Any) -> Any:
        """A card's `Action.Execute` button: the card that replaces it, or a message why not."""
        activity = ctx.activity
        ref = reference_of(activity)
        if ref is None or not self._ours(ref):
            return AdaptiveCardActionMessageResponse(value="Seen does not act on this conversation.")
        action = activity.value.action
        data = action.data if isinstance(action.data, dict) else {}
        person = activity.from_.aad_object_id if activity.from_ else None
        answer = await asyncio.to_thread(self.buttons.clicked, person, str(action.verb or ""), data)
        if isinstance(answer, str):
            return AdaptiveCardActionMessageResponse(value=on_teams(answer))
        card = message_card(message_on_teams(answer))
        return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(card))

    # -- dialogs (bot.teams.dialogs) ----------------------------------------------------------
    def _sender(self, ctx: Any) -> str | None:
        """The Entra object id of the invoke's sender, None when it is not for this tenant."""
        ref = reference_of(ctx.activity)
        if ref is not None and not self._ours(ref):
            return None
        person = ctx.activity.from_
        return person.aad_object_id if person else None

    async def _dialog_open(self, ctx: Any) -> Any:
        data = ctx.activity.value.data if ctx.activity.value else None
        return await asyncio.to_thread(self.dialogs.open, self._sender(ctx), data)

    async def _dialog_submit(self, ctx: Any) -> Any:
        data = ctx.activity.value.data if ctx.activity.value else None
        activity_id = ctx.activity.id or ""
        answer = await asyncio.to_thread(self.dialogs.submit, self._sender(ctx), data, activity_id)
        if activity_id and isinstance(data, dict) and data.get(FORM_KEY) == DECISION_FORM:
            meta = data.get(METADATA_KEY) if isinstance(data.get(METADATA_KEY), dict) else {}
            await asyncio.to_thread(self._decided, submission_key(activity_id), meta.get("o"))
        return answer

    def _decided(self, key: str, obligation: Any) -> None:
        """The prompt's messages updated in place once its decision is stored (bot.teams.prompt_cards)."""
        cards = self.prompt_cards.decided_cards(key, obligation)
        if cards and self._messenger is None:
            self._messenger = TeamsMessenger.for_app(self.app, self.factory)
        for ref, card in cards:
            try:
                assert self._messenger is not None
                self._messenger.update(ref, card)
            except DeliveryError as exc:  # the decision is stored: only the card keeps its old words
                log.warning("could not update a prompt's message: %s", exc)

    async def _extension_open(self, ctx: Any) -> Any:
        value = ctx.activity.value.model_dump(by_alias=True, exclude_none=True) if ctx.activity.value else {}
        return await asyncio.to_thread(self.dialogs.extension_open, self._sender(ctx), value)

    async def _extension_submit(self, ctx: Any) -> Any:
        value = ctx.activity.value.model_dump(by_alias=True, exclude_none=True) if ctx.activity.value else {}
        activity_id = ctx.activity.id or ""
        return await asyncio.to_thread(self.dialogs.extension_submit, self._sender(ctx), value, activity_id)
