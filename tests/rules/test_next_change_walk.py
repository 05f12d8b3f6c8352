"""next_change (issue 13): between `now` and the next change, evaluate's answer and the set of
reminder stages whose time has come do not change, walking cases over a year.

Each walk goes from the plan start to 60 days after the last fact, the way the sweep goes: at each
instant T it evaluates, asks for the next change T' (and the next stage instant of the open
obligations, as the sweep does), and checks evaluate at sampled instants in [T, T'): every hour
(the demo caseload) or every day at 00:00, 08:30 and 13:00 local (the generated caseloads), the
last microsecond before T', and every local midnight in between. Then it goes on from T'. The
walks also count how many of the next changes were real (evaluate answered differently there),
so a next change that is merely always "tomorrow" would fail.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from scheduler.policies import load_policy
from scheduler.rules.engine import evaluate
from scheduler.rules.model import Case, Obligation
from scheduler.rules.next_change import next_change
from scheduler.rules.policy import Policy
from scheduler.stages import stages_to_send
from tests.reports.caseloads import GENERATED_NOW, demo_cases, generated_cases

JUST_BEFORE = timedelta(microseconds=1)


class Walk:
    def __init__(self) -> None:
        self.segments = 0
        self.checked = 0
        self.changes = 0  # walk steps ending at a next change (not at a stage instant)
        self.real = 0  # of those, the ones at which evaluate did answer differently


def _stages(
    policy: Policy,
    obligations: list[Obligation],
    at: datetime,
    prompted: dict[str, datetime],
    send: bool = False,
) -> tuple[set[tuple[str, str, datetime]], datetime | None]:
    """The stages whose time has come at `at` and the next stage instant, as the sweep works them
    out: `prompted` keeps when each prompt went (`send`: this is a sweep, which sends them)."""
    due: set[tuple[str, str, datetime]] = set()
    upcoming: datetime | None = None
    for ob in obligations:
        stages, nxt = stages_to_send(policy, ob, at, prompted.get(ob.key), False)
        due.update((ob.key, s.name, s.at) for s in stages)
        if send:
            for s in stages:
                if s.kind == "prompt":
                    prompted.setdefault(ob.key, s.at)
        if nxt is not None and (upcoming is None or nxt < upcoming):
            upcoming = nxt
    return due, upcoming


def _samples(policy: Policy, start: datetime, end: datetime, every: timedelta | None) -> list[datetime]:
    tz = policy.timezone
    out = [end - JUST_BEFORE]
    day = start.astimezone(tz).date()
    while True:
        clocks = (time(0), time(8, 30), time(13)) if every is None else (time(0),)
        for clock in clocks:
            at = datetime.combine(day, clock, tz)
            out.extend(a for a in (at, at - JUST_BEFORE) if start <= a < end)
        day += timedelta(days=1)
        if datetime.combine(day, time(), tz) >= end:
            break
    if every is not None:
        at = start + every
        while at < end:
            out.append(at)
            at += every
    return out


def walk(
    policy: Policy, case: Case, start: datetime, end: datetime, w: Walk, every: timedelta | None
) -> None:
    now = start
    prompted: dict[str, datetime] = {}
    while now < end:
        obligations = evaluate(policy, case, now)
        _stages(policy, obligations, now, prompted, send=True)
        stages, upcoming = _stages(policy, obligations, now, prompted)
        change = next_change(policy, case, now, obligations)
        assert change is None or change > now, f"{case.child.ref} at {now}: next change {change}"
        nxt = min((t for t in (change, upcoming) if t is not None), default=end)
        for at in _samples(policy, now, min(nxt, end), every):
            got = evaluate(policy, case, at)
            assert got == obligations, f"{case.child.ref}: {now} -> next {nxt}, differs at {at}"
            assert _stages(policy, got, at, prompted)[0] == stages, f"{case.child.ref}: stages at {at}"
            w.checked += 1
        w.segments += 1
        if change is not None and change == nxt and change < end:
            w.changes += 1
            w.real += evaluate(policy, case, change) != obligations
        now = nxt


def _span(policy: Policy, case: Case) -> tuple[datetime, datetime]:
    facts = [f.at for f in (*case.contacts, *case.decisions, *case.agency_sightings)]
    start = datetime.combine(case.plan.started, time(), policy.timezone)
    return start, max([start, *facts]) + timedelta(days=60)


def test_nothing_changes_before_the_next_change_hour_by_hour_over_the_demo_caseload(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cases = demo_cases(tmp_path)
    assert {p.id for p, _ in cases} == {"central-bedfordshire", "hillingdon"}
    w = Walk()
    for policy, case in cases:
        walk(policy, case, *_span(policy, case), w, every=timedelta(hours=1))
    assert w.checked > len(cases) * 24 * 60
    assert w.real > len(cases)
    # most next changes are real: the sweep is not woken for nothing
    assert w.real >= 0.5 * w.changes, (w.real, w.changes)


@pytest.mark.parametrize("policy_id", ["central-bedfordshire", "hillingdon"])
def test_nothing_changes_before_the_next_change_day_by_day_over_a_generated_year(policy_id: str) -> None:
    policy = load_policy(policy_id)
    cases = generated_cases(60, policy_id)
    w = Walk()
    for case in cases:
        start = datetime.combine(case.plan.started, time(), policy.timezone)
        walk(policy, case, start, GENERATED_NOW + timedelta(days=60), w, every=None)
    assert w.checked > 60 * 365
    assert w.real >= 0.5 * w.changes, (w.real, w.changes)
