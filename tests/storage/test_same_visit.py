"""`facts.same_visit`: the same outcome logged twice by the same person for the same child and
time is one visit (a `/seen log` typed again when its form did not open); another outcome, another
person or another time is another visit. HI-RECORD-24H: the record is completed on the one visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.rules import model
from storage import facts
from tests.storage.conftest import NOW, make_child


def _visit(at, seen: bool = True) -> model.Contact:
    return model.Contact(
        at=at,
        kind="home_visit",
        by="lead_social_worker",
        qualified=True,
        child_seen=seen,
        seen_alone="yes" if seen else None,
        bedroom_seen=True,
    )


def test_the_same_outcome_at_the_same_time_is_the_visit_stored(session) -> None:
    child, lead, manager = make_child(session)
    first = facts.record_contact(session, child, _visit(NOW), by_staff=lead, source_key="a", now=NOW)
    session.commit()
    again = _visit(NOW + timedelta(minutes=2))  # "now" typed again two minutes later
    assert facts.same_visit(session, child, lead, again).id == first.id
    assert facts.same_visit(session, child, lead, _visit(NOW, seen=False)) is None  # another outcome
    assert facts.same_visit(session, child, manager, _visit(NOW)) is None  # another person
    assert facts.same_visit(session, child, lead, _visit(NOW + timedelta(minutes=11))) is None


def test_a_completed_record_is_the_visit_it_completes(session) -> None:
    """Once the form completed the quick entry (a correction), the correction is the visit."""
    child, lead, _ = make_child(session)
    quick = facts.record_contact(session, child, _visit(NOW), by_staff=lead, source_key="q", now=NOW)
    done = facts.record_contact(
        session,
        child,
        _visit(NOW),
        by_staff=lead,
        correction_of=quick,
        source_key="f",
        now=NOW,
    )
    session.commit()
    assert facts.same_visit(session, child, lead, _visit(NOW)).id == done.id


def test_the_first_and_last_instants_a_datetime_holds(session) -> None:
    """A visit typed at 0001-01-01 00:00 (or the year 9999) is checked, not an overflow."""
    child, lead, _ = make_child(session)
    for at in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)):
        assert facts.same_visit(session, child, lead, _visit(at)) is None
