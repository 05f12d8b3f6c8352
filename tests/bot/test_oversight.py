"""A practice manager, head of service or CP chair with no team covers every team. On a small
caseload their due list shows every child (tests/access/test_matrix.py); above
`EVERY_CHILD_UP_TO` open children it shows the children that need them: those with something
overdue at the last sweep (CB-VISIT-10WD here) and those they were sent a message about, and says
so, instead of evaluating a whole county's caseload for one request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.core import caseview
from scheduler.metrics import record_sweep
from scheduler.sweep import sweep
from storage.models import Outbox
from tests.bot.conftest import Clock, add_world, seen_at_home
from tests.bot.test_threads_and_home import _home, _texts

# Every child was seen on Mon 16 Nov; CB-VISIT-10WD falls due Mon 30 Nov, so on Wed 2 Dec the
# Central Bedfordshire children are overdue but for C-1043 (seen again on 30 Nov); C-3001
# (Hillingdon, 20 working days) is not due until 14 Dec.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    w = add_world(factory)
    at = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    with factory.begin() as s:
        s.add(seen_at_home(w.ids["C-1043"], w.ids["sw"], at))
    record_sweep(factory, NOW, sweep(factory, NOW))
    return w


def _team_list(factory: sessionmaker[Session], staff) -> str:  # type: ignore[no-untyped-def]
    with factory() as s:
        return caseview.team_due_text(s, staff, NOW)


def test_small_caseload_every_child(world, factory: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    text = _team_list(factory, world.staff("pm"))
    assert all(ref in text for ref in ("C-1042", "C-1043", "C-1044", "C-2001", "C-3001"))
    assert "Across all teams" not in text


def test_large_caseload_the_children_that_need_them_cb_visit_10wd(
    world, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(caseview, "EVERY_CHILD_UP_TO", 4)
    text = _team_list(factory, world.staff("pm"))
    assert "Across all teams (5 open children): the 3 with something overdue" in text
    assert [ref for ref in ("C-1042", "C-1043", "C-1044", "C-2001", "C-3001") if ref in text] == [
        "C-1042",
        "C-1044",
        "C-2001",
    ]
    assert "CB-VISIT-10WD" in text

    # A message to the practice manager about C-3001 in the last fortnight brings it in; one
    # older than that, or to somebody else, does not.
    with factory.begin() as s:
        for key, staff, created in (
            ("k-recent", "pm", datetime(2026, 11, 25, 9, 0, tzinfo=UTC)),
            ("k-other", "chair", NOW),
        ):
            s.add(
                Outbox(
                    key=key,
                    child_id=world.ids["C-3001"],
                    rule="HI-VISIT-20WD",
                    stage="prompt",
                    recipient_staff_id=world.ids[staff],
                    send_after=created,
                    created_at=created,
                    text="x",
                    payload={},
                    next_attempt_at=created,
                )
            )
    assert "C-3001" in _team_list(factory, world.staff("pm"))
    with factory.begin() as s:
        s.query(Outbox).filter(Outbox.key == "k-recent").update(
            {Outbox.created_at: datetime(2026, 11, 17, 9, 0, tzinfo=UTC)}
        )
    assert "C-3001" not in _team_list(factory, world.staff("pm"))


def test_large_caseload_is_capped_and_says_so(world, factory: sessionmaker[Session], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(caseview, "EVERY_CHILD_UP_TO", 4)
    monkeypatch.setattr(caseview, "OVERSIGHT_LIMIT", 2)
    text = _team_list(factory, world.staff("pm"))
    assert "the 3 with something overdue" in text and "the first 2 by case reference are listed" in text
    assert "C-1042" in text and "C-1044" in text and "C-2001" not in text


def test_a_team_manager_sees_their_team_whatever_the_caseload(
    world, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(caseview, "EVERY_CHILD_UP_TO", 1)
    text = _team_list(factory, world.staff("tm"))
    assert all(ref in text for ref in ("C-1042", "C-1043", "C-1044")) and "C-2001" not in text
    assert "Across all teams" not in text


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def test_app_home_across_all_teams_says_what_it_shows(running, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Over real HTTP: the practice manager's App Home on a large caseload."""
    monkeypatch.setattr(caseview, "EVERY_CHILD_UP_TO", 4)
    home = _texts(_home(running, "U0PM", "EvO1"))
    assert home.startswith("Children across all teams\n*Overdue* (3)")
    assert "C-1043" not in home and "C-3001" not in home
    assert "Across all teams (5 open children): the 3 with something overdue" in home


def test_large_caseload_with_nothing_overdue_says_so(factory: sessionmaker[Session], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    w = add_world(factory)  # every child seen on 16 Nov: nothing overdue on 23 Nov
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    record_sweep(factory, now, sweep(factory, now))
    monkeypatch.setattr(caseview, "EVERY_CHILD_UP_TO", 4)
    with factory() as s:
        text = caseview.team_due_text(s, w.staff("pm"), now)
    assert "nothing overdue at the last sweep and no message to you in the last fortnight" in text
    assert "C-10" not in text and "C-20" not in text and "C-30" not in text
