"""One child through a not-seen visit, end to end on Slack and on Teams, over HTTP and the
scheduler's real sweep and delivery (CB-NOTSEEN-DISCUSS, CB-NOTSEEN-REVISIT, CB-RECORD): the worker
logs the visit, the team manager is prompted, acknowledges (the prompt changes in place) and
records a 3 working day further visit in the decision form, a reply in the prompt's thread becomes
a case note, the worker is reminded, completes the record, gets the due list (and so does the
team's channel) and logs the further visit. Every message names the rule and the child by case
reference and initials only."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.core.caseview import open_obligations
from storage.models import CaseNote, Child, Contact, Decision
from tests.walkthrough.drivers import Driver, Shown

NAMES = ("Sam", "Worker", "Tina", "Manager", "Pat", "Practice")
NOTE_TEXTS = ("Nana", "duty worker to cover", "No immediate safety concern", "grandmother")
PROMPT = (
    "*Decision needed* · C-1042 (AB) · [CB-NOTSEEN-DISCUSS]\n"
    "Child not seen at the home visit on 2026-11-23: discuss with the lead social worker and record "
    "emergency action or a further-visit timeframe.\n"
    "Due Tue 24 Nov 2026 10:30 (due); for the team manager.\n"
    "Next: Acknowledge, then Record decision (buttons below, or `/seen child C-1042`)."
)
REVISIT = (
    "*Reminder* · C-1042 (AB) · [CB-NOTSEEN-REVISIT]\n"
    "Further visit after the not-seen visit on 2026-11-23: see the child by 2026-11-26.\n"
    "Due Thu 26 Nov 2026 (due); for the lead social worker.\n"
    "Next: after the visit, `/seen log C-1042 seen` (or `not-seen`)."
)
RECORD = (
    "*Reminder* · C-1042 (AB) · [CB-RECORD]\n"
    "Complete the Record of a Child Protection Visit for the home visit on 2026-11-23 "
    "(within 24 hours).\n"
    "Due Tue 24 Nov 2026 10:30 (due); for the lead social worker.\n"
    "Next: complete the record with `/seen record C-1042`."
)
THREAD_NOTE = "Asked the duty worker to cover if the SW is off sick: <https://intranet.example/rota>"


def at(d: int, h: int, m: int = 0) -> datetime:
    return datetime(2026, 11, d, h, m, tzinfo=UTC)  # November: London is on GMT


def texts(messages: list[Shown]) -> list[str]:
    return [m.text for m in messages]


def tick(driver: Driver, now: datetime) -> None:
    driver.clock.now = now
    driver.runtime.tick(now)


def test_not_seen_visit_walkthrough(driver: Driver) -> None:
    clock = driver.clock

    # Mon 23 Nov 11:00: the worker logs a home visit at 10:30 where the child was not seen.
    clock.now = at(23, 11)
    logged = driver.type_command("sw", "log C-1042 not-seen at 2026-11-23 10:30")
    first = logged.text.splitlines()[0]
    assert first.startswith("Logged: C-1042 (AB), home visit (child not seen) on Mon 23 Nov 2026 10:30.")
    if driver.forms_from_commands:  # the record form opens with the answer, and it says so
        assert logged.form is not None
        assert first == (
            "Logged: C-1042 (AB), home visit (child not seen) on Mon 23 Nov 2026 10:30. Complete the Record "
            "of a Child Protection Visit in the form now open (or later with `/seen record C-1042`)."
        )
    assert "• [CB-NOTSEEN-DISCUSS] due Tue 24 Nov 2026 10:30" in logged.text
    assert "• [CB-NOTSEEN-REVISIT] due Mon 30 Nov 2026" in logged.text  # at the latest 5 WD

    # 11:05: the sweep prompts the team manager (within the sweep, not 24 hours later).
    tick(driver, at(23, 11, 5))
    [prompt] = [m for m in driver.messages_to("tm") if "[CB-NOTSEEN-DISCUSS]" in m.text]
    assert prompt.text == driver.shown(PROMPT)
    assert prompt.buttons == ("Acknowledge", "Record decision")
    worker_seen = len(driver.messages_to("sw"))
    assert not any("[CB-NOTSEEN" in t for t in texts(driver.messages_to("sw")))  # nothing for the worker yet

    # 11:10: the manager acknowledges; the prompt changes in place, Record decision kept.
    clock.now = at(23, 11, 10)
    manager_seen = len(driver.messages_to("tm"))
    driver.click("tm", prompt, "Acknowledge")
    [acknowledged] = driver.updates_of(prompt)
    assert len(driver.messages_to("tm")) == manager_seen  # the same message, not a new one
    assert acknowledged.text.endswith(
        f"Acknowledged by {driver.who('tm')} at Mon 23 Nov 2026 11:10. "
        "The rule is met by the recorded decision."
    )
    assert acknowledged.buttons == ("Record decision",)

    # 11:15: the manager records the decision: a further visit within 3 working days.
    clock.now = at(23, 11, 15)
    form = driver.open_form("tm", acknowledged, "Record decision")
    decision = {
        "outcome": "further_visit",
        "days": "3",
        "informed": "lead social worker; duty senior",
        "note": "Discussed with the lead SW by phone. No immediate safety concern known.",
    }
    assert driver.submit_form("tm", form, decision) == {}
    decided = driver.updates_of(prompt, count=2)[1]
    assert (
        f"Decision recorded by {driver.who('tm')} at Mon 23 Nov 2026 11:15: A further visit within 3 working "
        "days [CB-NOTSEEN-DISCUSS]." in decided.text
    )

    # The manager replies in the prompt's thread: a case note on the child.
    driver.reply_in_thread("tm", prompt, THREAD_NOTE)

    # 11:20: the next tick reminds the worker of the further visit, due in 3 working days (Thu 26 Nov).
    tick(driver, at(23, 11, 20))
    new = texts(driver.messages_to("sw")[worker_seen:])
    assert [t for t in new if "[CB-NOTSEEN-REVISIT]" in t] == [driver.shown(REVISIT)]
    assert not any("[CB-NOTSEEN-DISCUSS]" in t for t in texts(driver.messages_to("tm")[1:]))  # decided
    worker_seen = len(driver.messages_to("sw"))

    # Tue 24 Nov 06:31: the record of the not-seen visit is due by 10:30 (CB-RECORD, 24 hours).
    tick(driver, at(24, 6, 31))
    reminders = [m for m in driver.messages_to("sw")[worker_seen:] if "[CB-RECORD]" in m.text]
    assert texts(reminders) == [driver.shown(RECORD)]
    # The worker completes it from the reminder.
    clock.now = at(24, 9)
    record = driver.open_form("sw", reminders[0], "Open record")
    values = {
        "at_date": "2026-11-23",
        "at_time": "10:30",
        "kind": "home_visit",
        "outcome__C-1042": "not-seen",
        "present": "Nobody answered; neighbour said family at grandmother's",
        "observations": "No change known to the identified risks",
    }
    assert driver.submit_form("sw", record, values) == {}
    worker_seen = len(driver.messages_to("sw"))

    # Wed 25 Nov 08:31: one working day before the further visit is due, reminded again; the due lists.
    tick(driver, at(25, 8, 31))
    new_messages = driver.messages_to("sw")[worker_seen:]
    new = texts(new_messages)
    revisit = driver.shown("*Reminder* · C-1042 (AB) · [CB-NOTSEEN-REVISIT]")
    day_before = [m for m in new_messages if m.text.startswith(revisit)]
    assert len(day_before) == 1 and "Due Thu 26 Nov 2026 (due)" in day_before[0].text
    due_list = [t for t in new if t.startswith(driver.shown("*Your due list, 2026-11-25*"))]
    assert len(due_list) == 1 and "C-1042 (AB) [CB-NOTSEEN-REVISIT] due Thu 26 Nov 2026" in due_list[0]
    team_list = [
        t
        for t in texts(driver.channel_messages("North CP"))
        if t.startswith(driver.shown("*Due list for North CP, 2026-11-25*"))
    ]
    assert len(team_list) == 1 and "C-1042 (AB) [CB-NOTSEEN-REVISIT] due Thu 26 Nov 2026" in team_list[0]

    # 14:00: the worker visits and sees the child alone, bedroom seen, and records it.
    clock.now = at(25, 14)
    logged = driver.type_command("sw", "log C-1042 seen alone bedroom at 2026-11-25 13:30")
    assert logged.text.startswith("Logged: C-1042 (AB), home visit (child seen) on Wed 25 Nov 2026 13:30.")
    # The record form: open with the answer, or (where a typed command cannot open a form) from the
    # reminder of the further visit.
    visit = (
        logged.form if driver.forms_from_commands else driver.open_form("sw", day_before[0], "Open record")
    )
    assert visit is not None
    full = {
        "at_date": "2026-11-25",
        "at_time": "13:30",
        "kind": "home_visit",
        "outcome__C-1042": "seen",
        "alone__C-1042": "yes",
        "bedroom__C-1042": "yes",
        "spoken__C-1042": "yes",
        "wishes__C-1042": "I was at Nana's",
    }
    assert driver.submit_form("sw", visit, full) == {}
    worker_seen = len(driver.messages_to("sw"))

    tick(driver, at(25, 14, 10))
    tick(driver, at(26, 9))
    later = texts(driver.messages_to("sw")[worker_seen:])
    assert not any("[CB-NOTSEEN" in t or "[CB-RECORD]" in t for t in later)

    with driver.factory() as s:
        child = s.scalar(select(Child).where(Child.case_ref == "C-1042"))
        rules = {o.ob.rule: o.ob.due for o in open_obligations(s, [child], clock.now)}
        assert rules == {"CB-VISIT-10WD": date(2026, 12, 9)}  # 25 Nov + 10 working days
        stored = s.scalar(select(Decision))
        assert (stored.outcome, stored.within_working_days) == ("further_visit", 3)
        notes = list(s.scalars(select(CaseNote).order_by(CaseNote.at)))
        manager = driver.world.ids["tm"]
        assert [(n.source, n.author_id) for n in notes] == [
            ("decision", manager),
            (driver.thread_source, manager),
        ]
        assert notes[0].text.startswith("Decision under CB-NOTSEEN-DISCUSS by the team manager")
        assert notes[1].text == THREAD_NOTE
        contacts = list(s.scalars(select(Contact).where(Contact.child_id == child.id).order_by(Contact.id)))
        assert [
            (c.child_seen, c.recorded_at is not None, c.correction_of_id is not None) for c in contacts[1:]
        ] == [
            (False, False, False),  # the quick not-seen entry...
            (False, True, True),  # ...completed by its record (a correction, not an overwrite)
            (True, False, False),
            (True, True, True),
        ]

    # Everything sent to the platform: case reference and initials only, never a name or a note's text.
    for what, body in driver.sent():
        assert not any(name in body for name in NAMES), (what, body[:300])
        for note_text in NOTE_TEXTS:
            assert note_text not in body, (what, note_text)
    exempt = (driver.shown("*Your due list"), "Visit record saved")
    for m in driver.messages_to("tm") + driver.messages_to("sw"):
        if "C-1042" in m.text and not m.text.startswith(exempt):
            assert "[CB-" in m.text, m.text
    driver.finish()
