"""The caseloads the report tests walk: the bundled demo caseload (read through the database, as
`seen report` reads it) and a generated one (the benchmark's synthetic children)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from sqlalchemy import select

from scheduler.policies import load_policy
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.rules.model import Case
from scheduler.rules.policy import Policy
from storage.cases import cases_for_children
from storage.db import make_engine, session_factory, upgrade
from storage.demo import DEMO_AS_OF, load_demo
from storage.models import Child, Team
from tests.bench.bench_evaluate import synthetic_case

GENERATED_NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)


def demo_cases(tmp_path) -> list[tuple[Policy, Case]]:  # type: ignore[no-untyped-def]
    """The demo caseload as written (as of DEMO_AS_OF), each child with its team's policy."""
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as s:
        load_demo(s, as_of=DEMO_AS_OF.date(), policies=bundled_catalogue(), now=DEMO_AS_OF)
    with factory() as s:
        rows = s.execute(select(Child.id, Team.policy_id).join(Team, Child.team_id == Team.id))
        policy_of = dict(rows.all())
        cases = cases_for_children(s, policy_of)
    engine.dispose()
    return [(load_policy(policy_of[i]), case) for i, case in sorted(cases.items())]


def generated_cases(n: int, policy_id: str, seed: int = 14) -> list[Case]:
    """`n` synthetic children with a year of contacts each, ending at GENERATED_NOW."""
    rng = random.Random(seed)
    return [synthetic_case(rng, i, GENERATED_NOW, policy_id == "hillingdon") for i in range(n)]


def first_day(cases: list[Case]) -> date:
    return min(c.plan.started for c in cases)
