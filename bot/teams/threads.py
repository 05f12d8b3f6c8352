"""Replies on Teams in the thread of a reminder, prompt or due list Seen posted in a team channel
(`19:…@thread.tacv2;messageid=<Seen's post>`): kept as a case note on the post's child, as a
Slack thread reply is, by someone who may see the child; the Bot Connector's retry of the same
reply stores it once."""

from __future__ import annotations

from microsoft_teams.api import MessageActivityInput
from sqlalchemy import select

from bot.core import access
from bot.core.access import Refused
from bot.core.context import Core
from bot.teams.text import answer as rendered
from scheduler.messages import child_label
from storage import facts
from storage.facts import FactError
from storage.models import Child, Outbox

THREAD = ";messageid="


def thread_of(conversation_id: str) -> tuple[str, str] | None:
    """(channel id, the thread's first activity id) of a channel thread's conversation id."""
    if THREAD not in conversation_id:
        return None
    channel, parent = conversation_id.split(THREAD, 1)
    return channel, parent


class TeamsThreads(Core):
    platform = "teams"

    def reply(
        self, aad_object_id: str | None, conversation_id: str, text: str, activity_id: str
    ) -> MessageActivityInput | None:
        """Keep the reply as a case note: the answer to show (rendered for Teams), or None when it
        is not a reply to one of Seen's posts about a child (then it may be a command)."""
        where = thread_of(conversation_id)
        if where is None:
            return None
        thread_ref = f"{where[0]}|{where[1]}"
        with self.factory() as s:
            child_id = s.scalar(
                select(Outbox.child_id).where(Outbox.message_ref == thread_ref, Outbox.child_id.is_not(None))
            )
        if child_id is None:
            return None
        now = self.clock()
        try:
            with self.writing() as s:
                staff = access.staff_for(s, aad_object_id, access.UNKNOWN_TEAMS_STAFF)
                child = s.get(Child, child_id)
                assert child is not None
                if not access.can_see(staff, child):
                    raise Refused(f"{child.case_ref} is not a child of your team: the reply was not kept.")
                facts.add_case_note(
                    s,
                    child,
                    staff,
                    text,
                    at=now,
                    source="teams_thread",
                    thread_ref=thread_ref,
                    source_key=f"teams:msg:{conversation_id}:{activity_id}",
                    now=now,
                )
                label = child_label(child.case_ref, child.initials)
        except (Refused, FactError) as exc:
            self.refused(aad_object_id, "thread_reply", str(exc))
            return rendered(f"⚠️ {exc}")
        return rendered(f"Kept as a case note on {label}.")
