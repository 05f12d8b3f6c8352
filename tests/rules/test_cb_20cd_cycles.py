"""CB-20CD-LSW after a cycle is closed: a written agreement (or emergency action) ends that
cycle; if the lead social worker still does not see the child, the 20 calendar days run again
from the decision."""

from __future__ import annotations

from tests.rules.builders import case, cb, decision, of, one, run, visit, with_decisions

LSW = "lead_social_worker"


def _closed_case():  # type: ignore[no-untyped-def]
    # Seen by the lead on 1 Feb 2027; 20 days lapse on 21 Feb; the manager assesses, contacts the
    # family and the written agreement is made on 26 Feb.
    base = case("2027-01-25", visit("2027-02-01T10:00", by=LSW))
    return with_decisions(
        base,
        decision("2027-02-21T09:00", "CB-20CD-LSW", "team_manager", "risk_assessed"),
        decision("2027-02-22T09:00", "CB-20CD-LSW", "team_manager", "family_contacted"),
        decision("2027-02-26T15:00", "CB-20CD-LSW", "team_manager", "written_agreement"),
    )


def test_written_agreement_closes_the_cycle_cb_20cd_lsw() -> None:
    """Met: nothing owed between the agreement and 20 days after it (18 March 2027)."""
    assert of(run(cb(), _closed_case(), "2027-03-17T12:00"), "CB-20CD-LSW") == []


def test_still_unseen_twenty_days_after_the_agreement_cb_20cd_lsw() -> None:
    """Fires again: 26 Feb + 20 days = 18 March 2027, due that day, overdue the next."""
    due = one(run(cb(), _closed_case(), "2027-03-18T12:00"), "CB-20CD-LSW")
    assert (due.due.isoformat(), due.status, due.owner) == ("2027-03-18", "due", "team_manager")
    late = one(run(cb(), _closed_case(), "2027-03-19T12:00"), "CB-20CD-LSW")
    assert late.status == "overdue"


def test_closing_decision_on_the_lapse_day_terminates_cb_20cd_lsw() -> None:
    """An emergency-action decision on the very day of the lapse: evaluation ends (no endless
    re-opening of the same cycle) and the next cycle runs from that day: it opens on Saturday
    13 March and is due on Monday 15 March (RULES.md R4)."""
    base = case("2027-01-25", visit("2027-02-01T10:00", by=LSW))
    c = with_decisions(base, decision("2027-02-21T08:00", "CB-20CD-LSW", "team_manager", "emergency_action"))
    assert of(run(cb(), c, "2027-03-12T12:00"), "CB-20CD-LSW") == []
    assert one(run(cb(), c, "2027-03-13T12:00"), "CB-20CD-LSW").due.isoformat() == "2027-03-15"
