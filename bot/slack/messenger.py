"""The Messenger port on Slack: the outbox's messages as direct messages and channel posts.

Each message carries its outbox key in Slack message metadata
(`{"event_type": "seen_message", "event_payload": {"key": …}}`), so `find_sent(key)` can tell whether
a row whose delivery was in doubt (the process died mid-send) is already in the conversation and must
not go twice. `send` returns `"<channel>:<ts>"`, stored as the row's `message_ref` so that the
message can be updated in place and thread replies can be traced back to the child.

Slack errors map to the port's `DeliveryError`: 429 -> retry after Slack's Retry-After; 5xx and
connection failures -> retry with backoff; a channel or user that does not exist, an app not in
the channel, or a bad token -> not retryable (the row is parked, visibly).

A message with a picture (the weekly report's chart) is one file share: the PNG uploaded with the
files API (`files_upload_v2`: files.getUploadURLExternal, the upload, files.completeUploadExternal
into the conversation, the words as its comment; scope `files:write`). A file share carries no
metadata, so the file is named after the outbox key (`file_name`), which is what `find_sent` looks
for; its ref is `"<channel>:file:<file id>"` (a weekly post is never updated in place).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack.views import SECTION_CHARS, line_chunks, message_blocks, mrkdwn
from scheduler.messenger import DeliveryError, Image, OutgoingMessage, image_of

log = logging.getLogger("seen.slack")

METADATA_EVENT = "seen_message"
NOT_RETRYABLE = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "user_not_found",
        "users_not_found",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "missing_scope",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
    }
)
HISTORY_LIMIT = 200  # messages a page of conversations.history (Slack's recommended maximum)
HISTORY_PAGES = 5  # pages an in-doubt check reads, newest first: the last 1,000 messages

# (to_user, to_channel) for an outbox key, when the messenger must look for a message it may have sent
Locate = Callable[[str], tuple[str | None, str | None] | None]


def api_url() -> str:
    return os.environ.get("SEEN_SLACK_API_URL") or WebClient.BASE_URL


def make_client(token: str, base_url: str | None = None, timeout: int = 10) -> WebClient:
    """A WebClient on SEEN_SLACK_API_URL (GovSlack, tests); retries 429s, 5xx, lost connections once."""
    return WebClient(
        token=token,
        base_url=base_url or api_url(),
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(max_retry_count=1),
            ConnectionErrorRetryHandler(max_retry_count=1),
        ],
    )


def delivery_error(exc: Exception) -> DeliveryError:
    """A slack_sdk failure as the port's DeliveryError (retryable or not, and when)."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200)
        error = ""
        try:
            error = str(response.get("error") or "")
        except Exception:  # a body that is not JSON
            error = ""
        if status == 429:
            headers = getattr(response, "headers", {}) or {}
            value = headers.get("Retry-After") or headers.get("retry-after")
            if isinstance(value, list):
                value = value[0] if value else None
            try:
                retry_after = float(value) if value is not None else None
            except ValueError:
                retry_after = None
            return DeliveryError(f"slack: rate limited ({error or 429})", retry_after=retry_after)
        if status >= 500:
            return DeliveryError(f"slack: server error {status} {error}".strip())
        if error in NOT_RETRYABLE:
            return DeliveryError(f"slack: {error}", retryable=False)
        return DeliveryError(f"slack: {error or status}")
    if isinstance(exc, URLError | ConnectionError | TimeoutError | SlackClientError):
        return DeliveryError(f"slack: connection failed: {exc}")
    return DeliveryError(f"slack: {type(exc).__name__}: {exc}")


def warned(response: Any, what: str) -> None:
    """Log Slack's `warning` (the call was taken, but not quite as sent: message_truncated, …)."""
    warning = response.get("warning") if response is not None else None
    if warning:
        log.warning("Slack warned about message %s: %s", what, warning)


def split_ref(ref: str | None) -> tuple[str, str] | None:
    """`"<channel>:<ts>"` -> (channel, ts)."""
    if not ref or ":" not in ref or ref.startswith("console:"):
        return None
    channel, ts = ref.split(":", 1)
    return channel, ts


