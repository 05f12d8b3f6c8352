"""When each obligation is told to whom (scheduler/stages.py): reminder stages on working
mornings, overdue alerts, prompts and the manager ladder of RULES.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.policies import load_policy
from scheduler.rules.model import Obligation
from scheduler.stages import planned_stages, stages_to_send

CB = load_policy("central-bedfordshire")


def ob(rule: str, due: date | datetime, owner: str = "lead_social_worker") -> Obligation:
    return Obligation(rule, due, "due", owner, "summary", "basis", key=f"C-1:{rule}:{owner}:x")


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def test_visit_reminders_across_christmas_cb_visit_10wd() -> None:
    """CB-VISIT-10WD due Tue 2026-12-29: 3 WD before is 22 Dec, 1 WD before is 24 Dec (25, 28
    Dec are bank holidays), due-today 29 Dec, overdue the next working morning, 30 Dec, 08:30
    GMT; the overdue alert goes to the worker and the team manager."""
    stages = planned_stages(CB, ob("CB-VISIT-10WD", date(2026, 12, 29)), None, False)
    assert [(s.name, s.at) for s in stages] == [
        ("remind-3wd", utc(2026, 12, 22, 8, 30)),
        ("remind-1wd", utc(2026, 12, 24, 8, 30)),
        ("due-today", utc(2026, 12, 29, 8, 30)),
        ("overdue", utc(2026, 12, 30, 8, 30)),
    ]
    assert stages[-1].to == ("lead_social_worker", "team_manager")


def test_morning_is_local_time_in_summer_hi_visit_20wd() -> None:
    """HI-VISIT-20WD reminders go at 08:30 London time: 07:30 UTC under BST."""
    hi = load_policy("hillingdon")
    stages = planned_stages(hi, ob("HI-VISIT-20WD", date(2027, 7, 14)), None, False)
    assert stages[-2].name == "due-today"
    assert stages[-2].at == utc(2027, 7, 14, 7, 30)


def test_due_on_a_saturday_is_told_on_friday_hi_initial_1wk() -> None:
    """HI-INITIAL-1WK is in calendar days, so it can fall on a Saturday: the due-today message
    goes on the Friday morning (one message, not remind-1wd and due-today at once); overdue on
    Monday morning."""
    stages = planned_stages(CB, ob("HI-INITIAL-1WK", date(2027, 1, 16)), None, False)
    names = [(s.name, s.at) for s in stages]
    assert ("due-today", utc(2027, 1, 15, 8, 30)) in names
    assert "remind-1wd" not in [n for n, _ in names]
    assert names[-1] == ("overdue", utc(2027, 1, 18, 8, 30))


def test_hour_deadline_reminded_hours_before_cb_record() -> None:
    """CB-RECORD (visit + 24 h): a reminder 4 hours before, the overdue alert at the deadline."""
    due = utc(2026, 12, 11, 10, 30)
    stages = planned_stages(CB, ob("CB-RECORD", due), None, False)
    assert [(s.name, s.at) for s in stages] == [
        ("remind-4h", utc(2026, 12, 11, 6, 30)),
        ("overdue", due),
    ]


def test_manager_prompt_ladder_cb_notseen_discuss() -> None:
    """CB-NOTSEEN-DISCUSS prompt: sent when it arises (Thu 10 Dec 10:35); repeated to the
    manager after 4 hours; at the deadline (Fri 11 Dec 10:30) the manager is told it is overdue
    and the practice manager is told; 24 hours later is Saturday, outside working hours, so the
    head of service is told at the start of Monday's (14 Dec, 08:30 GMT)."""
    due = utc(2026, 12, 11, 10, 30)
    prompt_at = utc(2026, 12, 10, 10, 35)
    stages = planned_stages(CB, ob("CB-NOTSEEN-DISCUSS", due, "team_manager"), prompt_at, False)
    assert [(s.name, s.at, s.to) for s in stages] == [
        ("prompt", prompt_at, ("team_manager",)),
        ("repeat", prompt_at + timedelta(hours=4), ("team_manager",)),
        ("overdue", due, ("team_manager",)),
        ("escalate-2-practice_manager", due, ("practice_manager",)),
        ("escalate-3-head_of_service", utc(2026, 12, 14, 8, 30), ("head_of_service",)),
    ]


