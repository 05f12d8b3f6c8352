"""A manager is told which reminders went out late (issue 5): after Seen was down, or the chat
platform was, the loop logs the late reminders (console log) and, once chat works again, posts one
message to the team's manager(s) listing them by case reference and rule ID, never a name. Each
late reminder is in one summary only: more ticks, a restart or a replayed step write no second."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import datetime

import pytest
from sqlalchemy import select

from scheduler.delivery import LATE_SUMMARY_STAGE, write_late_summaries
from storage.models import Child, Outbox, Staff, Team
from tests.faults.conftest import END, Harness, tally
from tests.faults.test_chat_outages import OUTAGE, at, window

DOWN = (at(10, 0), at(17, 0))  # Seen not running Monday 10:00-17:00: repeats and escalations fall due


def summaries(h: Harness) -> list[Outbox]:
    return [r for r in h.rows() if r.stage == LATE_SUMMARY_STAGE]


def late_reminders(h: Harness) -> list[Outbox]:
    return [r for r in h.rows() if r.late and r.child_id is not None]


def team_of(h: Harness) -> dict[int, int]:
    with h.factory() as session:
        return dict(session.execute(select(Child.id, Child.team_id)).all())  # type: ignore[arg-type]


def managers(h: Harness) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    with h.factory() as session:
        for s in session.scalars(select(Staff).where(Staff.role == "team_manager")):
            out[s.team_id].add(s.id)  # type: ignore[index]
    return out


def names(h: Harness) -> list[str]:
    """Every staff name and every child's initials: none may appear in a summary."""
    with h.factory() as session:
        staff = [s.name for s in session.scalars(select(Staff))]
        initials = [c.initials for c in session.scalars(select(Child))]
        teams = [t.name for t in session.scalars(select(Team))]
    words = [w for n in staff for w in [n, *n.split()]]
    return [w for w in words if all(w not in t for t in teams)] + initials


def check_summaries(h: Harness, log: pytest.LogCaptureFixture) -> dict[int, list[Outbox]]:
    """One summary per team manager per incident, after every late reminder of that team went,
    listing each by case reference and rule ID, no names; the late reminders are in the log."""
    late = late_reminders(h)
    assert late, "nothing went out late"
    teams = team_of(h)
    told = summaries(h)
    assert told
    by_team: dict[int, list[Outbox]] = defaultdict(list)
    with h.factory() as session:
        refs = dict(session.execute(select(Child.id, Child.case_ref)).all())
    for s in told:
        team = int(re.match(rf"{LATE_SUMMARY_STAGE}:team(\d+):", s.key)[1])  # type: ignore[index]
        by_team[team].append(s)
        assert s.recipient_staff_id in managers(h)[team]
    forbidden = names(h)
    for team, rows in by_team.items():
        mine = [r for r in late if teams[r.child_id] == team]  # type: ignore[index]
        assert mine
        for s in rows:
            for word in forbidden:
                assert word not in s.text, word
        listed = "\n".join(s.text for s in rows)
        for r in mine:
            assert f"{refs[r.child_id]} [{r.rule}]" in listed, r.key
            summary = next(s for s in rows if s.key.startswith(r.payload["late_summary"]))
            assert summary.sent_at >= r.sent_at  # told after the reminder went, never before
    logged = "\n".join(rec.getMessage() for rec in log.records if rec.name.startswith("seen"))
    for r in late:
        assert r.key in logged or f"{refs[r.child_id]} [{r.rule}]" in logged, r.key
    return by_team


def test_after_seen_was_down_managers_are_told_once(harness: Harness, reference, seen_log) -> None:
    """Seen is not running on Monday from 10:00 to 17:00: the repeats and escalations that fell
    due go out late when it is back (marked late by the sweep), and each team manager gets one
    summary of them."""
    harness.run(down=DOWN)
    tally(harness, "Seen down 7 h (late summary)", reference(down=DOWN).keys)
    by_team = check_summaries(harness, seen_log)
    for team, rows in by_team.items():
        assert len(rows) == len(managers(harness)[team])  # one message to each manager, once
    before = [s.key for s in summaries(harness)]
    harness.run(until=END + (END - DOWN[1]))  # more ticks: nothing new to tell
    with harness.factory.begin() as session:
        assert write_late_summaries(session, harness.now) == []  # a replayed step writes nothing
    assert [s.key for s in summaries(harness)] == before
    counts = harness.fake.delivered()
    assert all(counts[k] == 1 for k in before)


def test_after_a_slack_outage_managers_are_told_once_it_is_back(
    harness: Harness, reference, seen_log
) -> None:
    """Slack answers 500 for 25 minutes over Monday's morning burst: the reminders go out late
    once it is back, and only then is each team manager told, in one message."""
    fake = harness.fake
    harness.run(fault=window(*OUTAGE, lambda: fake.answer_status(500), fake), marks=OUTAGE)
    tally(harness, "500s 25 min (late summary)", reference().keys)
    by_team = check_summaries(harness, seen_log)
    for team, rows in by_team.items():
        assert len(rows) == len(managers(harness)[team])
    for s in summaries(harness):
        assert s.sent_at is not None and s.sent_at >= OUTAGE[1]  # once chat works again
        assert s.attempts == 1  # not tried while Slack was down: written after the late ones went
    delayed = late_reminders(harness)
    assert all(r.sent_at >= OUTAGE[1] for r in delayed)  # type: ignore[operator]
    assert all(r.payload.get("meant_for") for r in delayed)


def test_two_incidents_two_summaries_each_listing_its_own(harness: Harness, reference, seen_log) -> None:
    """Slack is down on Monday morning and Seen on Tuesday morning: a team manager is told once
    per incident that made the team's reminders late, each message listing that incident's."""
    fake = harness.fake
    down = (at(8, 0, day=1), at(9, 30, day=1))
    harness.run(fault=window(*OUTAGE, lambda: fake.answer_status(500), fake), marks=OUTAGE, down=down)
    tally(harness, "500s Mon + Seen down Tue (late summary)", reference(down=down).keys)
    by_team = check_summaries(harness, seen_log)
    teams = team_of(harness)
    late = late_reminders(harness)
    for team, rows in by_team.items():
        mine = [r for r in late if teams[r.child_id] == team]  # type: ignore[index]
        incidents = {r.sent_at.date() for r in mine}  # type: ignore[union-attr]
        bases = {r.payload["late_summary"] for r in mine}
        assert len(bases) == len(incidents)  # one summary per incident
        assert len(rows) == len(incidents) * len(managers(harness)[team])
        for r in mine:  # listed in the first summary written after it went, and in no other
            first = min((s for s in rows if _when(s) >= _when(r)), key=_when)
            assert first.key.startswith(r.payload["late_summary"])
    assert {d for rows in by_team.values() for d in (r.key.split(":")[2] for r in rows)} == {
        "2026-12-21",
        "2026-12-22",
    }


def _when(s: Outbox) -> datetime:
    assert s.sent_at is not None
    return s.sent_at


def test_the_console_log_names_the_late_reminders(harness: Harness, seen_log) -> None:
    """The loop's own log lists the late reminders (outbox keys: case reference and rule ID)."""
    harness.run(down=DOWN)
    warnings = [
        r.getMessage()
        for r in seen_log.records
        if r.levelno == logging.WARNING and "went out late" in r.getMessage()
    ]
    assert any("reminder(s) went out late:" in w for w in warnings)
    assert any("its managers are told" in w for w in warnings)
    for r in late_reminders(harness):
        assert any(r.key in w for w in warnings), r.key
