"""One child through a not-seen visit, end to end over HTTP and the scheduler's real sweep and
delivery (CB-NOTSEEN-DISCUSS, CB-NOTSEEN-REVISIT, CB-RECORD): the worker logs the visit, the team
manager is prompted, acknowledges and records a 3 working day further visit, the worker is reminded
and logs the visit. Every message names the rule and the child by case reference and initials only."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.core.caseview import open_obligations
from storage.models import CaseNote, Child, Contact, Decision
from tests.bot.conftest import clock_time, day, radio, runtime_for, text
from tests.bot.conftest import select as choose

NAMES = ("Sam", "Worker", "Tina", "Manager", "Pat", "Practice")


def at(d: int, h: int, m: int = 0) -> datetime:
    return datetime(2026, 11, d, h, m, tzinfo=UTC)  # November: London is on GMT


def dm_texts(fake, channel: str, since: int = 0) -> list[str]:
    return [m["text"] for m in fake.messages(channel)[since:]]


def test_not_seen_visit_walkthrough(running):
    slack, fake, clock = running.slack, running.fake, running.clock
    runtime = runtime_for(running)

    # Mon 23 Nov 11:00: the worker logs a home visit at 10:30 where the child was not seen.
    clock.now = at(23, 11)
    slack.command("U0SW", "log C-1042 not-seen at 2026-11-23 10:30")
    logged = fake.wait_for("response_url")[0].body["text"]
    assert logged.splitlines()[0] == (
        "Logged: C-1042 (AB), home visit (child not seen) on Mon 23 Nov 2026 10:30. Complete the Record of "
        "a Child Protection Visit in the form now open (or later with `/seen record C-1042`)."
    )
    assert "• [CB-NOTSEEN-DISCUSS] due Tue 24 Nov 2026 10:30" in logged
    assert "• [CB-NOTSEEN-REVISIT] due Mon 30 Nov 2026" in logged  # at the latest 5 WD

    # 11:05: the sweep prompts the team manager (within the sweep, not 24 hours later).
    clock.now = at(23, 11, 5)
    runtime.tick(clock.now)
    [prompt] = [m for m in fake.messages("D0TM") if "[CB-NOTSEEN-DISCUSS]" in m["text"]]
    assert prompt["text"] == (
        "*Decision needed* · C-1042 (AB) · [CB-NOTSEEN-DISCUSS]\n"
        "Child not seen at the home visit on 2026-11-23: discuss with the lead social worker and record "
        "emergency action or a further-visit timeframe.\n"
        "Due Tue 24 Nov 2026 10:30 (due); for the team manager.\n"
        "Next: Acknowledge, then Record decision (buttons below, or `/seen child C-1042`)."
    )
    assert [e["text"]["text"] for e in prompt["blocks"][-1]["elements"]] == ["Acknowledge", "Record decision"]
    worker_seen = len(fake.messages("D0SW"))
    assert not any("[CB-NOTSEEN" in t for t in dm_texts(fake, "D0SW"))  # nothing due for the worker yet

    # 11:10: the manager acknowledges; the prompt updates in place.
    clock.now = at(23, 11, 10)
    slack.click("U0TM", prompt, "D0TM", "seen_ack")
    ack_update = fake.wait_for("chat.update")[0].body
    assert ack_update["text"].endswith(
        "Acknowledged by <@U0TM> at Mon 23 Nov 2026 11:10. The rule is met by the recorded decision."
    )

    # 11:15: the manager records the decision: a further visit within 3 working days.
    clock.now = at(23, 11, 15)
    slack.click("U0TM", prompt, "D0TM", "seen_decide")
    view = fake.wait_for("views.open", count=2)[1].body["view"]
    values = {
        "outcome": radio("further_visit"),
        "days": choose("3"),
        "informed": text("lead social worker; duty senior"),
        "note": text("Discussed with the lead SW by phone. No immediate safety concern known."),
    }
    assert slack.submit("U0TM", view, values, "V-walk-decision").body == ""
    decision_update = fake.wait_for("chat.update", count=2)[1].body
    assert (
        "Decision recorded by <@U0TM> at Mon 23 Nov 2026 11:15: A further visit within 3 working days "
        "[CB-NOTSEEN-DISCUSS]." in decision_update["text"]
    )

    # The manager adds a reply in the prompt's thread: a case note on the child.
    reply_ts = f"{int(at(23, 11, 16).timestamp())}.000100"
    slack.thread_reply(  # with a link: Slack then adds its preview (message_changed)
        {
            "type": "message",
            "channel": "D0TM",
            "channel_type": "im",
            "user": "U0TM",
            "text": "Asked the duty worker to cover if the SW is off sick: <https://intranet.example/rota>",
            "ts": reply_ts,
            "thread_ts": prompt["ts"],
            "event_ts": reply_ts,
        },
        "EvWalk1",
    )
    fake.wait_for("reactions.add")

    # 11:20: the next tick reminds the worker of the further visit, due in 3 working days (Thu 26 Nov).
    clock.now = at(23, 11, 20)
    runtime.tick(clock.now)
    new = dm_texts(fake, "D0SW", worker_seen)
    revisit = [t for t in new if "[CB-NOTSEEN-REVISIT]" in t]
    assert revisit == [
        "*Reminder* · C-1042 (AB) · [CB-NOTSEEN-REVISIT]\n"
        "Further visit after the not-seen visit on 2026-11-23: see the child by 2026-11-26.\n"
        "Due Thu 26 Nov 2026 (due); for the lead social worker.\n"
        "Next: after the visit, `/seen log C-1042 seen` (or `not-seen`)."
    ]
    assert not any("[CB-NOTSEEN-DISCUSS]" in t for t in dm_texts(fake, "D0TM")[1:])  # no repeat: decided
    worker_seen = len(fake.messages("D0SW"))

    # Tue 24 Nov 06:31: the record of the not-seen visit is due by 10:30 (CB-RECORD, 24 hours).
    clock.now = at(24, 6, 31)
    runtime.tick(clock.now)
    record_reminders = [t for t in dm_texts(fake, "D0SW", worker_seen) if "[CB-RECORD]" in t]
    assert record_reminders == [
        "*Reminder* · C-1042 (AB) · [CB-RECORD]\n"
        "Complete the Record of a Child Protection Visit for the home visit on 2026-11-23 "
        "(within 24 hours).\n"
        "Due Tue 24 Nov 2026 10:30 (due); for the lead social worker.\n"
        "Next: complete the record with `/seen record C-1042`."
    ]
    # The worker completes it.
    clock.now = at(24, 9)
    slack.command("U0SW", "record C-1042")
    record_view = fake.wait_for("views.open", count=3)[2].body["view"]
    record = {
        "at_date": day("2026-11-23"),
        "at_time": clock_time("10:30"),
        "kind": choose("home_visit"),
        "outcome__C-1042": radio("not-seen"),
        "present": text("Nobody answered; neighbour said family at grandmother's"),
        "observations": text("No change known to the identified risks"),
    }
    assert slack.submit("U0SW", record_view, record, "V-walk-record-1").body == ""
    worker_seen = len(fake.messages("D0SW"))

    # Wed 25 Nov 08:31: one working day before the further visit is due, reminded again.
    clock.now = at(25, 8, 31)
    runtime.tick(clock.now)
    new = dm_texts(fake, "D0SW", worker_seen)
    day_before = [t for t in new if t.startswith("*Reminder* · C-1042 (AB) · [CB-NOTSEEN-REVISIT]")]
    assert len(day_before) == 1 and "Due Thu 26 Nov 2026 (due)" in day_before[0]
    due_list = [t for t in new if t.startswith("*Your due list, 2026-11-25*")]
    assert len(due_list) == 1 and "C-1042 (AB) [CB-NOTSEEN-REVISIT] due Thu 26 Nov 2026" in due_list[0]

    # 14:00: the worker visits and sees the child alone, bedroom seen, and records it.
    clock.now = at(25, 14)
    n = len(fake.of("response_url"))
    slack.command("U0SW", "log C-1042 seen alone bedroom at 2026-11-25 13:30")
    logged = fake.wait_for("response_url", count=n + 1)[n].body["text"]
    assert logged.startswith("Logged: C-1042 (AB), home visit (child seen) on Wed 25 Nov 2026 13:30.")
    visit_view = fake.wait_for("views.open", count=4)[3].body["view"]
    full = {
        "at_date": day("2026-11-25"),
        "at_time": clock_time("13:30"),
        "kind": choose("home_visit"),
        "outcome__C-1042": radio("seen"),
        "alone__C-1042": choose("yes"),
        "bedroom__C-1042": radio("yes"),
        "spoken__C-1042": radio("yes"),
        "wishes__C-1042": text("I was at Nana's"),
    }
    assert slack.submit("U0SW", visit_view, full, "V-walk-record-2").body == ""
    worker_seen = len(fake.messages("D0SW"))

    clock.now = at(25, 14, 10)
    runtime.tick(clock.now)
    clock.now = at(26, 9)
    runtime.tick(clock.now)
    assert not any("[CB-NOTSEEN" in t or "[CB-RECORD]" in t for t in dm_texts(fake, "D0SW", worker_seen))

    with running.factory() as s:
        child = s.scalar(select(Child).where(Child.case_ref == "C-1042"))
        rules = {o.ob.rule: o.ob.due for o in open_obligations(s, [child], clock.now)}
        assert rules == {"CB-VISIT-10WD": date(2026, 12, 9)}  # 25 Nov + 10 working days
        decision = s.scalar(select(Decision))
        assert (decision.outcome, decision.within_working_days) == ("further_visit", 3)
        notes = list(s.scalars(select(CaseNote).order_by(CaseNote.at)))
        assert [(n.source, n.author_id) for n in notes] == [
            ("decision", running.world.ids["tm"]),
            ("slack_thread", running.world.ids["tm"]),
        ]
        assert notes[0].text.startswith("Decision under CB-NOTSEEN-DISCUSS by the team manager")
        assert (
            notes[1].text
            == "Asked the duty worker to cover if the SW is off sick: <https://intranet.example/rota>"
        )
        contacts = list(s.scalars(select(Contact).where(Contact.child_id == child.id).order_by(Contact.id)))
        assert [
            (c.child_seen, c.recorded_at is not None, c.correction_of_id is not None) for c in contacts[1:]
        ] == [
            (False, False, False),  # the quick not-seen entry...
            (False, True, True),  # ...completed by its record (a correction, not an overwrite)
            (True, False, False),
            (True, True, True),
        ]

    # Everything sent to Slack: case reference and initials only, never a name or a note's text.
    time.sleep(0.2)
    for call in fake.calls:
        body = str(call.body)
        assert not any(name in body for name in NAMES), (call.method, body[:300])
        for note_text in ("Nana", "duty worker to cover", "No immediate safety concern", "grandmother"):
            assert note_text not in body, (call.method, note_text)
    for m in fake.messages("D0TM") + fake.messages("D0SW"):
        if "C-1042" in m["text"] and not m["text"].startswith(("*Your due list", "Visit record saved")):
            assert "[CB-" in m["text"], m["text"]