def test_acknowledging_stops_the_ladder_but_not_the_overdue_alert_cb_notseen_discuss() -> None:
    """An acknowledged prompt is not repeated nor escalated; only the decision meets the rule,
    so the manager is still told at the deadline."""
    due = utc(2026, 12, 11, 10, 30)
    prompt_at = utc(2026, 12, 10, 10, 35)
    stages = planned_stages(CB, ob("CB-NOTSEEN-DISCUSS", due, "team_manager"), prompt_at, True)
    assert [s.name for s in stages] == ["prompt", "overdue"]


def test_practice_manager_is_not_escalated_to_themselves_cb_access() -> None:
    """CB-ACCESS is owned by the practice manager: the ladder skips the practice-manager rung."""
    due = utc(2026, 12, 11, 10, 30)
    stages = planned_stages(CB, ob("CB-ACCESS", due, "practice_manager"), utc(2026, 12, 10, 11), False)
    assert "escalate-2-practice_manager" not in [s.name for s in stages]
    assert "escalate-3-head_of_service" in [s.name for s in stages]


def test_date_prompt_found_at_midnight_waits_for_the_morning_cb_20cd_lsw() -> None:
    """CB-20CD-LSW arises with the date: the midnight sweep does not wake the manager; the
    prompt goes at 08:30."""
    o = ob("CB-20CD-LSW", date(2027, 1, 5), "team_manager")
    send, upcoming = stages_to_send(CB, o, utc(2027, 1, 5, 0, 1), None, False)
    assert send == []
    assert upcoming == utc(2027, 1, 5, 8, 30)
    send, _ = stages_to_send(CB, o, utc(2027, 1, 5, 8, 30), None, False)
    assert [s.name for s in send] == ["prompt"]


def test_prompt_is_kept_when_it_falls_with_the_overdue_alert_cb_20cd_lsw() -> None:
    """A lapse on a non-working day: prompt and overdue fall on the same morning; the prompt
    (which starts the ladder) is the one sent."""
    o = ob("CB-20CD-LSW", date(2026, 12, 26), "team_manager")
    send, _ = stages_to_send(CB, o, utc(2026, 12, 29, 8, 30), None, False)
    assert [s.name for s in send] == ["prompt"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 12, 21, 9), []),
        (utc(2026, 12, 22, 8, 30), ["remind-3wd"]),
        (utc(2026, 12, 30, 12), ["overdue"]),  # after downtime: only the latest, not four at once
    ],
)
def test_only_the_latest_due_stage_is_sent_cb_visit_10wd(now: datetime, expected: list[str]) -> None:
    """CB-VISIT-10WD: of the stages whose time has come only the latest goes."""
    send, _ = stages_to_send(CB, ob("CB-VISIT-10WD", date(2026, 12, 29)), now, None, False)
    assert [s.name for s in send] == expected


def test_a_late_prompt_still_climbs_in_order_cb_seen_alone() -> None:
    """A prompt that goes long after its deadline (e.g. found on import) is not escalated at
    once: the manager prompted gets the repeat first, then each rung above in turn, 4 hours
    apart (Tue 24 Nov 09:00, 13:00, 17:00); the head of service's turn would be 21:00, outside
    working hours, so it is Wednesday 08:30."""
    due = utc(2026, 11, 20, 11)
    prompt_at = utc(2026, 11, 24, 9)
    stages = planned_stages(CB, ob("CB-SEEN-ALONE", due, "team_manager"), prompt_at, False)
    ladder = [(s.name, s.at) for s in stages if s.kind == "escalation"]
    assert ladder == [
        ("repeat", prompt_at + timedelta(hours=4)),
        ("escalate-2-practice_manager", prompt_at + timedelta(hours=8)),
        ("escalate-3-head_of_service", utc(2026, 11, 25, 8, 30)),
    ]


