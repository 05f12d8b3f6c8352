"""Small builders for rule tests: cases, visits and instants, written the way RULES.md speaks.

Every date a test expects is computed by hand from RULES.md (N working days after D = the N-th
working day after D, D not counted; England & Wales bank holidays; Europe/London local dates).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.policies import load_policy
from scheduler.rules.engine import evaluate
from scheduler.rules.model import (
    AgencySighting,
    Case,
    Child,
    Contact,
    Decision,
    Obligation,
    Plan,
)
from scheduler.rules.policy import Policy

LONDON = ZoneInfo("Europe/London")
REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"

LEAD = "lead_social_worker"
DUTY = "duty_social_worker"
TM = "team_manager"
PM = "practice_manager"
CHAIR = "cp_chair"

# Every rule ID of RULES.md, both policies.
ALL_RULE_IDS = {
    "CB-VISIT-10WD", "CB-FREQ-FLOOR", "CB-FREQ-CHANGE", "CB-BEDROOM-ALT", "CB-SEEN-ALONE",
    "CB-BABY-AWAKE", "CB-RECORD", "CB-RISK-WORSE", "CB-NEW-INJURY", "CB-NOTSEEN-DISCUSS",
    "CB-NOTSEEN-REVISIT", "CB-NOTSEEN-AGAIN", "CB-ACCESS", "CB-20CD-LSW", "CB-30WD-ANY",
    "CB-STEPDOWN", "HI-QUALIFIED", "HI-INITIAL-1WK", "HI-OUTCOME", "HI-RECORD-24H",
    "HI-NOONE-NOTE", "HI-VISIT-20WD", "HI-NOTSEEN-REVISIT", "HI-AWAY", "HI-BEFORE-REVIEW",
    "HI-BEFORE-CG", "HI-SEEN-ALONE",
}  # fmt: skip


def cb() -> Policy:
    return load_policy("central-bedfordshire")


def hi() -> Policy:
    return load_policy("hillingdon")


def d(text: str) -> date:
    return date.fromisoformat(text)


def at(text: str) -> datetime:
    """An instant: `2027-02-10T10:00` is read as UTC unless it carries an offset."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo("UTC"))
    return parsed


def local(day: str, hm: str = "12:00") -> datetime:
    """An instant at a Europe/London wall-clock time on `day`."""
    return datetime.combine(d(day), time.fromisoformat(hm), tzinfo=LONDON)


def last_moment(day: str) -> datetime:
    """The last instant of a local day: a date deadline on `day` is still "due" then."""
    return datetime.combine(d(day), time(23, 59, 59, 999999), tzinfo=LONDON)


def first_moment_after(day: str) -> datetime:
    """The first instant of the next local day: a date deadline on `day` is "overdue" then."""
    return datetime.combine(d(day) + timedelta(days=1), time(0, 0), tzinfo=LONDON)


def visit(
    when: str,
    *,
    kind: str = "home_visit",
    by: str = LEAD,
    seen: bool = True,
    qualified: bool = True,
    recorded: str | None = "auto",
    **fields: Any,
) -> Contact:
    """A contact; recorded one hour later unless `recorded` says otherwise (None: not recorded)."""
    instant = at(when)
    if recorded == "auto":
        recorded_at: datetime | None = instant + timedelta(hours=1)
    else:
        recorded_at = at(recorded) if recorded else None
    if seen and "seen_alone" not in fields:
        fields["seen_alone"] = "not_applicable"
    if seen and "bedroom_seen" not in fields:
        fields["bedroom_seen"] = True
    return Contact(
        at=instant,
        kind=kind,
        by=by,
        qualified=qualified,
        child_seen=seen,
        recorded_at=recorded_at,
        **fields,
    )


def decision(when: str, rule: str, by: str, outcome: str, within: int | None = None) -> Decision:
    return Decision(at=at(when), rule=rule, by=by, outcome=outcome, within_working_days=within)


