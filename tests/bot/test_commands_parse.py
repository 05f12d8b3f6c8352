"""The `/seen` command text, parsed without I/O: every mistake says exactly how to write it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.parse import (
    Child,
    Due,
    Help,
    Log,
    Note,
    ParseError,
    Record,
    Team,
    parse,
    parse_time,
    visit_time,
)

LONDON = ZoneInfo("Europe/London")


def test_every_sub_command():
    assert parse("") == Help()
    assert parse("help") == Help()
    assert parse("due") == Due()
    assert parse("team") == Team()
    assert parse("child c-1042") == Child("C-1042")
    assert parse("record C-1042") == Record("C-1042")
    assert parse("note C-1042 Mum called:  will be in  tomorrow") == Note(
        "C-1042", "Mum called:  will be in  tomorrow"
    )


def test_log_with_every_option():
    cmd = parse("log C-1042 seen alone bedroom at 2026-12-21 10:30")
    assert cmd == Log("C-1042", "seen", True, None, True, (date(2026, 12, 21), time(10, 30)))
    cmd = parse("log C-1042 seen not-alone no-bedroom because asleep, parent present")
    assert cmd == Log("C-1042", "seen", False, "asleep, parent present", False, None)
    assert parse("log C-1042 no-one-home").outcome == "no-one-home"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log", "which child? Give the case reference"),
        ("log C-1042", "say how the visit went (seen, not-seen or no-one-home)"),
        ("log C-1042 maybe", "'maybe' is not an outcome"),
        ("log C-1042 seen at 21/12/2026 10:30", "time must be like 2026-12-21 10:30"),
        ("log C-1042 seen at 2026-12-21", "time must be like 2026-12-21 10:30"),
        ("log C-1042 seen at 2026-13-45 10:30", "time must be like 2026-12-21 10:30"),
        ("log C-1042 not-seen alone", "the child was not seen, so cannot have been seen alone"),
        ("log C-1042 no-one-home bedroom", "no one was home, so the bedroom was not seen"),
        ("log C-1042 seen sometimes", "unexpected 'sometimes'"),
        ("log C-1042 seen because why", "write `not-alone because"),
        ("frobnicate", "unknown command 'frobnicate'"),
        ("due now", "`/seen due` takes nothing after it"),
        ("child", "which child?"),
        ("note C-1042", "write the note after the case reference"),
        ("record C-1042 extra", "unexpected 'extra'"),
    ],
)
def test_mistakes_say_how_to_write_it(text, message):
    with pytest.raises(ParseError) as exc:
        parse(text)
    assert message in str(exc.value)


def test_time_in_local_wall_time_and_never_in_the_future():
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 13:00 in London (BST)
    assert visit_time(parse_time("2026-07-01 12:30"), LONDON, now) == datetime(2026, 7, 1, 11, 30, tzinfo=UTC)
    assert visit_time(None, LONDON, now) == now
    with pytest.raises(ParseError, match="a visit cannot be in the future"):
        visit_time(parse_time("2026-07-01 13:30"), LONDON, now)


def test_log_says_whether_a_baby_was_awake():
    """CB-BABY-AWAKE: a quick log of a baby's visit can say it at once."""
    assert parse("log C-1044 seen not-awake bedroom").awake is False
    assert parse("log C-1044 seen awake").awake is True
    with pytest.raises(ParseError, match="the child was not seen, so leave out awake"):
        parse("log C-1044 not-seen awake")
