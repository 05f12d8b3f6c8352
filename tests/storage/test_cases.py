"""Facts in the database -> the engine's Case: the round trip of a case file, corrections,
who visited, and loading many children with a fixed number of queries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler.policy_catalogue import bundled_catalogue
from scheduler.rules import model
from scheduler.rules.casefile import parse_case_mapping
from storage import models
from storage.cases import MissingPlanError, case_for_child, cases_for_children
from storage.facts import record_contact
from storage.importer import import_json
from tests.rules.builders import case_json

from .conftest import NOW, make_child

DESIGN_CASE = case_json()  # the DESIGN.md worked example

RICH_CASE = {
    "policy": "central-bedfordshire",
    "as_of": "2027-01-10T09:00:00+00:00",
    "child": {"ref": "C-77", "date_of_birth": "2026-06-30"},
    "plan": {
        "started": "2026-11-02",
        "plan_number": 2,
        "visit_interval_working_days": 5,
        "review_conferences": ["2027-02-01", "2026-12-01"],
        "core_group_meetings": ["2026-11-20", "2026-12-18", "2027-01-15"],
        "cp_chair_agreed_interval_on": "2026-11-02",
        "exploitation_concerns": True,
        "ended": "2027-03-01",
    },
    "contacts": [
        {
            "at": "2026-12-10T16:30:00+00:00",
            "kind": "home_visit",
            "by": "lead_social_worker",
            "child_seen": False,
            "no_one_home": True,
            "note_left": False,
            "note_not_left_reason": "domestic abuse",
        },
        {
            "at": "2026-11-05T10:00:00+01:00",
            "kind": "home_visit",
            "by": "duty_social_worker",
            "qualified": False,
            "child_seen": True,
            "seen_alone": "not_applicable",
            "bedroom_seen": False,
            "child_awake": False,
            "risk_worsened": True,
            "new_injury": True,
        },
        {
            "at": "2026-11-20T09:00:00+00:00",
            "kind": "school_visit",
            "by": "lead_social_worker",
            "child_seen": True,
            "seen_alone": "no",
            "seen_alone_reason": "teacher present",
            "alone_concerns": True,
            "recorded_at": "2026-11-21T09:00:00+00:00",
        },
    ],
    "agency_sightings": [
        {"at": "2026-12-01T09:00:00+00:00", "agency": "health visitor"},
        {"at": "2026-11-18T09:00:00+00:00", "agency": "nursery"},
    ],
    "decisions": [
        {
            "at": "2026-12-11T12:00:00+00:00",
            "rule": "CB-NOTSEEN-DISCUSS",
            "by": "team_manager",
            "outcome": "further_visit",
            "within_working_days": 2,
        },
        {
            "at": "2026-11-06T12:00:00+00:00",
            "rule": "CB-BABY-AWAKE",
            "by": "team_manager",
            "outcome": "reviewed",
        },
    ],
}


def _team_and_import(session: Session, case: dict) -> models.Child:  # type: ignore[type-arg]
    teams = [
        {"name": "Hillingdon CP", "policy": "hillingdon"},
        {"name": "Central Beds CP", "policy": "central-bedfordshire"},
    ]
    import_json(session, {"teams": teams, "cases": [case]}, now=NOW, policies=bundled_catalogue())
    session.commit()
    child = session.query(models.Child).filter_by(case_ref=case["child"]["ref"]).one()
    return child


@pytest.mark.parametrize("case", [DESIGN_CASE, RICH_CASE], ids=["design", "rich"])
def test_round_trip_of_a_case_file(session: Session, case: dict) -> None:  # type: ignore[type-arg]
    """A case file imported and read back is the Case the parser makes of it."""
    child = _team_and_import(session, case)
    session.expunge_all()
    assert case_for_child(session, child.id) == parse_case_mapping(json.loads(json.dumps(case))).case


def test_read_back_instants_are_aware_utc(session: Session) -> None:
    child = _team_and_import(session, RICH_CASE)
    case = case_for_child(session, child)
    for c in case.contacts:
        assert c.at.utcoffset() == timedelta(0)
    assert case.contacts[0].at == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)


def test_a_corrected_contact_is_replaced_by_its_correction(session: Session) -> None:
    child, lead, _ = make_child(session)
    at = datetime(2026, 12, 21, 10, 30, tzinfo=UTC)
    first = record_contact(session, child, model.Contact(at=at, child_seen=False), by_staff=lead, now=NOW)
    fixed = model.Contact(at=at, child_seen=True, seen_alone="yes", bedroom_seen=True)
    record_contact(session, child, fixed, by_staff=lead, correction_of=first, now=NOW)
    session.commit()
    assert case_for_child(session, child).contacts == (fixed,)


def test_who_visited_decides_the_role_the_engine_sees(session: Session) -> None:
    """Lead SW -> lead_social_worker; another SW -> duty_social_worker; a manager -> own role."""
    child, lead, manager = make_child(session)
    other = models.Staff(name="Other SW", role="social_worker", qualified_registered=True)
    chair = models.Staff(name="Chair", role="cp_chair", qualified_registered=True)
    session.add_all([other, chair])
    session.flush()
    base = datetime(2026, 12, 18, 10, 0, tzinfo=UTC)
    visitors = [
        (lead, "duty_social_worker"),
        (other, "lead_social_worker"),
        (manager, "lead_social_worker"),
        (chair, "duty_social_worker"),
        (None, "duty_social_worker"),
    ]
    for i, (staff, stored) in enumerate(visitors):
        record_contact(
            session, child, model.Contact(at=base + timedelta(hours=i), by=stored), by_staff=staff, now=NOW
        )
    session.commit()
    roles = [c.by for c in case_for_child(session, child).contacts]
    assert roles == [
        "lead_social_worker",
        "duty_social_worker",
        "team_manager",
        "cp_chair",
        "duty_social_worker",
    ]


def test_the_latest_plan_is_the_current_one(session: Session) -> None:
    child, _, _ = make_child(session, started=date(2025, 1, 6))
    session.add(models.Plan(child_id=child.id, started=date(2026, 12, 1), plan_number=2))
    session.commit()
    assert case_for_child(session, child).plan.plan_number == 2


def test_a_child_without_a_plan(session: Session) -> None:
    team = models.Team(name="T", policy_id="hillingdon")
    child = models.Child(case_ref="C-9", initials="Z", team=team)
    session.add(child)
    session.commit()
    with pytest.raises(MissingPlanError):
        case_for_child(session, child)
    with pytest.raises(LookupError):
        case_for_child(session, 999_999)
    assert cases_for_children(session, [child.id, 999_999]) == {}


def test_many_children_load_with_a_fixed_number_of_queries(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The sweep's batch loader: queries grow with chunks of children, not with children."""
    import storage.cases

    monkeypatch.setattr(storage.cases, "CHUNK", 50)
    team = models.Team(name="Big team", policy_id="central-bedfordshire")
    session.add(team)
    session.flush()
    children = [models.Child(case_ref=f"C-{i}", initials="AB", team_id=team.id) for i in range(120)]
    session.add_all(children)
    session.flush()
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    for i, child in enumerate(children):
        session.add(models.Plan(child_id=child.id, started=date(2026, 11, 2)))
        for j in range(i % 4):
            session.add(
                models.Contact(
                    child_id=child.id,
                    at=at + timedelta(days=j),
                    kind="home_visit",
                    by_role="lead_social_worker",
                    child_seen=True,
                    created_at=at,
                )
            )
    session.commit()
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        cases = cases_for_children(session, [c.id for c in children])
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert len(cases) == 120
    assert [len(cases[c.id].contacts) for c in children[:4]] == [0, 1, 2, 3]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3 * 6  # three chunks, six queries each
