"""A worker with 150 children, against the strict fake Slack server: every due list, `/seen due`,
`/seen team` and App Home fits Slack's limits by construction (3,000 characters a section, 50
blocks a message, 100 a view, 40,000 characters of text) and says the counts first; overdue and
due-today items are listed in full (split across messages) and the rest is pointed to. And a week
of `seen simulate`-style delivery for the team, with the worker's and manager's commands and App
Home each day, sends nothing Slack would refuse, cut or misread. CB-VISIT-10WD, CB-RECORD."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.slack.messenger import SlackMessenger, make_client, outbox_locator
from scheduler.duelist import write_due_lists
from scheduler.simulate import load_events, simulate
from storage.models import Child, Plan
from tests.bot.conftest import TOKEN, Running, World, runtime_for, seen_at_home, serving
from tests.bot.test_threads_and_home import _home, _texts

MANY = 150
PART_CHARS = 3_000  # a readable message, within a section block (Slack: 3,000)
REFS = [f"C-5{n:03d}" for n in range(MANY)]


def _many_children(world: World) -> None:
    """150 more children of Sam Worker (North CP). The first 100 were last seen on Mon 2 Nov,
    so CB-VISIT-10WD is overdue for them on Mon 23 Nov; the others were seen on Mon 16 Nov
    and are due on Mon 30 Nov. Every tenth visit is not recorded yet (CB-RECORD overdue)."""
    with world.factory.begin() as s:
        for n, ref in enumerate(REFS):
            child = Child(
                case_ref=ref,
                initials="ZZ",
                date_of_birth=date(2015, 1, 1),
                team_id=1,
                lead_social_worker_id=world.ids["sw"],
                facts_version=0,
            )
            s.add(child)
            s.flush()
            s.add(Plan(child_id=child.id, started=date(2026, 10, 1), plan_number=1))
            at = datetime(2026, 11, 2 if n < 100 else 16, 10, 0, tzinfo=UTC)
            s.add(seen_at_home(child.id, world.ids["sw"], at, recorded=n % 10 != 0))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with serving(tmp_path_factory.mktemp("big") / "seen.sqlite", _many_children) as running:
        yield running


def _bullets(texts: list[str]) -> list[str]:
    return [line for text in texts for line in text.split("\n") if line.startswith("• ")]


def _fits(texts: list[str]) -> None:
    assert all(len(t) <= PART_CHARS for t in texts), [len(t) for t in texts]


def test_the_daily_due_lists_are_split_counts_first_overdue_in_full(big: Running) -> None:
    """CB-VISIT-10WD: the team channel's and the worker's lists for 150 children: messages of at
    most 3,000 characters, the first with the counts, every overdue child listed."""
    morning = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    with big.factory.begin() as s:
        assert write_due_lists(s, morning) > 2
    runtime_for(big).tick(morning)
    team = [m["text"] for m in big.fake.messages("C0NORTH")]
    mine = [m["text"] for m in big.fake.messages("D0SW") if "due list" in m["text"]]
    for texts in (team, mine):
        assert len(texts) > 1
        _fits(texts)
        assert re.match(r"\*[^*]+\* · \d+ overdue", texts[0])
        assert all(f"({i} of {len(texts)})" in t.split("\n")[0] for i, t in enumerate(texts[1:], 2))
        listed = "\n".join(_bullets(texts))
        overdue = [ref for ref in REFS[:100] if f"{ref} (ZZ) [CB-VISIT-10WD]" not in listed]
        assert overdue == []
    assert big.fake.seen_faults() == []


def test_seen_due_and_team_answer_in_at_most_five_messages(big: Running) -> None:
    """`/seen due` and `/seen team` for 150 children: at most 5 answers (Slack takes 5 on a
    response_url), each within 3,000 characters, counts first; what does not fit is counted and
    pointed to App Home."""
    for user, command, title in (
        ("U0SW", "due", "*Your children by deadline*"),
        ("U0TM", "team", "*Due list"),
    ):
        before = len(big.fake.of("response_url"))
        big.slack.command(user, command)
        big.fake.wait_for("response_url", count=before + 1)
        import time

        time.sleep(0.5)
        texts = [c.body["text"] for c in big.fake.of("response_url")[before:]]
        assert 1 < len(texts) <= 5
        _fits(texts)
        assert texts[0].startswith(title) and " overdue" in texts[0].split("\n")[0]
        assert "App Home lists them all" in texts[-1]
    assert big.fake.seen_faults() == []


def test_app_home_holds_every_overdue_child_within_100_blocks(big: Running) -> None:
    view = _home(big, "U0SW", "EvBig1")
    assert len(view["blocks"]) <= 100
    texts = _texts(view)
    assert all(f"{ref} (ZZ) [CB-VISIT-10WD]" in texts for ref in REFS[:100])
    manager = _home(big, "U0TM", "EvBig2")
    assert len(manager["blocks"]) <= 100
    assert big.fake.seen_faults() == []


class SimulatedSlack(SlackMessenger):
    """The Slack messenger as `seen simulate` drives it (it sets `now` before each step). The week
    runs on a simulated clock and this fake Slack sets no per-conversation limit, so posts are not
    paced in real time (at one a second a conversation the week took many minutes)."""

    now: datetime | None = None
    conversation_interval = 0.0


def test_a_week_of_a_150_child_team_sends_only_what_slack_takes(tmp_path: Path) -> None:
    """A week (Mon 23 to Sun 29 Nov 2026) of the sweep, reminders, prompts and due lists for a team
    with 150 children, stepped as `seen simulate` steps, delivered to the strict fake Slack server,
    with two visits not seen (CB-NOTSEEN-DISCUSS prompts with buttons); each working day the worker
    asks `/seen due`, the manager `/seen team`, both open App Home, and a thread reply holds a
    link. Every message and view was valid, nothing was cut, nothing misread."""
    with serving(tmp_path / "seen.sqlite", _many_children) as running:
        messenger = SimulatedSlack(
            make_client(TOKEN, running.fake.api_url), locate=outbox_locator(running.factory)
        )
        london = ZoneInfo("Europe/London")
        events = load_events(
            json.dumps(
                [
                    {
                        "type": "contact",
                        "child": ref,
                        "at": "2026-11-24T13:00:00+00:00",
                        "kind": "home_visit",
                        "by": "lead_social_worker",
                        "qualified": True,
                        "child_seen": False,
                    }
                    for ref in REFS[:2]
                ]
            )
        )
        day = date(2026, 11, 23)
        while day <= date(2026, 11, 29):
            simulate(running.factory, messenger, day, day, events, london)  # type: ignore[arg-type]
            if day.weekday() < 5:
                running.clock.now = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15)
                running.slack.command("U0SW", "due")
                running.slack.command("U0TM", "team")
                _home(running, "U0SW", f"EvW{day}")
                _home(running, "U0TM", f"EvM{day}")
            day += timedelta(days=1)
        posted = [m for channel in ("C0NORTH", "D0SW", "D0TM") for m in running.fake.messages(channel)]
        assert len(posted) > 20
        prompts = [m for m in running.fake.messages("D0TM") if "CB-NOTSEEN-DISCUSS" in m["text"]]
        assert prompts and all(m.get("blocks") for m in prompts)
        thread = prompts[0]
        running.slack.thread_reply(
            {
                "type": "message",
                "channel": "D0TM",
                "user": "U0TM",
                "text": "Discussed: see <https://example.org/notes|the notes> & call back",
                "ts": "1800000900.000100",
                "thread_ts": thread["ts"],
                "event_ts": "1800000900.000100",
            },
            "EvWeekLink",
        )
        running.fake.wait_for("reactions.add")
        running.fake.wait_for("response_url", count=10)
        assert all(len(m["text"] or "") <= PART_CHARS for m in posted)
        assert running.fake.rejected == []
