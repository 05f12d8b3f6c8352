"""Replies on Teams to a reminder, prompt or due list Seen sent, kept as a case note on its child as
a Slack thread reply is, by someone who may see the child:

- in a team channel, a reply in the thread of Seen's post (`19:…@thread.tacv2;messageid=<post>`);
- in the 1:1 chat, which has no threads, Teams' quoted reply: a message with a `quotedReply`
  entity naming Seen's message (its text led by the `<quoted messageId="…"/>` placeholder, which
  is not part of the note).

The Bot Connector's retry of the same reply stores it once. As on Slack, an edit of a kept reply
(`messageUpdate`, editMessage) is a new version of the note and a deletion (`messageDelete`,
softDeleteMessage) a deleted version; the versions before stay in the history."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.core import access
from bot.core.access import Refused
from bot.core.context import Core
from bot.core.words import latest_note
from scheduler.messages import child_label
from storage import facts
from storage.facts import FactError
from storage.models import CaseNote, Child, Outbox

THREAD = ";messageid="
SOURCE = "teams_thread"
_QUOTED = re.compile(r"<quoted\b[^>]*/>")


def thread_of(conversation_id: str) -> tuple[str, str] | None:
    """(channel id, the thread's first activity id) of a channel thread's conversation id."""
    if THREAD not in conversation_id:
        return None
    channel, parent = conversation_id.split(THREAD, 1)
    return channel, parent


def without_quotes(text: str) -> str:
    """A quoted reply's own words: the `<quoted messageId="…"/>` placeholders taken out."""
    return _QUOTED.sub("", text or "").strip()


def quoted_ids(activity: Any) -> list[str]:
    """The ids of the messages a message quotes (its `quotedReply` entities)."""
    quoted = getattr(activity, "get_quoted_messages", None)
    return [e.quoted_reply.message_id for e in quoted()] if quoted is not None else []


def reply_key(conversation_id: str, activity_id: str) -> str:
    """The source key of a kept reply (its edits and deletion find it by this key)."""
    return f"teams:msg:{conversation_id}:{activity_id}"


class TeamsThreads(Core):
    platform = "teams"

    def reply(
        self,
        aad_object_id: str | None,
        conversation_id: str,
        text: str,
        activity_id: str,
        quoted: Sequence[str] = (),
        at: datetime | None = None,
    ) -> str | None:
        """Keep the reply as a case note: the answer to show, or None when it is not a reply to
        one of Seen's messages about a child (then it may be a command)."""
        where = thread_of(conversation_id)
        if where is not None:
            parents = [f"{where[0]}|{where[1]}"]
        else:
            parents = [f"{conversation_id}|{message_id}" for message_id in quoted]
        if not parents:
            return None
        with self.factory() as s:
            found = s.execute(
                select(Outbox.message_ref, Outbox.child_id)
                .where(Outbox.message_ref.in_(parents), Outbox.child_id.is_not(None))
                .limit(1)
            ).first()
        if found is None:
            return None
        thread_ref, child_id = found
        words = without_quotes(text)

        def keep(s: Any, staff: Any, child: Child) -> None:
            facts.add_case_note(
                s,
                child,
                staff,
                words,
                at=at or self.clock(),
                source=SOURCE,
                thread_ref=thread_ref,
                source_key=reply_key(conversation_id, activity_id),
                now=self.clock(),
            )

        try:
            label = self._noted(aad_object_id, child_id, keep)
        except Refused as exc:
            return f"⚠️ {exc}"
        return f"Kept as a case note on {label}."

    def edited(
        self, aad: str | None, conversation_id: str, activity_id: str, text: str, at: datetime | None
    ) -> str | None:
        """An edit of a kept reply: a new version of its note (nothing when the words are as kept,
        or the edit is older than the version kept). None, or why the edit was not kept."""
        return self._changed(aad, conversation_id, activity_id, without_quotes(text), at)

    def deleted(
        self, aad: str | None, conversation_id: str, activity_id: str, at: datetime | None
    ) -> str | None:
        """A deletion of a kept reply: a deleted version of its note. None, or why not."""
        return self._changed(aad, conversation_id, activity_id, None, at)

    def _changed(
        self, aad: str | None, conversation_id: str, activity_id: str, words: str | None, at: datetime | None
    ) -> str | None:
        key = reply_key(conversation_id, activity_id)
        with self.factory() as s:
            latest = latest_note(s, key)
            if latest is None:
                return None  # not a reply Seen kept
            child_id, latest_id, latest_at = latest.child_id, latest.id, latest.at
            if latest.deleted or (words is not None and latest.text == words):
                return None  # deleted already, or the words kept already (a retry)
        when = at or self.clock()
        if when < latest_at:
            return None  # an edit older than the version kept

        def keep(s: Any, staff: Any, child: Child) -> None:
            old = s.get(CaseNote, latest_id)
            change = "delete" if words is None else f"edit:{when.isoformat()}"
            facts.add_case_note(
                s,
                child,
                staff,
                words or "",
                at=when,
                source=SOURCE,
                thread_ref=old.thread_ref,
                supersedes=old,
                deleted=words is None,
                source_key=f"teams:{change}:{conversation_id}:{activity_id}",
                now=self.clock(),
            )

        try:
            self._noted(aad, child_id, keep)
        except Refused as exc:
            return f"⚠️ {exc}"
        return None

    def _noted(self, aad: str | None, child_id: int, keep: Callable[[Any, Any, Child], None]) -> str:
        """`keep` the note for the person who may see the child: the child's label; `Refused`
        (audited) when nothing was kept."""
        try:
            with self.writing() as s:
                staff = access.staff_for(s, aad, access.UNKNOWN_TEAMS_STAFF)
                child = s.get(Child, child_id)
                assert child is not None
                if not access.can_see(staff, child):
                    raise Refused(f"{child.case_ref} is not a child of your team: the reply was not kept.")
                keep(s, staff, child)
                return child_label(child.case_ref, child.initials)
        except (Refused, FactError) as exc:
            self.refused(aad, "thread_reply", str(exc))
            raise Refused(str(exc)) from None
