"""The weekly timeliness post (issue 14, "In chat"), scheduler side: when it is due (the policy's
[reports] day and time, working days, the catch-up), and its outbox rows on SQLite and PostgreSQL,
once per team and ISO week, each carrying its chart."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from scheduler.loop import Runtime
from scheduler.messenger import ConsoleMessenger, OutgoingMessage, image_of
from scheduler.policies import load_policy
from scheduler.weekly_report import post_due, write_weekly_reports
from storage.models import Outbox
from tests.bot.conftest import add_world

CB = load_policy("central-bedfordshire")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)  # London is on UTC in winter


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (at(22, 12), None),  # Sunday: last Monday's catch-up ended on Tuesday
        (at(23, 8, 59), None),  # Monday, a minute early
        (at(23, 9), ("2026-W48", at(23, 9))),  # Monday 09:00 on the dot
        (at(24, 23, 59), ("2026-W48", at(23, 9))),  # Tuesday: still caught up (late)
        (at(25, 0, 0), None),  # Wednesday: left to next week's post
        (at(28, 9, month=12), None),  # Monday 28 Dec 2026: bank holiday (Boxing Day substitute)
        (at(29, 9, month=12), ("2026-W53", at(29, 9, month=12))),  # the next working day, same time
        (at(30, 12, month=12), ("2026-W53", at(29, 9, month=12))),  # its catch-up day
    ],
    ids=["sun", "mon-early", "mon-0900", "tue", "wed", "bank-holiday", "tue-after", "wed-after"],
)
def test_when_the_post_is_due(now: datetime, due: tuple[str, datetime] | None) -> None:
    assert post_due(CB, now) == due


def test_each_team_and_the_practice_manager_get_one_row_a_week_with_the_chart(factory) -> None:
    add_world(factory)
    assert write_weekly_reports(factory, at(23, 9)) == 4
    assert write_weekly_reports(factory, at(23, 9, 5)) == 0
    assert write_weekly_reports(factory, at(24, 10)) == 0
    with factory() as s:
        rows = s.scalars(select(Outbox).order_by(Outbox.key)).all()
        assert [(r.key, r.recipient_channel, r.late) for r in rows] == [
            ("report:staff4:2026-W48", None, False),  # the practice manager, with no team: every team
            ("report:team1:2026-W48", "C0NORTH", False),
            ("report:team2:2026-W48", "C0SOUTH", False),
            ("report:team3:2026-W48", "C0HILL", False),
        ]
        message = OutgoingMessage(rows[1].key, rows[1].text, payload=rows[1].payload)
    image = image_of(message)
    assert image is not None and image.png[:8] == b"\x89PNG\r\n\x1a\n"
    out = io.StringIO()
    report = Runtime(factory, ConsoleMessenger(out), holder="t").deliver_step(at(23, 9))
    assert report.sent == 4 and out.getvalue().count("[image ") == 4
