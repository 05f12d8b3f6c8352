"""The bundled demo caseload loads, evaluates under both policies, and loads only once."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.policies import load_policy
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.rules.engine import evaluate
from storage import models
from storage.cases import cases_for_children
from storage.demo import DEMO_AS_OF, demo_case_refs, demo_csv_text, demo_shift, load_demo, shifted_demo_csv


def test_the_demo_as_written(session: Session) -> None:
    summary = load_demo(session, as_of=DEMO_AS_OF.date(), policies=bundled_catalogue())
    session.commit()
    assert summary.created["teams"] == 2 and summary.created["children"] == 12
    teams = {t.policy_id for t in session.scalars(select(models.Team))}
    assert teams == {"central-bedfordshire", "hillingdon"}
    children = {c.id: c for c in session.scalars(select(models.Child))}
    cases = cases_for_children(session, children)
    assert sorted(case.child.ref for case in cases.values()) == demo_case_refs()
    rules: dict[str, str] = {}
    for child_id, case in cases.items():
        policy = load_policy(children[child_id].team.policy_id)
        for ob in evaluate(policy, case, DEMO_AS_OF):
            rules.setdefault(ob.rule, ob.status)
    # a spread of work: overdue visits, a not-seen visit, a baby not seen awake, a missing record
    for rule in ("CB-NOTSEEN-REVISIT", "CB-BABY-AWAKE", "CB-RECORD", "HI-INITIAL-1WK", "HI-NOTSEEN-REVISIT"):
        assert rule in rules
    assert set(rules.values()) == {"due", "overdue"}
    assert any(
        case.child.date_of_birth and case.child.date_of_birth > date(2026, 6, 1) for case in cases.values()
    )


def test_the_demo_moves_to_the_current_week_and_loads_once(session: Session) -> None:
    as_of = date(2027, 5, 13)
    assert demo_shift(as_of) % timedelta(days=7) == timedelta(0)
    assert shifted_demo_csv(DEMO_AS_OF.date()) == demo_csv_text()
    assert "2026-11-02" in demo_csv_text() and "2026-11-02" not in shifted_demo_csv(as_of)
    load_demo(session, as_of=as_of, policies=bundled_catalogue())
    session.commit()
    again = load_demo(session, as_of=date(2027, 6, 1), policies=bundled_catalogue())
    assert not again.created
    starts = session.scalars(select(models.Plan.started)).all()
    assert len(starts) == 12 and min(starts) > date(2027, 3, 1)
