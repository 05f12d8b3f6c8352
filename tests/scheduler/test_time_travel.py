"""Time travel: the real sweep, outbox and delivery take a caseload through eight weeks with
Christmas and New Year inside (1 December 2026 to 26 January 2027), with replies on the way,
and every reminder, overdue alert, prompt and escalation is checked against RULES.md: nothing
missing, nothing twice. Runs on SQLite and on PostgreSQL.

The expected messages below were worked out by hand from RULES.md and the policies:
bank holidays 25, 28 December 2026 (Boxing Day's substitute) and 1 January 2027; reminders
3 and 1 working days before and on the morning it is due, 08:30 London time; overdue alerts the
next working morning to the worker and the team manager; prompts to the manager, repeated after
4 hours, then the practice manager at the deadline and the head of service 24 hours on.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.policies import load_policy
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.simulate import JsonLinesMessenger, load_events, simulate
from storage.importer import import_csv

DATA = Path(__file__).parent / "data"
LONDON = ZoneInfo("Europe/London")

# (when UTC, child, rule, stage, to whom): every message but the daily due lists.
EXPECTED = """
2026-12-01T08:30 C-500 CB-VISIT-10WD overdue lead_social_worker
2026-12-01T08:30 C-500 CB-VISIT-10WD overdue team_manager
2026-12-02T15:00 C-500 CB-BABY-AWAKE prompt team_manager
2026-12-03T11:00 C-500 CB-RECORD remind-4h lead_social_worker
2026-12-03T15:00 C-500 CB-RECORD overdue lead_social_worker
2026-12-03T15:00 C-500 CB-RECORD overdue team_manager
2026-12-07T08:30 C-100 CB-VISIT-10WD remind-3wd lead_social_worker
2026-12-07T10:00 C-200 CB-NOTSEEN-DISCUSS prompt team_manager
2026-12-07T13:00 C-200 CB-NOTSEEN-REVISIT remind-3wd lead_social_worker
2026-12-09T08:30 C-100 CB-VISIT-10WD remind-1wd lead_social_worker
2026-12-09T08:30 C-200 CB-NOTSEEN-REVISIT remind-1wd lead_social_worker
2026-12-10T08:30 C-100 CB-VISIT-10WD due-today lead_social_worker
2026-12-11T08:30 C-500 CB-VISIT-10WD remind-3wd lead_social_worker
2026-12-15T08:30 C-500 CB-VISIT-10WD remind-1wd lead_social_worker
2026-12-16T08:30 C-500 CB-VISIT-10WD due-today lead_social_worker
2026-12-17T08:30 C-500 CB-VISIT-10WD overdue lead_social_worker
2026-12-17T08:30 C-500 CB-VISIT-10WD overdue team_manager
2026-12-18T08:30 C-200 CB-BEDROOM-ALT remind-3wd lead_social_worker
2026-12-18T08:30 C-200 CB-VISIT-10WD remind-3wd lead_social_worker
2026-12-21T08:30 C-100 CB-VISIT-10WD remind-3wd lead_social_worker
2026-12-21T08:30 C-300 HI-INITIAL-1WK remind-3wd lead_social_worker
2026-12-22T08:30 C-200 CB-BEDROOM-ALT remind-1wd lead_social_worker
2026-12-22T08:30 C-200 CB-VISIT-10WD remind-1wd lead_social_worker
2026-12-22T08:30 C-500 CB-20CD-LSW prompt team_manager
2026-12-22T12:30 C-500 CB-20CD-LSW repeat team_manager
2026-12-23T08:30 C-100 CB-VISIT-10WD remind-1wd lead_social_worker
2026-12-23T08:30 C-400 HI-NOTSEEN-REVISIT prompt team_manager
2026-12-23T08:30 C-400 HI-VISIT-20WD remind-3wd lead_social_worker
2026-12-23T08:30 C-500 CB-20CD-LSW overdue team_manager
2026-12-23T08:30 C-500 CB-20CD-LSW escalate-2-practice_manager practice_manager
2026-12-24T08:30 C-100 CB-VISIT-10WD due-today lead_social_worker
2026-12-24T08:30 C-500 CB-20CD-LSW escalate-3-head_of_service head_of_service
2026-12-29T08:30 C-100 CB-VISIT-10WD overdue lead_social_worker
2026-12-29T08:30 C-100 CB-VISIT-10WD overdue team_manager
2026-12-29T08:30 C-400 HI-VISIT-20WD remind-1wd lead_social_worker
2026-12-30T08:30 C-100 CB-20CD-LSW prompt team_manager
2026-12-30T12:30 C-100 CB-20CD-LSW repeat team_manager
2026-12-31T08:30 C-100 CB-20CD-LSW overdue team_manager
2026-12-31T08:30 C-100 CB-20CD-LSW escalate-2-practice_manager practice_manager
2026-12-31T10:00 C-100 CB-20CD-LSW prompt team_manager
2026-12-31T14:00 C-100 CB-20CD-LSW repeat team_manager
2027-01-04T11:00 C-100 CB-20CD-LSW prompt team_manager
2027-01-04T15:00 C-100 CB-20CD-LSW repeat team_manager
2027-01-05T08:30 C-200 CB-VISIT-10WD remind-3wd lead_social_worker
2027-01-07T08:30 C-200 CB-VISIT-10WD remind-1wd lead_social_worker
2027-01-18T08:30 C-200 CB-VISIT-10WD remind-3wd lead_social_worker
2027-01-18T08:30 C-300 HI-VISIT-20WD remind-3wd lead_social_worker
2027-01-18T08:30 C-500 CB-30WD-ANY prompt team_manager
2027-01-18T08:30 C-500 CB-30WD-ANY prompt cp_chair
2027-01-18T12:30 C-500 CB-30WD-ANY repeat team_manager
2027-01-18T12:30 C-500 CB-30WD-ANY repeat cp_chair
2027-01-19T08:30 C-500 CB-30WD-ANY overdue team_manager
2027-01-19T08:30 C-500 CB-30WD-ANY escalate-2-practice_manager practice_manager
2027-01-19T08:30 C-500 CB-30WD-ANY overdue cp_chair
2027-01-19T08:30 C-500 CB-30WD-ANY escalate-2-practice_manager practice_manager
2027-01-20T08:30 C-200 CB-VISIT-10WD remind-1wd lead_social_worker
2027-01-20T08:30 C-300 HI-VISIT-20WD remind-1wd lead_social_worker
2027-01-20T08:30 C-500 CB-30WD-ANY escalate-3-head_of_service head_of_service
2027-01-20T08:30 C-500 CB-30WD-ANY escalate-3-head_of_service head_of_service
2027-01-21T08:30 C-200 CB-VISIT-10WD due-today lead_social_worker
2027-01-21T08:30 C-300 HI-VISIT-20WD due-today lead_social_worker
2027-01-22T08:30 C-200 CB-VISIT-10WD overdue lead_social_worker
2027-01-22T08:30 C-200 CB-VISIT-10WD overdue team_manager
2027-01-22T08:30 C-300 HI-VISIT-20WD overdue lead_social_worker
2027-01-22T08:30 C-300 HI-VISIT-20WD overdue team_manager
2027-01-22T08:30 C-400 HI-SEEN-ALONE remind-3wd lead_social_worker
2027-01-22T08:30 C-400 HI-VISIT-20WD remind-3wd lead_social_worker
2027-01-26T08:30 C-100 CB-20CD-LSW prompt team_manager
2027-01-26T08:30 C-100 CB-30WD-ANY prompt team_manager
2027-01-26T08:30 C-100 CB-30WD-ANY prompt cp_chair
2027-01-26T08:30 C-400 HI-SEEN-ALONE remind-1wd lead_social_worker
2027-01-26T08:30 C-400 HI-VISIT-20WD remind-1wd lead_social_worker
2027-01-26T12:30 C-100 CB-20CD-LSW repeat team_manager
2027-01-26T12:30 C-100 CB-30WD-ANY repeat team_manager
2027-01-26T12:30 C-100 CB-30WD-ANY repeat cp_chair
"""


def _expected() -> Counter[tuple[str, ...]]:
    return Counter(tuple(line.split()) for line in EXPECTED.strip().splitlines())


@pytest.fixture
def eight_weeks(factory: sessionmaker[Session]) -> list[dict[str, str]]:
    with factory.begin() as session:
        import_csv(session, DATA / "christmas.csv", policies=bundled_catalogue())
    out = io.StringIO()
    events = load_events((DATA / "christmas-events.jsonl").read_text())
    simulate(factory, JsonLinesMessenger(out), date(2026, 12, 1), date(2027, 1, 26), events, LONDON)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _role(to: str) -> str:
    return to.split(" (")[0].replace(" ", "_")


def test_every_reminder_alert_and_escalation_once_over_christmas(eight_weeks: list[dict[str, str]]) -> None:
    """CB-VISIT-10WD, CB-RECORD, CB-BABY-AWAKE, CB-BEDROOM-ALT, CB-NOTSEEN-DISCUSS,
    CB-NOTSEEN-REVISIT, CB-20CD-LSW (all three steps, decided through New Year; still not seen 20
    days after the written agreement of 6 January, so prompted again on 26 January), CB-30WD-ANY,
    HI-INITIAL-1WK, HI-VISIT-20WD, HI-NOTSEEN-REVISIT, HI-SEEN-ALONE: exactly the messages
    RULES.md asks for, each once. Acknowledged prompts (C-200 CB-NOTSEEN-DISCUSS, C-400
    HI-NOTSEEN-REVISIT) are not repeated; decided ones stop climbing; a visit on the due day
    (C-100, 10 December) stops the overdue alert; an unqualified visitor (C-400, 8 December)
    changes nothing (HI-QUALIFIED)."""
    got = Counter(
        (m["at"][:16], m["child"], m["rule"], m["stage"], _role(m["to"]))
        for m in eight_weeks
        if m["stage"] != "due-list"
    )
    missing = _expected() - got
    extra = got - _expected()
    assert not missing, f"missing: {sorted(missing)}"
    assert not extra, f"not asked for by RULES.md (or twice): {sorted(extra)}"


def test_nothing_twice(eight_weeks: list[dict[str, str]]) -> None:
    keys = Counter(m["key"] for m in eight_weeks)
    assert [k for k, n in keys.items() if n > 1] == []


def test_due_lists_every_working_morning_only(eight_weeks: list[dict[str, str]]) -> None:
    """The daily due list: to each team's channel at 08:30 London on each working day, none at
    weekends nor on 25 and 28 December or 1 January."""
    policy = load_policy("central-bedfordshire")
    days, day = [], date(2026, 12, 1)
    while day <= date(2027, 1, 26):
        if policy.calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    assert len(days) == 38
    lists = [m for m in eight_weeks if m["key"].startswith("duelist:team")]
    for team in ("team1", "team2"):
        sent_on = [m["at"][:10] for m in lists if m["key"].startswith(f"duelist:{team}:")]
        assert sent_on == [d.isoformat() for d in days], team
    assert {m["at"][11:16] for m in lists} == {"08:30"}


def test_messages_carry_reference_and_initials_only(eight_weeks: list[dict[str, str]]) -> None:
    """No staff or child name in any message: case reference and initials only."""
    names = (
        "Sam",
        "Cole",
        "Tara",
        "Moss",
        "Paul",
        "Hart",
        "Hana",
        "Webb",
        "Cleo",
        "Dunn",
        "Ian Bell",
        "Uma",
        "Pia",
        "@",
    )
    for m in eight_weeks:
        assert not any(n in m["text"] for n in names), m["text"]
        if m["child"]:
            assert f"{m['child']} (AB)" in m["text"] and f"[{m['rule']}]" in m["text"]
