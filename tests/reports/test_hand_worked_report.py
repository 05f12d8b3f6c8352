"""A caseload written by hand, its October 2026 report worked out by hand (issue 14), produced
exactly in text, CSV and JSON. Central Bedfordshire's policy, one team ("Team A"), the report as of
Monday 16 November 2026 09:00 UTC. Times are London local (BST until Sunday 25 October).

Child H-1 (born 2015-01-01, aged 11; lead social worker Ann), plan started Monday 21 September:
- CB-VISIT-10WD: first due 10 working days after the plan start, Monday 5 October. Visited Friday
  2 October 10:00, seen alone, recorded 15:00 (5 hours): on time. Next due 10 working days after
  2 October: Friday 16 October.
- Visited Tuesday 20 October 10:00: seen, not alone ("parent present"), recorded Thursday 22
  October 10:00 (48 hours: not within CB-RECORD's 24). The 16 October deadline ended at midnight:
  met 4 days late (a day started counts: 3 days 10 hours). Next due Tuesday 3 November (a
  November deadline: not in this report).
- Last statutory visit of October: 20 October, aged 11 (CB-SEEN-ALONE's age is 4): not seen alone.

Child H-2 (born 2024-06-01, aged 2; lead social worker Ben), plan started Monday 28 September:
- CB-VISIT-10WD: first due Monday 12 October.
- Monday 5 October 10:00: a home visit, child not seen, recorded 14:00 (4 hours). CB-NOTSEEN-DISCUSS
  opens for the team manager, due in 24 hours; the team manager decides at 16:00 (a further visit
  within 2 working days): decided in time, 6.0 hours to decision.
- Wednesday 7 October 11:00: seen (aged 2: no seen-alone count), recorded 12:00 (1 hour). The
  12 October deadline: met on time. Next due 10 working days later, Wednesday 21 October: no visit
  since, so overdue at the report: from the end of 21 October (23:00 UTC) to 16 November 09:00
  UTC is 25 days 10 hours: 26 days late.
- CB-20CD-LSW: last seen by the lead social worker on 7 October, so the lapse opens on 27 October
  (20 calendar days). The team manager records emergency action on Wednesday 28 October 10:00 GMT:
  the lapse is resolved "emergency_action" (the next cycle's lapse, 17 November, is after the
  report). CB-30WD-ANY would lapse 30 working days after 7 October, on 18 November: not raised.

October for Team A:
- visits due 4 (H-1: 5 and 16 October; H-2: 12 and 21 October); on time 2; late 1; overdue 1;
  50.0% on time; days late 4 and 26: median 15.0, worst 26;
- seen alone at the last visit: 0 of 1 (H-2 is under 4); reasons "parent present: 1";
- not-seen discussions decided in time 1/1; other manager prompts 0/0; median hours 6.0;
- records within 24 hours: 3 of 4 (H-1's second visit took 48 hours);
- lapses: CB-20CD-LSW 1, resolved by emergency action.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from scheduler.policies import load_policy
from scheduler.report_command import render
from scheduler.reports import Child, measures
from scheduler.rules.model import Case, Contact, Decision, Plan
from scheduler.rules.model import Child as ChildFacts

LONDON = ZoneInfo("Europe/London")
CB = load_policy("central-bedfordshire")
AS_OF = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LONDON)


def visit(day: str, clock: str, recorded: datetime, **record: object) -> Contact:
    facts: dict[str, object] = {"bedroom_seen": True, "child_awake": True, **record}
    return Contact(at=at(day, clock), recorded_at=recorded, **facts)  # type: ignore[arg-type]


H1 = Case(
    child=ChildFacts("H-1", date(2015, 1, 1)),
    plan=Plan(started=date(2026, 9, 21)),
    contacts=(
        visit("2026-10-02", "10:00", at("2026-10-02", "15:00"), seen_alone="yes"),
        visit(
            "2026-10-20",
            "10:00",
            at("2026-10-22", "10:00"),
            seen_alone="no",
            seen_alone_reason="parent present",
        ),
    ),
)
H2 = Case(
    child=ChildFacts("H-2", date(2024, 6, 1)),
    plan=Plan(started=date(2026, 9, 28)),
    contacts=(
        visit("2026-10-05", "10:00", at("2026-10-05", "14:00"), child_seen=False, bedroom_seen=None),
        visit("2026-10-07", "11:00", at("2026-10-07", "12:00")),
    ),
    decisions=(
        Decision(at("2026-10-05", "16:00"), "CB-NOTSEEN-DISCUSS", "team_manager", "further_visit", 2),
        Decision(at("2026-10-28", "10:00"), "CB-20CD-LSW", "team_manager", "emergency_action"),
    ),
)
CHILDREN = [Child("Team A", "Ann", CB, H1), Child("Team A", "Ben", CB, H2)]

EXPECTED = [
    ("visits_due", 4),
    ("visits_on_time", 2),
    ("visits_late", 1),
    ("visits_overdue", 1),
    ("visits_on_time_percent", 50.0),
    ("median_days_late", 15.0),
    ("worst_days_late", 26),
    ("seen_alone_at_last_visit", "0/1"),
    ("not_seen_alone_reasons", "parent present: 1"),
    ("not_seen_discussions_decided_in_time", "1/1"),
    ("manager_prompts_decided_in_time", "0/0"),
    ("median_hours_to_decision", 6.0),
    ("records_within_window", "3/4"),
    ("lapses_raised", "CB-20CD-LSW: 1 (emergency_action: 1)"),
]


def test_the_hand_worked_report_in_text_cb_visit_10wd_cb_notseen_discuss_cb_20cd_lsw() -> None:
    rows = measures(CHILDREN, "2026-10", "2026-10", AS_OF)
    assert render(rows, "text") == "Team A 2026-10\n" + "".join(f"  {m}: {v}\n" for m, v in EXPECTED)


def test_the_hand_worked_report_in_csv() -> None:
    rows = measures(CHILDREN, "2026-10", "2026-10", AS_OF)
    lines = ["team,worker,month,measure,value"] + [f"Team A,,2026-10,{m},{v}" for m, v in EXPECTED]
    assert render(rows, "csv") == "\n".join(lines) + "\n"


def test_the_hand_worked_report_in_json() -> None:
    rows = measures(CHILDREN, "2026-10", "2026-10", AS_OF)
    expected = [
        {"team": "Team A", "worker": "", "month": "2026-10", "measure": m, "value": v} for m, v in EXPECTED
    ]
    assert json.loads(render(rows, "json")) == expected
