"""Thread replies to a reminder, prompt or due list: case notes (edits are new versions)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core import access
from bot.core.access import Refused
from bot.core.context import REACTION, Core, ts_time
from bot.core.words import latest_note
from bot.slack import views
from storage import facts
from storage.facts import FactError
from storage.models import Child as ChildRecord
from storage.models import Outbox

log = logging.getLogger("seen.bot")


class Threads(Core):
    """Thread replies to a reminder, prompt or due list: case notes (edits are new versions)."""

    def on_message(self, event: dict[str, Any], body: dict[str, Any], client: Any, context: Any) -> None:
        """A reply in the thread of a reminder or prompt is a case note; a real edit of it (Slack
        marks it `edited`, and the text changed) is a new version, a deletion a deletion. Anything
        else is not a note: the thread's parent, bots' and Seen's own messages, and the
        `message_changed` Slack sends to add a link preview (same text, not edited)."""
        subtype = event.get("subtype")
        channel = event.get("channel")
        if subtype in (None, "thread_broadcast", "file_share"):
            msg, kind = event, "new"
        elif subtype == "message_changed":
            msg, kind = event.get("message") or {}, "edit"
            if not msg.get("edited") or msg.get("text") == (event.get("previous_message") or {}).get("text"):
                return  # a link preview or an attachment added by Slack: the words are as they were
        elif subtype == "message_deleted":
            msg, kind = event.get("previous_message") or {}, "delete"
        else:
            return
        if msg.get("bot_id") or msg.get("subtype") == "bot_message" or not msg.get("user") or not channel:
            return
        if msg.get("user") == getattr(context, "bot_user_id", None):
            return  # Seen's own post
        ts, thread_ts = msg.get("ts"), msg.get("thread_ts")
        if not ts or not thread_ts or ts == thread_ts:
            return
        now = self.clock()
        reply_key = f"{channel}:{ts}"
        with self.factory() as s:
            row = s.scalar(
                select(Outbox).where(
                    Outbox.message_ref == f"{channel}:{thread_ts}", Outbox.child_id.is_not(None)
                )
            )
            if row is None:
                return  # not a thread of a reminder or prompt
            child_id = row.child_id
        try:
            with self.writing() as s:
                staff = access.staff_for(s, msg.get("user"))
                child = s.get(ChildRecord, child_id)
                assert child is not None
                if not access.can_see(staff, child):
                    raise Refused(f"{child.case_ref} is not a child of your team: the reply was not kept.")
                thread_ref = f"{channel}:{thread_ts}"

                def keep(text: str, at: Any, source_key: str, **change: Any) -> None:
                    facts.add_case_note(
                        s,
                        child,
                        staff,
                        text,
                        at=ts_time(at, now),
                        source="slack_thread",
                        thread_ref=thread_ref,
                        source_key=source_key,
                        now=now,
                        **change,
                    )

                if kind == "new":
                    keep(msg.get("text") or "", ts, f"slack:msg:{reply_key}")
                else:
                    latest = latest_note(s, f"slack:msg:{reply_key}")
                    if kind == "edit":
                        edited = (
                            (msg.get("edited") or {}).get("ts")
                            or event.get("event_ts")
                            or body.get("event_id")
                        )
                        if latest is not None and (
                            latest.text == (msg.get("text") or "") or ts_time(edited, now) <= latest.at
                        ):
                            return  # the words kept already, or an edit older than the version kept
                        keep(
                            msg.get("text") or "",
                            edited,
                            f"slack:edit:{reply_key}:{edited}",
                            supersedes=latest,
                        )
                    elif latest is not None and not latest.deleted:
                        keep(
                            "",
                            event.get("event_ts") or event.get("ts"),
                            f"slack:delete:{reply_key}",
                            supersedes=latest,
                            deleted=True,
                        )
                    else:
                        return
        except IntegrityError:
            return  # the same message arrived twice at once (a Slack retry): the first one stored it
        except (Refused, FactError) as exc:
            self.refused(msg.get("user"), "thread reply", str(exc))
            with contextlib.suppress(SlackApiError):
                client.chat_postEphemeral(
                    channel=channel,
                    user=msg.get("user"),
                    thread_ts=thread_ts,
                    text=views.mrkdwn(f":warning: {exc}"),
                )
            return
        if kind == "new":
            try:
                client.reactions_add(channel=channel, timestamp=ts, name=REACTION)
            except SlackApiError as exc:
                if exc.response.get("error") != "already_reacted":
                    log.warning("could not react to %s: %s", reply_key, exc.response.get("error"))


def register(app: App, bot: Threads) -> None:
    app.event("message")(bot.on_message)