class SlackMessenger:
    # Delivery sends this many messages at once, to different conversations, and to one
    # conversation no faster than Slack's chat.postMessage limit of about one a second.
    max_in_flight = 8
    conversation_interval = 1.0

    def __init__(self, client: WebClient, *, locate: Locate | None = None) -> None:
        self.client = client
        self.locate = locate
        self._ims: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> SlackMessenger:
        """SLACK_BOT_TOKEN, SEEN_SLACK_API_URL; in-doubt messages located through the database."""
        token = os.environ.get("SLACK_BOT_TOKEN")
        if not token:
            raise RuntimeError("SLACK_BOT_TOKEN is not set")
        from storage.db import make_engine, session_factory

        return cls(make_client(token), locate=outbox_locator(session_factory(make_engine())))

    # -- the port -----------------------------------------------------------------------------
    def send(self, message: OutgoingMessage) -> str:
        """Post the message; a text longer than a section holds (3,000 characters) is posted in
        parts of whole lines, the first with the metadata and buttons, the rest as replies in its
        thread. A reply Slack refuses is logged, not retried: the message itself is delivered. A
        message with a picture goes as one file share (`send_image`)."""
        image = image_of(message)
        if image is not None:
            return self.send_image(message, image)
        first, *rest = line_chunks(message.text.split("\n"), SECTION_CHARS)
        try:
            channel = message.to_channel or self._im(message.to_user)
            kwargs: dict[str, Any] = {
                "channel": channel,
                "text": mrkdwn(first),
                "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": message.key}},
                "unfurl_links": False,
                "unfurl_media": False,
            }
            if message.payload.get("actions"):
                kwargs["blocks"] = message_blocks(first, message.payload, message.key)
            response = self.client.chat_postMessage(**kwargs)
        except DeliveryError:
            raise
        except Exception as exc:
            raise delivery_error(exc) from exc
        warned(response, message.key)
        for n, part in enumerate(rest, start=2):
            try:
                reply = self.client.chat_postMessage(
                    channel=response["channel"],
                    thread_ts=response["ts"],
                    text=mrkdwn(part),
                    unfurl_links=False,
                    unfurl_media=False,
                )
                warned(reply, f"{message.key} (part {n})")
            except Exception as exc:
                log.warning("part %d of message %s was not posted: %s", n, message.key, delivery_error(exc))
        return f"{response['channel']}:{response['ts']}"

    def send_image(self, message: OutgoingMessage, image: Image) -> str:
        """Upload the picture into the conversation, the message's words as its comment."""
        try:
            channel = message.to_channel or self._im(message.to_user)
            response = self.client.files_upload_v2(
                channel=channel,
                file=image.png,
                filename=file_name(message.key),
                title=image.name,
                alt_txt=image.alt,
                initial_comment=mrkdwn(message.text),
            )
        except DeliveryError:
            raise
        except Exception as exc:
            raise delivery_error(exc) from exc
        return f"{channel}:file:{(response.get('file') or {}).get('id', '')}"

    def find_sent(self, key: str) -> str | None:
        """The ref of the message with this outbox key, if it is in its conversation already."""
        if self.locate is None:
            return None
        where = self.locate(key)
        if where is None:
            return None
        to_user, to_channel = where
        cursor: str | None = None
        try:
            channel = to_channel or self._im(to_user)
            for _ in range(HISTORY_PAGES):
                response = self.client.conversations_history(
                    channel=channel,
                    include_all_metadata=True,
                    limit=HISTORY_LIMIT,
                    **({"cursor": cursor} if cursor else {}),
                )
                for m in response.get("messages") or []:
                    meta = m.get("metadata") or {}
                    if (
                        meta.get("event_type") == METADATA_EVENT
                        and (meta.get("event_payload") or {}).get("key") == key
                    ) or any(f.get("name") == file_name(key) for f in m.get("files") or []):
                        return f"{channel}:{m['ts']}"
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not response.get("has_more") or not cursor:
                    break
        except DeliveryError:
            raise
        except Exception as exc:
            raise delivery_error(exc) from exc
        return None

    # -- helpers ------------------------------------------------------------------------------
    def _im(self, user: str | None) -> str:
        """The direct-message channel with a user (conversations.open), cached."""
        if not user:
            raise DeliveryError("no chat user id for the recipient", retryable=False)
        with self._lock:
            if user in self._ims:
                return self._ims[user]
        response = self.client.conversations_open(users=user)
        channel = response["channel"]["id"]
        with self._lock:
            self._ims[user] = channel
        return channel


def file_name(key: str) -> str:
    """The name of the file a message with a picture is uploaded as: from its outbox key."""
    return "seen-" + re.sub(r"[^A-Za-z0-9-]+", "-", key).strip("-") + ".png"


def outbox_locator(factory: Any) -> Locate:
    """Where the outbox row `key` was to go: the recipient's chat user id, or the channel."""
    from sqlalchemy import select

    from storage.models import Outbox, Staff

    def locate(key: str) -> tuple[str | None, str | None] | None:
        with factory() as session:
            row = session.execute(
                select(Outbox.recipient_channel, Staff.chat_user_id)
                .outerjoin(Staff, Staff.id == Outbox.recipient_staff_id)
                .where(Outbox.key == key)
            ).first()
        if row is None:
            return None
        channel, user = row
        if user:
            return user, None
        return (None, channel) if channel else None

    return locate
