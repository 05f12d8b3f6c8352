"""Issue 12: Home on Teams is a card answering `home` in the 1:1 chat, built from the same content
as Slack's App Home (bot.core.home); and every text answer on Teams is rendered for Teams
(`*bold*` bold, `code` as code, nothing else read as markup), not shown as Slack's mrkdwn."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.core.home import home_content
from bot.teams.home import HOME_LINES, home_message
from bot.teams.text import plain, xml
from storage.models import AuditLog, Staff
from tests.bot.conftest import add_world
from tests.teams import npm_tools
from tests.teams.conftest import personal_message

TM_AAD = "aad-tina-manager"
SW_AAD = "aad-sam-worker"


@pytest.fixture
def teams_world(factory) -> None:
    add_world(factory)
    with factory.begin() as s:
        s.execute(update(Staff).where(Staff.chat_user_id == "U0TM").values(chat_user_id=TM_AAD))
        s.execute(update(Staff).where(Staff.chat_user_id == "U0SW").values(chat_user_id=SW_AAD))


def _sent(connector, aad: str) -> list[dict[str, Any]]:
    with connector.lock:
        return list(connector.conversations.get(f"a:chat-{aad}", {}).values())


def _card_texts(card: dict[str, Any]) -> list[str]:
    """The card's texts as Teams shows them (the renderer escapes Markdown with backslashes)."""
    return [re.sub(r"\\(.)", r"\1", b["text"]) for b in card["body"] if b["type"] == "TextBlock"]


def test_a_manager_types_home_and_gets_the_app_home_content_as_a_card(
    teams_world, timed_sender, factory, connector, clock
):
    """The team manager's home (Slack's App Home content at the same instant): overdue, the open
    manager prompts, due next, each heading with its count and every line; audited as on Slack."""
    assert timed_sender.post(personal_message(connector, TM_AAD, "home")).status_code == 200
    (activity,) = _sent(connector, TM_AAD)
    card = activity["attachments"][0]["content"]
    with factory() as s:
        home = home_content(s, s.scalar(select(Staff).where(Staff.chat_user_id == TM_AAD)), clock[0])
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "home.viewed"))
        assert audit.detail == {"via": "teams"}
    texts = _card_texts(card)
    assert texts[0] == "Your team's children"
    headings = [t.split(" (")[0] for t in texts if not t.startswith("•")][1:-1]
    assert headings == ["Overdue", "Open manager prompts", "Due next"]
    lines = [line for _, section in home.sections for line in section]
    assert 0 < len(lines) <= HOME_LINES
    for line in lines:
        assert f"• {plain(line)}" in texts
    assert not any("*" in t for t in texts)
    assert "/seen" not in texts[-1] and "help" in texts[-1]


def test_a_worker_types_home_and_gets_their_children_by_deadline(teams_world, timed_sender, connector):
    timed_sender.post(personal_message(connector, SW_AAD, "Home"))
    (activity,) = _sent(connector, SW_AAD)
    texts = _card_texts(activity["attachments"][0]["content"])
    assert texts[0] == "Your children"
    assert texts[1].startswith("Your children by deadline (")
    assert any("C-1042" in t for t in texts)


def test_someone_seen_does_not_know_is_refused_home_and_audited(
    teams_world, timed_sender, factory, connector
):
    timed_sender.post(personal_message(connector, "aad-stranger", "home"))
    (activity,) = _sent(connector, "aad-stranger")
    assert "attachments" not in activity
    assert activity["text"].startswith("⚠️ Seen does not know your Microsoft Teams account yet")
    with factory() as s:
        refused = s.scalar(select(AuditLog).where(AuditLog.action == "teams.refused"))
        assert refused.detail["action"] == "home"
        assert s.scalar(select(AuditLog).where(AuditLog.action == "home.viewed")) is None


def test_the_home_card_beyond_its_lines_counts_the_rest(npm) -> None:
    """A home longer than HOME_LINES lines: the first HOME_LINES shown, the rest counted, pointing
    to the typed commands; the card parses with Microsoft's adaptivecards library."""
    from bot.core.home import HomeContent

    many = [f"*C-{1000 + i}* (AB) HI-VISIT-20WD due Tue 01 Dec" for i in range(HOME_LINES + 5)]
    home = HomeContent(
        "Your team's children", [("Overdue", many), ("Due next", [])], "`/seen help`", "`/seen team`"
    )
    card_texts = home_message(home).sections
    assert len([t for t in card_texts if t.startswith("•")]) == HOME_LINES
    assert card_texts[-1] == "… and 5 more not shown here: team"
    assert "Due next (0): nothing here." in card_texts
    from bot.teams.cards import message_card

    (result,) = npm_tools.parse_cards(npm, [message_card(home_message(home))])
    assert result["events"] == [] and result["validation"] == []


@pytest.fixture(scope="module")
def npm() -> object:
    return npm_tools.install()


def test_slack_flavoured_text_is_rendered_for_teams() -> None:
    """`*bold*` is bold and `code` is code in Teams' XML text format; a lone `*`, `<`, `&` and an
    `_` inside a word stay as written; each line break is kept."""
    sample = "*Overdue* (2) · type `child C-1042` · a*b 2*3 <x> & team_manager\nnext"
    assert xml(sample) == (
        "<b>Overdue</b> (2) · type <code>child C-1042</code> · a*b 2*3 &lt;x&gt; &amp; team_manager<br>next"
    )


def test_a_command_answer_on_teams_is_sent_in_the_xml_text_format(teams_world, timed_sender, connector):
    """`team` answers with Slack-flavoured bold and code in the core; on Teams it arrives as
    textFormat xml, with <b> and <code>, and no `*` left."""
    timed_sender.post(personal_message(connector, TM_AAD, "team"))
    answers = _sent(connector, TM_AAD)
    assert answers and all(a["textFormat"] == "xml" for a in answers)
    assert any("<b>" in a["text"] for a in answers)
    assert not any("*" in a["text"] for a in answers)
