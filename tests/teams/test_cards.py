"""Adaptive Cards 1.5 from the chat-neutral model, parsed by Microsoft's own library (issue 12)."""

from __future__ import annotations

import pytest

from bot.core.model import Form, FormField
from bot.teams.cards import FORM_KEY, METADATA_KEY, escape, form_card, message_card, task_module
from tests.teams import npm_tools
from tests.teams.samples import AWKWARD, DECISION_FORM, FORMS, MESSAGES, PROMPT, VISIT_FORM


@pytest.fixture(scope="session")
def npm() -> object:
    return npm_tools.install()


def _all_cards() -> list[dict]:
    return [message_card(m) for m in MESSAGES] + [form_card(f) for f in FORMS]


def _without_schema(card: dict) -> dict:
    return {k: v for k, v in card.items() if k != "$schema"}


def test_every_card_parses_at_1_5_without_errors_or_warnings_and_loses_nothing(npm) -> None:
    """Every message and form card: no parse event, no validation event, and the library's own
    serialisation equals ours (a property it does not know would be dropped)."""
    cards = _all_cards()
    results = npm_tools.parse_cards(npm, cards)
    for card, result in zip(cards, results, strict=True):
        assert result["events"] == [], card
        assert result["validation"] == [], card
        assert _without_schema(result["roundtrip"]) == _without_schema(card)


def test_the_checker_does_report_a_card_beyond_1_5_and_an_unknown_element(npm) -> None:
    """The check above could fail: a 1.6 element and an unknown one are reported."""
    bad = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "Bogus"}, {"type": "Input.Text", "id": "a", "isRequired": True}],
    }
    result = npm_tools.parse_cards(npm, [bad])[0]
    assert result["events"] or result["validation"]


def test_buttons_are_execute_with_verb_and_data_and_forms_open_as_task_fetch() -> None:
    card = message_card(PROMPT)
    ack, decide = card["actions"]
    assert ack == {
        "type": "Action.Execute",
        "title": "Acknowledge",
        "verb": "seen_ack",
        "data": PROMPT.actions[0].value,
        "style": "positive",
    }
    assert decide["type"] == "Action.Submit"
    assert decide["data"]["msteams"] == {"type": "task/fetch"}
    assert decide["data"][FORM_KEY] == "seen_decision"
    assert card["fallbackText"] == PROMPT.fallback
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert facts[0] == {"title": "Rule", "value": "CB-NOTSEEN-DISCUSS"}


def test_form_inputs_carry_required_flags_initial_values_and_metadata() -> None:
    card = form_card(VISIT_FORM)
    inputs = {b["id"]: b for b in card["body"] if b["type"].startswith("Input.")}
    assert inputs["date"] == {
        "type": "Input.Date",
        "id": "date",
        "label": "Date of the visit",
        "isRequired": True,
        "errorMessage": "Date of the visit: required",
        "value": "2026-12-21",
    }
    assert inputs["time"]["value"] == "10:30"
    assert inputs["outcome"]["type"] == "Input.ChoiceSet" and inputs["outcome"]["value"] == "seen"
    assert inputs["bedroom"]["type"] == "Input.Toggle" and inputs["bedroom"]["value"] == "true"
    assert inputs["alone"]["value"] == "false" and "isRequired" not in inputs["alone"]
    assert inputs["note"]["isMultiline"] is True and inputs["note"]["value"] == "Child well, playing."
    submit = card["actions"][0]
    assert submit["data"] == {FORM_KEY: "seen_visit_record", METADATA_KEY: VISIT_FORM.metadata}
    # an initial value that is not one of the choices is not offered as chosen
    decision = {b["id"]: b for b in form_card(DECISION_FORM)["body"] if "id" in b}
    assert "value" not in decision["outcome"]


def test_task_module_answers_task_fetch_with_the_form_as_a_dialog() -> None:
    answer = task_module(VISIT_FORM)["task"]
    assert answer["type"] == "continue"
    assert answer["value"]["title"] == "Record a visit"
    assert answer["value"]["card"]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert answer["value"]["card"]["content"] == form_card(VISIT_FORM)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("*x*", "\\*x\\*"),
        ("_x_", "\\_x\\_"),
        ("[a](b)", "\\[a\\]\\(b\\)"),
        ("<at>x</at>", "\\<at\\>x\\</at\\>"),
        ("{{DATE(2026-12-21T10:00:00Z)}}", "{\\{DATE\\(2026-12-21T10:00:00Z\\)}}"),
        ("# h\n- l\n 3. n\n12) m\n.5", "\\# h\n\\- l\n 3\\. n\n12\\) m\n\\.5"),
        ("C-1042 a-b 2.5", "C-1042 a-b 2.5"),
        ("bell\x07", "bell"),
    ],
)
def test_text_is_escaped_so_teams_shows_it_as_written(text: str, shown: str) -> None:
    assert escape(text) == shown


def test_awkward_text_is_escaped_everywhere_it_appears() -> None:
    card = message_card(AWKWARD)
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert all("{{" not in t for t in texts)
    assert texts[0].startswith("\\# not a heading")
    assert card["body"][1]["facts"][0]["title"] == "A & B \\<c\\>"


def test_a_form_with_repeated_field_ids_or_an_empty_select_is_refused() -> None:
    with pytest.raises(ValueError, match="repeat"):
        Form("f", "t", "s", (FormField("a", "A", "text"), FormField("a", "B", "text")))
    with pytest.raises(ValueError, match="no options"):
        Form("f", "t", "s", (FormField("a", "A", "select"),))
