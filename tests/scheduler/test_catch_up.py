"""After downtime: what fell due while Seen was down is sent once, late, and says so; what
merely appeared late (a new fact whose early reminders had passed) is not called late."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from scheduler.loop import Runtime
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.simulate import JsonLinesMessenger
from storage.importer import import_csv

DATA = Path(__file__).parent / "data"


def _tick(runtime: Runtime, out: io.StringIO, now: datetime) -> list[dict[str, str]]:
    start = len(out.getvalue().splitlines())
    runtime.messenger.now = now  # type: ignore[attr-defined]
    runtime.tick(now)
    return [json.loads(line) for line in out.getvalue().splitlines()[start:]]


def test_down_over_a_reminder_morning_sends_it_once_late_cb_visit_10wd(
    factory: sessionmaker[Session],
) -> None:
    """C-100's CB-VISIT-10WD (last visit 26 Nov) is due 10 Dec: the 3-WD reminder falls on Mon 7
    Dec 08:30. Seen runs on Fri 4 Dec, is down all Monday, comes back Tue 8 Dec 10:00: the
    reminder goes then, once, saying it is late; at the next tick nothing is repeated."""
    with factory.begin() as session:
        import_csv(session, DATA / "christmas.csv", policies=bundled_catalogue())
    out = io.StringIO()
    runtime = Runtime(factory, JsonLinesMessenger(out), holder="test")
    _tick(runtime, out, datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    back = _tick(runtime, out, datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    visit = [m for m in back if m["child"] == "C-100" and m["rule"] == "CB-VISIT-10WD"]
    assert [m["stage"] for m in visit] == ["remind-3wd"]
    assert "Sent late" in visit[0]["text"] and "Mon 07 Dec 2026 08:30" in visit[0]["text"]
    lists = [m for m in back if m["stage"] == "due-list"]
    assert lists and all("Sent late" in m["text"] for m in lists)  # Tuesday's at 08:30 was missed
    assert _tick(runtime, out, datetime(2026, 12, 8, 10, 5, tzinfo=UTC)) == []


def test_a_new_obligation_is_not_called_late_cb_notseen_revisit(factory: sessionmaker[Session]) -> None:
    """A reminder for an obligation that did not exist at its stage time (first swept after it)
    goes without the 'late' note: Seen was running, nothing was missed."""
    with factory.begin() as session:
        import_csv(session, DATA / "christmas.csv", policies=bundled_catalogue())
    out = io.StringIO()
    runtime = Runtime(factory, JsonLinesMessenger(out), holder="test")
    first = _tick(runtime, out, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    reminders = [m for m in first if m["stage"] != "due-list"]
    assert reminders and not any("Sent late" in m["text"] for m in reminders)
    # The day's due lists were due at 08:30 and Seen started at noon: those do say so.
    assert all("Sent late" in m["text"] for m in first if m["stage"] == "due-list")
