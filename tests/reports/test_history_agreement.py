"""The obligation history agrees with evaluate (issue 14): at every instant walked, the history's
open instances are exactly the obligations evaluate returns, by key, rule and owner.

Walked day by day, at each local midnight and at 13:00 local, from the earliest plan start to
60 days after the last fact: the demo caseload (both policies) in full, and a generated caseload
of 200 children over a year under each policy. The generated walk samples one child in four for
every day of the year and the other children on every seventh day (so every child is checked on
each weekday at both times across the year), to keep the test under a minute on a shared machine.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from scheduler.policies import load_policy
from scheduler.rules.engine import evaluate
from scheduler.rules.history import history
from scheduler.rules.model import Case
from scheduler.rules.policy import Policy
from tests.reports.caseloads import GENERATED_NOW, demo_cases, generated_cases


def _walk(policy: Policy, case: Case, start: datetime, end: datetime, every_days: int) -> int:
    instances = history(policy, case, start, end)
    tz = policy.timezone
    day = start.astimezone(tz).date()
    checked = 0
    while True:
        for clock in (time(0), time(13)):
            at = datetime.combine(day, clock, tz)
            if not start <= at <= end:
                continue
            expected = {(o.key, o.rule, o.owner) for o in evaluate(policy, case, at)}
            got = {(i.key, i.rule, i.owner) for i in instances if i.open_at(at)}
            assert got == expected, f"{case.child.ref} at {at.isoformat()}"
            checked += 1
        day += timedelta(days=every_days)
        if datetime.combine(day, time(), tz) > end:
            return checked


def _span(policy: Policy, case: Case) -> tuple[datetime, datetime]:
    facts = [f.at for f in (*case.contacts, *case.decisions, *case.agency_sightings)]
    start = datetime.combine(case.plan.started, time(), policy.timezone)
    return start, max([start, *facts]) + timedelta(days=60)


def test_history_agrees_with_evaluate_day_by_day_over_the_demo_caseload(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cases = demo_cases(tmp_path)
    assert {p.id for p, _ in cases} == {"central-bedfordshire", "hillingdon"}
    checked = sum(_walk(p, c, *_span(p, c), every_days=1) for p, c in cases)
    assert checked > 12 * 60


@pytest.mark.parametrize("policy_id", ["central-bedfordshire", "hillingdon"])
def test_history_agrees_with_evaluate_over_a_generated_year_of_200_children(policy_id: str) -> None:
    policy = load_policy(policy_id)
    cases = generated_cases(200, policy_id)
    end = GENERATED_NOW
    opened = 0
    for n, case in enumerate(cases):
        start = datetime.combine(case.plan.started, time(), policy.timezone)
        _walk(policy, case, start, end, every_days=1 if n % 4 == 0 else 7)
        opened += len(history(policy, case, start, end))
    assert opened > 200 * 20  # a year of visits each: the walk saw obligations come and go
