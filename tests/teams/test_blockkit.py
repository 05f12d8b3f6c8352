"""Block Kit from the same chat-neutral model, checked with slack_sdk's own models (issue 12)."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.blockkit import escape, message_blocks, modal
from tests.teams.samples import AWKWARD, DECISION_FORM, FORMS, MESSAGES, PROMPT, VISIT_FORM


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.fallback[:20])
def test_every_message_parses_as_slack_blocks_and_round_trips(message) -> None:
    blocks = message_blocks(message)
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        assert parsed.to_dict() == block


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.id)
def test_every_form_is_a_valid_slack_modal_that_round_trips(form) -> None:
    view = modal(form)
    parsed = View(**view)
    parsed.validate_json()
    assert parsed.to_dict() == view


def test_buttons_call_back_with_their_value_and_open_form_buttons_name_the_form() -> None:
    actions = message_blocks(PROMPT)[-1]
    ack, decide = actions["elements"]
    assert (ack["action_id"], ack["style"]) == ("seen_ack", "primary")
    assert json.loads(ack["value"]) == PROMPT.actions[0].value
    assert decide["action_id"] == "seen_decision" and "style" not in decide


def test_modal_inputs_carry_required_flags_initial_values_and_metadata() -> None:
    view = modal(VISIT_FORM)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["date"]["optional"] is False
    assert blocks["date"]["element"] == {"type": "datepicker", "initial_date": "2026-12-21", "action_id": "v"}
    assert blocks["time"]["element"]["initial_time"] == "10:30"
    assert blocks["outcome"]["element"]["initial_option"]["value"] == "seen"
    assert blocks["bedroom"]["element"]["initial_options"][0]["value"] == "yes"
    assert "initial_options" not in blocks["alone"]["element"] and blocks["alone"]["optional"] is True
    assert blocks["reason"]["hint"]["text"] == "Only when the child was not seen alone"
    assert json.loads(view["private_metadata"]) == VISIT_FORM.metadata
    decision = {b["block_id"]: b for b in modal(DECISION_FORM)["blocks"]}
    assert "initial_option" not in decision["outcome"]["element"]  # not one of its choices
    assert len(modal(DECISION_FORM)["title"]["text"]) == 24


def test_text_is_shown_as_written_on_slack() -> None:
    blocks = message_blocks(AWKWARD)
    assert blocks[0]["text"] == {"type": "plain_text", "text": AWKWARD.sections[0], "emoji": True}
    assert blocks[1]["fields"][0]["text"].startswith("*A &amp; B &lt;c&gt;*\n")
    assert escape("<@U1> & <!channel>") == "&lt;@U1&gt; &amp; &lt;!channel&gt;"