def test_no_before_deadline_reminder_once_overdue_cb_visit_10wd() -> None:
    """First sweep after the deadline (e.g. at midnight, or just after an import): no stale
    'due today' reminder; the overdue alert goes at its own time."""
    o = Obligation("CB-VISIT-10WD", date(2026, 11, 30), "overdue", "lead_social_worker", "s", "b", "k")
    send, upcoming = stages_to_send(CB, o, utc(2026, 12, 1, 0, 0), None, False)
    assert send == []
    assert upcoming == utc(2026, 12, 1, 8, 30)


def test_snoozed_reminders_wait_for_the_next_working_morning_cb_visit_10wd() -> None:
    """'Snooze until tomorrow' (CB allows it): a reminder falling before the next working morning
    is postponed to it; the overdue alert is not snoozed."""
    from scheduler.stages import snoozed_until

    snoozed_at = utc(2026, 12, 22, 9)  # the 3-WD reminder (22 Dec, 08:30) snoozed at 09:00
    until = snoozed_until(CB, utc(2026, 12, 24, 9))  # Thursday; Fri 25 and Mon 28 are holidays
    assert until == utc(2026, 12, 29, 8, 30)
    assert snoozed_until(CB, snoozed_at) == utc(2026, 12, 23, 8, 30)
    o = ob("CB-VISIT-10WD", date(2026, 12, 29))
    stages = planned_stages(CB, o, None, False, (utc(2026, 12, 24, 9), until))
    assert [(s.name, s.at) for s in stages] == [
        ("remind-3wd", utc(2026, 12, 22, 8, 30)),
        ("remind-1wd", utc(2026, 12, 24, 8, 30)),  # before the snooze: already sent
        ("due-today", utc(2026, 12, 29, 8, 30)),
        ("overdue", utc(2026, 12, 30, 8, 30)),
    ]


@pytest.mark.parametrize(
    "now",
    [utc(2026, 12, 21, 9), utc(2026, 12, 22, 8, 30), utc(2026, 12, 29, 8, 29), utc(2026, 12, 30, 12)],
)
def test_stages_worked_out_once_are_each_obligations_own_cb_visit_10wd(now: datetime) -> None:
    """StagesAt (the sweep's) answers as stages_to_send does for every obligation, around the
    boundaries of CB-VISIT-10WD's stages: two children's reminders due the same day share one
    answer; a snoozed one, an overdue one and a prompt (CB-20CD-LSW, when it went; acknowledged or
    not) each get their own."""
    from scheduler.stages import StagesAt, snoozed_until

    at = StagesAt(now)
    due = date(2026, 12, 29)
    snooze = (utc(2026, 12, 24, 8), snoozed_until(CB, utc(2026, 12, 24, 8)))  # to 29 Dec 08:30
    first = Obligation("CB-VISIT-10WD", due, "due", "lead_social_worker", "s", "b", "C-1:k")
    second = first._replace(key="C-2:k", summary="other")
    overdue = first._replace(status="overdue")
    prompt = ob("CB-20CD-LSW", due, "team_manager")
    cases = [
        (first, None, False, None),
        (second, None, False, None),
        (first, None, False, snooze),
        (overdue, None, False, None),
        (prompt, None, False, None),
        (prompt, utc(2026, 12, 21, 8, 30), False, None),
        (prompt, utc(2026, 12, 21, 8, 30), True, None),
    ]
    for o, prompted_at, acknowledged, snoozed in cases:
        expected = stages_to_send(CB, o, now, prompted_at, acknowledged, snoozed)
        assert at(CB, o, prompted_at, acknowledged, snoozed) == expected
        assert at(CB, o, prompted_at, acknowledged, snoozed) == expected  # asked again
    assert at(CB, first, None, False) is at(CB, second, None, False)
    if now == utc(2026, 12, 29, 8, 29):  # the 1-WD reminder (24 Dec 08:30) went, unless snoozed
        assert [s.name for s in at(CB, first, None, False)[0]] == ["remind-1wd"]
        assert [s.name for s in at(CB, first, None, False, snooze)[0]] == ["remind-3wd"]
        assert at(CB, overdue, None, False)[0] == []
