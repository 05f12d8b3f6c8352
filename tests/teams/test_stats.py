"""The weekly timeliness post on Teams (issue 14, "In chat"): one Adaptive Card with the four
headline numbers (CB-VISIT-10WD, CB-SEEN-ALONE, CB-NOTSEEN-DISCUSS, CB-RECORD) and the chart inline
as a data URI, parsed by Microsoft's own library and within Teams' message size."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from bot.teams.cards import escape
from bot.teams.conversations import Reference, remember
from bot.teams.messenger import TeamsMessenger
from bot.teams.stats import CARD_CHARS, stats_card
from scheduler.messenger import Image, OutgoingMessage, with_image
from scheduler.report_chart import HEADLINE
from scheduler.weekly_report import Post, stats_post
from storage.models import Team
from tests.bot.conftest import add_world
from tests.teams import npm_tools
from tests.teams.conftest import TENANT

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
CHANNEL = "19:team-north@thread.tacv2"


@pytest.fixture(scope="session")
def npm() -> object:
    return npm_tools.install()


@pytest.fixture
def summaries(factory) -> dict[str, Post]:
    """The real summaries of the test world: North CP's, and every team's (a practice manager's)."""
    add_world(factory)
    with factory() as s:
        teams = sorted(s.query(Team).all(), key=lambda t: t.name)
        north = [t for t in teams if t.name == "North CP"]
        return {"team": stats_post(s, north, NOW), "all": stats_post(s, teams, NOW)}


def _images(card: dict) -> list[dict]:
    return [b for b in card["body"] if b["type"] == "Image"]


def test_the_card_parses_at_1_5_with_the_chart_inline_and_fits_a_teams_message(npm, summaries) -> None:
    cards = [stats_card(p.text, p.image) for p in summaries.values()]
    for card, result in zip(cards, npm_tools.parse_cards(npm, cards), strict=True):
        assert result["events"] == [] and result["validation"] == [], result
        assert {k: v for k, v in result["roundtrip"].items() if k != "$schema"} == {
            k: v for k, v in card.items() if k != "$schema"
        }
        assert len(json.dumps(card)) <= CARD_CHARS < 25_000
        [image] = _images(card)
        assert image["url"].startswith("data:image/png;base64,")
        assert base64.b64decode(image["url"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert "statutory visits on time by month" in image["altText"]
    team = cards[0]
    assert team["body"][0]["text"].startswith("Timeliness of North CP")
    [facts] = [b for b in team["body"] if b["type"] == "FactSet"]
    assert [f["title"] for f in facts["facts"]] == [escape(words) for _, words in HEADLINE]
    assert len([b for b in cards[1]["body"] if b["type"] == "FactSet"]) == 3  # one per team


def test_a_chart_too_large_for_a_message_is_left_out_saying_so(npm, summaries) -> None:
    post = summaries["team"]
    big = Image(post.image.png + b"\0" * 30_000, post.image.name, post.image.alt)
    card = stats_card(post.text, big)
    assert _images(card) == [] and len(json.dumps(card)) <= CARD_CHARS
    assert card["body"][-1]["text"].startswith("The chart is too large for a Teams message")
    [result] = npm_tools.parse_cards(npm, [card])
    assert result["events"] == [] and result["validation"] == []


def test_the_messenger_sends_the_post_as_that_card_to_the_channel(teams_bot, factory, connector, summaries):
    remember(
        factory, Reference("channel", connector.open(CHANNEL), connector.url, TENANT, channel_id=CHANNEL)
    )
    messenger = TeamsMessenger.for_app(teams_bot.app, factory, timeout=5)
    post = summaries["team"]
    try:
        messenger.send(
            OutgoingMessage(
                key="report:team1:2026-W48",
                text=post.text,
                to_channel=CHANNEL,
                payload=with_image({"stage": "weekly-report"}, post.image),
            )
        )
    finally:
        messenger.close()
    (call,) = connector.activity_calls()
    assert call.path == f"/v3/conversations/{CHANNEL}/activities"
    card = call.body["attachments"][0]["content"]
    assert _images(card)[0]["url"] == "data:image/png;base64," + base64.b64encode(post.image.png).decode()
    assert call.body["text"].startswith("Timeliness of North CP")  # the notification's words, plain
    assert len(json.dumps(call.body)) < 25_000


def test_stats_typed_on_teams_answers_with_the_card_or_says_why_not(factory, summaries) -> None:
    """`stats` in the 1:1 chat: the same card; another team's name or an unknown person is refused."""
    from microsoft_teams.cards import AdaptiveCard

    from bot.teams.commands import TeamsCommands

    commands = TeamsCommands(factory, lambda: NOW)
    [answer] = commands.reply("U0SW", "stats", "a1")  # the test world's chat ids stand for Entra ids
    card = answer.attachments[0].content
    assert isinstance(card, AdaptiveCard)
    shown = card.model_dump(by_alias=True, exclude_none=True)
    assert shown["body"][0]["text"].startswith("Timeliness of North CP")
    assert any(b["type"] == "Image" for b in shown["body"])
    [refused] = commands.reply("U0SW", "stats South CP", "a2")
    assert not refused.attachments
    assert refused.text == (
        "⚠️ South CP is not your team, so Seen cannot show you its figures. Yours: North CP."
    )
    [unknown] = commands.reply("aad-nobody", "stats", "a3")
    assert unknown.text.startswith("⚠️ Seen does not know your Microsoft Teams account yet")