def sighting(when: str, agency: str = "school") -> AgencySighting:
    return AgencySighting(at=at(when), agency=agency)


def case(
    started: str,
    *contacts: Contact,
    dob: str | None = None,
    sightings: tuple[AgencySighting, ...] = (),
    decisions: tuple[Decision, ...] = (),
    ref: str = "C-1",
    **plan: Any,
) -> Case:
    for name in ("review_conferences", "core_group_meetings"):
        if name in plan:
            plan[name] = tuple(d(x) for x in plan[name])
    for name in ("ended", "cp_chair_agreed_interval_on"):
        if plan.get(name):
            plan[name] = d(plan[name])
    return Case(
        child=Child(ref=ref, date_of_birth=d(dob) if dob else None),
        plan=Plan(started=d(started), **plan),
        contacts=tuple(sorted(contacts, key=lambda c: c.at)),
        agency_sightings=tuple(sorted(sightings, key=lambda s: s.at)),
        decisions=tuple(sorted(decisions, key=lambda x: x.at)),
    )


def with_contacts(base: Case, *more: Contact) -> Case:
    return replace(base, contacts=tuple(sorted((*base.contacts, *more), key=lambda c: c.at)))


def with_decisions(base: Case, *more: Decision) -> Case:
    return replace(base, decisions=tuple(sorted((*base.decisions, *more), key=lambda x: x.at)))


def run(policy: Policy, c: Case, now: datetime | str) -> list[Obligation]:
    return evaluate(policy, c, at(now) if isinstance(now, str) else now)


def of(obligations: list[Obligation], rule: str, owner: str | None = None) -> list[Obligation]:
    return [o for o in obligations if o.rule == rule and (owner is None or o.owner == owner)]


def one(obligations: list[Obligation], rule: str, owner: str | None = None) -> Obligation:
    found = of(obligations, rule, owner)
    assert len(found) == 1, f"expected one {rule} ({owner or 'any owner'}), got {found}"
    return found[0]


def brief(obligations: list[Obligation]) -> list[tuple[str, str, str, str]]:
    """(rule, due, status, owner) of each obligation: the part a test compares exactly."""
    return [(o.rule, o.due.isoformat(), o.status, o.owner) for o in obligations]


def status_at(policy: Policy, c: Case, now: datetime, rule: str, owner: str | None = None) -> str:
    return one(run(policy, c, now), rule, owner).status


def seen_cli(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`seen ARGS` as a separate process, exactly as a user or another program runs it."""
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=60,
        check=False,
    )


def case_json(**overrides: Any) -> dict[str, Any]:
    """The DESIGN.md worked example as a mapping, with top-level fields replaced."""
    base: dict[str, Any] = json.loads(WORKED_EXAMPLE)
    base.update(overrides)
    return base


WORKED_EXAMPLE = """{
  "policy": "hillingdon",
  "as_of": "2026-12-22T09:00:00+00:00",
  "child": {"ref": "C-1042", "date_of_birth": "2025-09-01"},
  "plan": {
    "started": "2026-12-17",
    "plan_number": 1,
    "visit_interval_working_days": null,
    "review_conferences": ["2027-03-10"],
    "core_group_meetings": ["2027-01-14"],
    "cp_chair_agreed_interval_on": null,
    "exploitation_concerns": false,
    "ended": null
  },
  "contacts": [
    {"at": "2026-12-21T10:30:00+00:00", "kind": "home_visit", "by": "lead_social_worker",
     "qualified": true, "child_seen": true, "seen_alone": "yes", "bedroom_seen": true,
     "child_awake": null, "recorded_at": "2026-12-21T15:00:00+00:00"}
  ],
  "agency_sightings": [{"at": "2026-12-18T09:00:00+00:00", "agency": "school"}],
  "decisions": [{"at": "2026-12-21T12:00:00+00:00", "rule": "CB-NOTSEEN-DISCUSS",
                  "by": "team_manager", "outcome": "further_visit", "within_working_days": 3}]
}
"""
