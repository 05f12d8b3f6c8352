"""Slack's refusals in words, ephemeral answers, and a modal's private metadata."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core.context import json_object
from bot.slack import views

log = logging.getLogger("seen.bot")


def say(respond: Any, text: str) -> None:
    """An answer only the user sees (ephemeral), next to what they typed or clicked."""
    respond(text=views.mrkdwn(text), response_type="ephemeral", replace_original=False)


SLACK_ERRORS = {
    "expired_trigger_id": "Slack opens a form only within 3 seconds of the request, and it came too late.",
    "exchanged_trigger_id": "Slack opens one form per request, and this one was used already.",
    "invalid_trigger_id": "Slack did not recognise the request that should open it.",
    "ratelimited": "Slack is busy (rate limited).",
}


class SlackFormNotOpened(Exception):
    """views.open refused after the work before it was stored: the message says so."""


def slack_refused(exc: SlackApiError) -> str:
    """Slack's refusal in words for the user (its error code logged, never the payload)."""
    error = str(exc.response.get("error") or getattr(exc.response, "status_code", ""))
    log.warning("Slack refused a call: %s", error)
    return SLACK_ERRORS.get(error, f"Slack refused it ({error}).")


def form_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's private metadata, as this app wrote it when opening the form. Slack sends it back
    unchanged; anything that is not a JSON object (a garbled or forged payload) reads as empty, and
    the submission is then refused for want of a known child."""
    return json_object(view.get("private_metadata"))


def noop_ack(ack: Any) -> None:
    """Acknowledge at once; a lazy listener does the work."""
    ack()
