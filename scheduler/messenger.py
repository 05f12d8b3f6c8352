"""The Messenger port: how the scheduler's outbox reaches people, whatever the chat platform.

It lives beside its consumer (delivery, the loop, the simulation), so `scheduler` imports nothing
of `bot`; the chat adapters implement it in `bot/` (Slack, Teams), and `seen run` picks one.
"""

from __future__ import annotations

import base64
import binascii
import sys
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    key: str  # the outbox key: a platform may use it to refuse duplicates
    text: str
    to_user: str | None = None  # chat user id (a direct message)
    to_channel: str | None = None  # a team channel
    recipient: str = ""  # display of who it is for (role and staff id), never a name
    payload: dict[str, Any] = field(default_factory=dict)  # rule, child, stage, buttons, image


IMAGE = "image"  # the payload's key for a picture sent with the message (`with_image`, `image_of`)


@dataclass(frozen=True, slots=True)
class Image:
    """A picture sent with a message (the weekly report's chart): PNG bytes, the file's name, and
    words saying what it shows (for screen readers, and where the picture cannot be shown)."""

    png: bytes
    name: str
    alt: str


def with_image(payload: dict[str, Any], image: Image) -> dict[str, Any]:
    """`payload` carrying `image` (base64 in the outbox's JSON, so the row holds all it sends)."""
    png = base64.b64encode(image.png).decode("ascii")
    return {**payload, IMAGE: {"png": png, "name": image.name, "alt": image.alt}}


def image_of(message: OutgoingMessage) -> Image | None:
    """The picture a message carries, or None (none, or not readable: the words still go)."""
    found = message.payload.get(IMAGE)
    if not isinstance(found, dict):
        return None
    try:
        png = base64.b64decode(str(found.get("png") or ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return Image(png, str(found.get("name") or "image.png"), str(found.get("alt") or "")) if png else None


class DeliveryError(Exception):
    """The platform did not take the message. `retry_after` seconds when it said so."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The platform cannot reach this person yet (on Teams: the app is not installed for them).
    Not retried: the row is parked until they can be reached, and their team manager is told once,
    with `how` (the platform's words) saying what makes them reachable."""

    def __init__(self, message: str, *, how: str) -> None:
        super().__init__(message, retryable=False)
        self.how = how


class Messenger(Protocol):
    def send(self, message: OutgoingMessage) -> str:
        """Deliver, returning the platform's reference to the message; raise DeliveryError."""
        ...


class ConsoleMessenger:
    """Prints each message as it would appear: the default when no chat credentials are set."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def send(self, message: OutgoingMessage) -> str:
        where = f"#{message.to_channel}" if message.to_channel else f"@{message.to_user or '-'}"
        actions = message.payload.get("actions") or []
        buttons = "  ".join(f"[{a}]" for a in actions)
        print(f"── to {message.recipient or where} [{where}] · {message.key}", file=self.out)
        print(message.text, file=self.out)
        if buttons:
            print(buttons, file=self.out)
        image = image_of(message)
        if image is not None:
            print(f"[image {image.name}, {len(image.png):,} bytes: {image.alt}]", file=self.out)
        print(file=self.out, flush=True)
        return f"console:{message.key}"
