"""The report agrees with the messages `seen simulate` sent (issue 14): the Christmas caseload of
tests/scheduler/data, with its simulated replies, taken through a quarter (December 2026 to February
2027) by the real sweep, outbox and delivery. Every overdue alert names an obligation instance the
report's history has late or still open, alerted at or after its deadline; the statutory visits
alerted overdue in a month are never more than the report's late and overdue visits of that month
(CB-VISIT-10WD, HI-VISIT-20WD, HI-INITIAL-1WK)."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.policy_catalogue import bundled_catalogue
from scheduler.report_command import report_children
from scheduler.reports import VISIT_KINDS, measures
from scheduler.rules.history import history
from scheduler.simulate import JsonLinesMessenger, load_events, simulate
from storage.db import make_engine, session_factory, upgrade
from storage.importer import import_csv

DATA = Path(__file__).parents[1] / "scheduler" / "data"
LONDON = ZoneInfo("Europe/London")


def test_every_overdue_alert_is_a_late_or_open_item_of_the_report(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sim.sqlite'}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        import_csv(session, DATA / "christmas.csv", policies=bundled_catalogue())
    out = io.StringIO()
    events = load_events((DATA / "christmas-events.jsonl").read_text())
    simulate(factory, JsonLinesMessenger(out), date(2026, 12, 1), date(2027, 2, 28), events, LONDON)
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    as_of = datetime(2027, 2, 28, 23, 59, tzinfo=LONDON)
    with factory() as session:
        children = report_children(session, bundled_catalogue().load)
    engine.dispose()

    instances = {}
    team_of = {}
    for child in children:
        start = datetime(2026, 8, 1, tzinfo=LONDON)
        for i in history(child.policy, child.case, start, as_of):
            instances[i.key] = (i, child)
            team_of[i.key] = child.team
    overdue = [m for m in messages if m["stage"] == "overdue"]
    assert len({m["child"] for m in overdue}) >= 3
    alerted_visits: Counter[tuple[str, str]] = Counter()
    for m in overdue:
        key = m["key"].rsplit(":", 2)[0]
        assert key in instances, m["key"]
        i, child = instances[key]
        assert datetime.fromisoformat(m["at"]) >= i.deadline, m["key"]
        assert i.met_at is None or i.met_at > i.deadline, m["key"]
        if child.policy.rules[i.rule].kind in VISIT_KINDS and m["to"].startswith("lead social worker"):
            last_instant = i.deadline - timedelta(
                microseconds=1
            )  # a day's deadline ends at the next midnight
            month = last_instant.astimezone(LONDON).strftime("%Y-%m")
            if "2026-12" <= month <= "2027-02":
                alerted_visits[(child.team, month)] += 1

    rows = measures(children, "2026-12", "2027-02", as_of)
    value = {(r.team, r.month, r.measure): r.value for r in rows}
    assert alerted_visits
    for (team, month), n in alerted_visits.items():
        assert n <= value[(team, month, "visits_late")] + value[(team, month, "visits_overdue")], (
            team,
            month,
        )
