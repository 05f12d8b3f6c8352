"""Teams conversation references: where Seen can reach a person or a team's channel proactively.

Teams lets a bot message someone only in a conversation it already has with them. The app records
the reference (conversation id, service URL, tenant, and the person's Entra object id or the
channel id) from every installation, conversation update and message a person sends; the
messenger looks it up. A newer reference replaces the older one. A person's first reference makes
them reachable: what was parked for them because they were not is released for delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.unreachable import release
from storage.models import TeamsConversation


@dataclass(frozen=True, slots=True)
class Reference:
    scope: str  # personal | channel
    conversation_id: str
    service_url: str
    tenant_id: str
    aad_object_id: str | None = None  # personal: the person's Entra object id
    channel_id: str | None = None  # channel: the channel's id
    team_id: str | None = None


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id (`19:…@thread.tacv2;messageid=…`) without the thread part."""
    return conversation_id.split(";", 1)[0]


def utcnow() -> datetime:
    return datetime.now(UTC)


def remember(factory: sessionmaker[Session], ref: Reference, now: Callable[[], datetime] = utcnow) -> None:
    """Insert or replace the reference for its person or channel (two writers at once: one wins).
    A reference already held as it is writes nothing (every message a person sends carries it)."""
    with factory() as session:
        if ref.scope == "personal" and ref.aad_object_id:
            held = for_person(session, ref.aad_object_id)
        else:
            held = for_channel(session, ref.channel_id or "")
    if held == ref:
        return
    for attempt in range(2):
        try:
            with factory.begin() as session:
                if ref.scope == "personal":
                    where = TeamsConversation.aad_object_id == ref.aad_object_id
                else:
                    where = TeamsConversation.channel_id == ref.channel_id
                row = session.scalar(select(TeamsConversation).where(where))
                if row is None:
                    row = TeamsConversation(scope=ref.scope)
                    session.add(row)
                row.aad_object_id = ref.aad_object_id
                row.channel_id = ref.channel_id
                row.team_id = ref.team_id
                row.conversation_id = ref.conversation_id
                row.service_url = ref.service_url
                row.tenant_id = ref.tenant_id
                row.updated_at = now()
                if ref.scope == "personal" and ref.aad_object_id:
                    release(session, ref.aad_object_id, row.updated_at)
            return
        except IntegrityError:
            if attempt:
                raise


def forget_person(factory: sessionmaker[Session], aad_object_id: str) -> None:
    """The app was removed from a person's chat: Seen cannot reach them there any more."""
    with factory.begin() as session:
        session.execute(delete(TeamsConversation).where(TeamsConversation.aad_object_id == aad_object_id))


def _reference(row: TeamsConversation | None) -> Reference | None:
    if row is None:
        return None
    return Reference(
        scope=row.scope,
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        tenant_id=row.tenant_id,
        aad_object_id=row.aad_object_id,
        channel_id=row.channel_id,
        team_id=row.team_id,
    )


def for_person(session: Session, aad_object_id: str) -> Reference | None:
    return _reference(
        session.scalar(select(TeamsConversation).where(TeamsConversation.aad_object_id == aad_object_id))
    )


def for_channel(session: Session, channel_id: str) -> Reference | None:
    return _reference(
        session.scalar(select(TeamsConversation).where(TeamsConversation.channel_id == channel_id))
    )


def for_conversation(session: Session, conversation_id: str) -> Reference | None:
    return _reference(
        session.scalar(
            select(TeamsConversation)
            .where(TeamsConversation.conversation_id == base_conversation_id(conversation_id))
            .limit(1)
        )
    )
