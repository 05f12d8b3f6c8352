"""Working hours for manager prompts (scheduler/stages.py, a policy's [working_hours] and
[out_of_hours]): a repeat or a climb up the ladder that falls outside 08:30 to 17:30 on a working
day goes at the start of the next working hours, the deadline unchanged; an urgent prompt raised
out of hours also goes at once to the out-of-hours channel, when the policy names one.

Times are worked out by hand. November and December are GMT (UTC = London); August is BST (UTC is
an hour behind London). The ladder of both bundled policies: repeat to the manager 4 hours after
the prompt, the practice manager at the deadline, the head of service 24 hours after it, each rung
at least 4 hours after the one before (the manager prompted hears first)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.policies import HERE, load_policy
from scheduler.rules.model import Obligation
from scheduler.rules.policy import Policy
from scheduler.stages import OUT_OF_HOURS, planned_stages, stages_to_send

CB = load_policy("central-bedfordshire")
EDT = "C0EDT0001"
CB_EDT = dataclasses.replace(
    CB, working_hours=dataclasses.replace(CB.working_hours, out_of_hours_channel=EDT)
)


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def prompt(rule: str, due: datetime, owner: str = "team_manager") -> Obligation:
    return Obligation(rule, due, "due", owner, "summary", "basis", key=f"C-1:{rule}:{owner}:x")


def plan(policy: Policy, rule: str, raised: datetime, hours: int = 24) -> list[tuple[str, datetime, tuple]]:
    stages = planned_stages(policy, prompt(rule, raised + timedelta(hours=hours)), raised, False)
    return [(s.name, s.at, s.to) for s in stages]


def test_friday_evening_not_seen_repeats_on_monday_cb_notseen_discuss() -> None:
    """CB-NOTSEEN-DISCUSS, a not-seen visit at 20:00 on Friday 27 Nov 2026 (deadline Saturday
    20:00): the manager is prompted at once; the repeat (00:00) and the overdue alert (Saturday
    20:00) wait for Monday 08:30 and go as one message (the repeat); the practice manager 4 hours
    after the repeat (12:30), the head of service 4 hours after that (16:30). No out-of-hours
    channel is named, so nobody else is told."""
    assert plan(CB, "CB-NOTSEEN-DISCUSS", utc(2026, 11, 27, 20)) == [
        ("prompt", utc(2026, 11, 27, 20), ("team_manager",)),
        ("repeat", utc(2026, 11, 30, 8, 30), ("team_manager",)),
        ("escalate-2-practice_manager", utc(2026, 11, 30, 12, 30), ("practice_manager",)),
        ("escalate-3-head_of_service", utc(2026, 11, 30, 16, 30), ("head_of_service",)),
    ]


def test_friday_evening_before_a_bank_holiday_repeats_on_tuesday_cb_notseen_discuss() -> None:
    """CB-NOTSEEN-DISCUSS at 20:00 BST on Friday 28 Aug 2026; Monday 31 Aug is the summer bank
    holiday: the repeat goes at 08:30 BST on Tuesday 1 Sep (07:30 UTC)."""
    stages = plan(CB, "CB-NOTSEEN-DISCUSS", utc(2026, 8, 28, 19))
    assert stages[1] == ("repeat", utc(2026, 9, 1, 7, 30), ("team_manager",))
    assert stages[2][:2] == ("escalate-2-practice_manager", utc(2026, 9, 1, 11, 30))


def test_the_deadline_and_its_words_do_not_move_cb_notseen_discuss() -> None:
    """The repeat waits for Monday; the obligation's deadline is still Saturday 20:00 and the
    repeat says so."""
    from scheduler.messages import reminder_text

    ob = prompt("CB-NOTSEEN-DISCUSS", utc(2026, 11, 28, 20))._replace(status="overdue")
    send, _ = stages_to_send(CB, ob, utc(2026, 11, 30, 8, 30), utc(2026, 11, 27, 20), False)
    [repeat] = [s for s in send if s.name == "repeat"]
    text = reminder_text(CB, ob, repeat, "C-1", "AB")
    assert "Due Sat 28 Nov 2026 20:00 (overdue); for the team manager." in text


@pytest.mark.parametrize(
    ("raised", "repeat_at"),
    [
        (utc(2026, 11, 26, 13, 29), utc(2026, 11, 26, 17, 29)),  # 17:29: still in working hours
        (utc(2026, 11, 26, 13, 30), utc(2026, 11, 27, 8, 30)),  # 17:30: Friday morning
        (utc(2026, 11, 27, 13, 30), utc(2026, 11, 30, 8, 30)),  # Friday 17:30: Monday morning
        (utc(2026, 12, 24, 13, 30), utc(2026, 12, 29, 8, 30)),  # Christmas Eve: 25, 28 Dec holidays
    ],
)
def test_repeat_at_17_29_and_17_30_cb_risk_worse(raised: datetime, repeat_at: datetime) -> None:
    """CB-RISK-WORSE (respond within 4 hours): the repeat, 4 hours after the prompt, goes at
    17:29 but not at 17:30 (that is the start of the next working day's hours)."""
    stages = plan(CB, "CB-RISK-WORSE", raised, hours=4)
    assert ("repeat", repeat_at, ("team_manager",)) in stages


def test_rung_at_17_30_waits_for_the_morning_cb_new_injury() -> None:
    """CB-NEW-INJURY (respond within 4 hours) raised Thursday 26 Nov 2026 at 09:29: repeat at the
    deadline, 13:29; the practice manager 4 hours after the repeat, 17:29 (in); the head of
    service 24 hours after the deadline, Friday 13:29. Raised at 09:30, the practice manager's
    turn is 17:30, so Friday 08:30; the head of service still Friday 13:30."""
    early = plan(CB, "CB-NEW-INJURY", utc(2026, 11, 26, 9, 29), hours=4)
    assert [a for n, a, _ in early if n.startswith(("repeat", "escalate"))] == [
        utc(2026, 11, 26, 13, 29),
        utc(2026, 11, 26, 17, 29),
        utc(2026, 11, 27, 13, 29),
    ]
    late = plan(CB, "CB-NEW-INJURY", utc(2026, 11, 26, 9, 30), hours=4)
    assert [a for n, a, _ in late if n.startswith(("repeat", "escalate"))] == [
        utc(2026, 11, 26, 13, 30),
        utc(2026, 11, 27, 8, 30),
        utc(2026, 11, 27, 13, 30),
    ]


def test_across_the_clock_change_cb_notseen_discuss() -> None:
    """Friday 23 Oct 2026, 20:00 BST (19:00 UTC); the clocks go back on Sunday 25th: Monday's
    08:30 is GMT, 08:30 UTC."""
    stages = plan(CB, "CB-NOTSEEN-DISCUSS", utc(2026, 10, 23, 19))
    assert stages[1] == ("repeat", utc(2026, 10, 26, 8, 30), ("team_manager",))


def test_an_acknowledged_prompt_is_told_overdue_in_working_hours_cb_notseen_discuss() -> None:
    """Acknowledged (no repeat, no climb), still undecided at the deadline, Saturday 20:00: the
    manager's overdue alert goes on Monday at 08:30."""
    ob = prompt("CB-NOTSEEN-DISCUSS", utc(2026, 11, 28, 20))
    stages = planned_stages(CB, ob, utc(2026, 11, 27, 20), True)
    assert [(s.name, s.at) for s in stages] == [
        ("prompt", utc(2026, 11, 27, 20)),
        ("overdue", utc(2026, 11, 30, 8, 30)),
    ]


def test_urgent_prompt_out_of_hours_goes_to_the_channel_at_once_cb_notseen_discuss() -> None:
    """With an out-of-hours channel named, CB-NOTSEEN-DISCUSS raised at 20:00 on a Friday also
    goes to it at once; the manager's ladder is unchanged."""
    stages = plan(CB_EDT, "CB-NOTSEEN-DISCUSS", utc(2026, 11, 27, 20))
    assert ("out-of-hours", utc(2026, 11, 27, 20), (OUT_OF_HOURS,)) in stages
    assert [s for s in stages if s[0] != "out-of-hours"] == plan(
        CB, "CB-NOTSEEN-DISCUSS", utc(2026, 11, 27, 20)
    )
    send, upcoming = stages_to_send(
        CB_EDT, prompt("CB-NOTSEEN-DISCUSS", utc(2026, 11, 28, 20)), utc(2026, 11, 27, 20), None, False
    )
    assert [(s.name, s.to) for s in send] == [
        ("prompt", ("team_manager",)),
        ("out-of-hours", (OUT_OF_HOURS,)),
    ]
    assert upcoming == utc(2026, 11, 30, 8, 30)


@pytest.mark.parametrize(
    ("raised", "out_of_hours"),
    [
        (utc(2026, 11, 26, 17, 29), False),
        (utc(2026, 11, 26, 17, 30), True),
        (utc(2026, 11, 26, 8, 29), True),
        (utc(2026, 11, 26, 8, 30), False),
        (utc(2026, 11, 28, 12), True),  # Saturday noon
        (utc(2026, 12, 28, 12), True),  # a bank holiday's noon
        (utc(2026, 7, 16, 16, 29), False),  # 17:29 BST
        (utc(2026, 7, 16, 16, 30), True),  # 17:30 BST
    ],
)
def test_urgent_prompt_boundaries_cb_risk_worse(raised: datetime, out_of_hours: bool) -> None:
    """CB-RISK-WORSE is urgent: raised at 17:29 it goes to the manager only; at 17:30 (or before
    08:30, at a weekend, on a bank holiday) the out-of-hours channel is told at once too."""
    names = [n for n, _, _ in plan(CB_EDT, "CB-RISK-WORSE", raised, hours=4)]
    assert ("out-of-hours" in names) is out_of_hours


def test_a_prompt_not_marked_urgent_waits_cb_seen_alone() -> None:
    """CB-SEEN-ALONE is not in the policy's urgent_rules: out of hours it goes to the manager
    only, and the channel is not told."""
    names = [n for n, _, _ in plan(CB_EDT, "CB-SEEN-ALONE", utc(2026, 11, 27, 20))]
    assert "out-of-hours" not in names and names[0] == "prompt"


# -- the real sweep, outbox and delivery: `seen simulate` ------------------------------------
CASELOAD = """\
record_type,team,policy,slack_channel,name,role,email,qualified_registered,case_ref,initials,date_of_birth,lead_social_worker,plan_started
team,CB Team,central-bedfordshire,C0CBTEAM1,,,,,,,,,
staff,CB Team,,,Sam Cole,social_worker,sam@cb.test,yes,,,,,
staff,CB Team,,,Tara Moss,team_manager,tara@cb.test,yes,,,,,
staff,CB Team,,,Paul Hart,practice_manager,paul@cb.test,yes,,,,,
staff,,,,Hana Webb,head_of_service,hana@council.test,yes,,,,,
child,CB Team,,,,,,,C-700,AB,2018-03-01,sam@cb.test,{plan_started}
"""


def _simulate(tmp_path: Path, visit_at: str, start: str, end: str, channel: str | None) -> list[dict]:
    policy = tmp_path / "council.toml"
    text = (HERE / "central-bedfordshire.toml").read_text(encoding="utf-8")
    if channel:
        text = text.replace('# channel = "C0EDT0001"', f'channel = "{channel}"')
    policy.write_text(text, encoding="utf-8")
    caseload = tmp_path / "caseload.csv"
    caseload.write_text(CASELOAD.format(plan_started=start), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    visit = {
        "type": "contact",
        "child": "C-700",
        "at": visit_at,
        "kind": "home_visit",
        "by": "lead_social_worker",
        "child_seen": False,
        "no_one_home": True,
        "recorded_at": visit_at,
    }
    events.write_text(json.dumps(visit) + "\n", encoding="utf-8")
    out = tmp_path / "messages.jsonl"
    args = ["simulate", "--caseload", str(caseload), "--events", str(events), "--policy", str(policy)]
    assert main([*args, "--from", start, "--to", end, "--out", str(out)]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _discuss(messages: list[dict]) -> list[tuple[str, str, str]]:
    return [
        (m["at"][:16], m["stage"], m["to"].split(" (")[0])
        for m in messages
        if m["rule"] == "CB-NOTSEEN-DISCUSS"
    ]


def test_simulate_friday_20_00_walkthrough_cb_notseen_discuss(tmp_path: Path) -> None:
    """`seen simulate`: a not-seen home visit at 20:00 on Friday 27 Nov 2026 (CB-NOTSEEN-DISCUSS,
    deadline Saturday 20:00). The team manager is prompted at once; the emergency duty team's
    channel named in the policy gets it at once too (shown as the out-of-hours channel); the
    repeat waits for Monday 08:30, then the practice manager (12:30) and the head of service
    (16:30). Every message through the outbox and delivery, each once."""
    messages = _simulate(tmp_path, "2026-11-27T20:00:00+00:00", "2026-11-20", "2026-11-30", EDT)
    assert _discuss(messages) == [
        ("2026-11-27T20:00", "prompt", "team manager"),
        ("2026-11-27T20:00", "out-of-hours", "out of hours"),
        ("2026-11-30T08:30", "repeat", "team manager"),
        ("2026-11-30T12:30", "escalate-2-practice_manager", "practice manager"),
        ("2026-11-30T16:30", "escalate-3-head_of_service", "head of service"),
    ]
    [edt] = [m for m in messages if m["stage"] == "out-of-hours"]
    assert edt["to"] == f"out of hours (channel {EDT})"
    assert edt["key"].endswith(f":out-of-hours:c{EDT}")
    assert edt["text"].startswith("*Urgent, raised out of hours* · C-700 (AB) · [CB-NOTSEEN-DISCUSS]")
    assert "Due Sat 28 Nov 2026 20:00 (due); for the team manager." in edt["text"]
    [repeat] = [m for m in messages if m["rule"] == "CB-NOTSEEN-DISCUSS" and m["stage"] == "repeat"]
    assert "Due Sat 28 Nov 2026 20:00 (overdue)" in repeat["text"]
    assert len({m["key"] for m in messages}) == len(messages)


def test_simulate_before_a_bank_holiday_without_a_channel_cb_notseen_discuss(tmp_path: Path) -> None:
    """`seen simulate`: the same visit at 20:00 BST on Friday 28 Aug 2026, the bundled policy
    (no out-of-hours channel): nobody but the manager is told that evening, and the repeat goes
    on Tuesday 1 Sep at 08:30 BST (07:30 UTC), Monday 31 Aug being the summer bank holiday."""
    messages = _simulate(tmp_path, "2026-08-28T19:00:00+00:00", "2026-08-21", "2026-09-01", None)
    assert _discuss(messages) == [
        ("2026-08-28T19:00", "prompt", "team manager"),
        ("2026-09-01T07:30", "repeat", "team manager"),
        ("2026-09-01T11:30", "escalate-2-practice_manager", "practice manager"),
        ("2026-09-01T15:30", "escalate-3-head_of_service", "head of service"),
    ]
