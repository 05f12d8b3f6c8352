"""Slack refusing a call in the middle of a listener's work (a form's trigger_id used or too old):
the user always gets a clear ephemeral answer saying what was stored and what to do, and nothing
is half-stored or stored twice. CB-RECORD: the quick entry of `/seen log` is a visit to complete."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditLog, Contact
from tests.bot.test_prompts import _prompted


def _answers(running, n: int) -> list[str]:
    calls = running.fake.wait_for("response_url", count=n)
    assert all(c.body["response_type"] == "ephemeral" for c in calls)
    return [c.body["text"] for c in calls]


def _visits(running, ref: str = "C-1042") -> int:
    with running.factory() as s:
        return s.scalar(
            select(func.count()).select_from(Contact).where(Contact.child_id == running.world.ids[ref])
        )


def test_log_with_an_expired_trigger_answers_and_a_retyped_log_is_one_visit(running):
    """CB-RECORD: `/seen log` when Slack refuses the form (trigger older than 3 seconds): the
    visit is stored, the user is told so and how to open the record; typing the command again
    (the form did not open) stores nothing new and says so."""
    before = _visits(running)
    running.slack.command("U0SW", "log C-1042 seen alone bedroom", trigger=running.fake.trigger(age=4))
    first = _answers(running, 1)[0]
    assert first.startswith("Logged: C-1042 (AB), ")
    assert "Slack opens a form only within 3 seconds" in first
    assert "`/seen record C-1042`" in first
    assert _visits(running) == before + 1
    running.clock.now = running.clock.now.replace(minute=2)  # typed again two minutes later
    running.slack.command("U0SW", "log C-1042 seen alone bedroom")
    second = _answers(running, 2)[1]
    assert second.startswith("Already logged by you: C-1042 (AB), ")
    assert "nothing new was stored" in second
    assert _visits(running) == before + 1
    assert running.fake.wait_for("views.open", count=2)  # the form opened the second time
    with running.factory() as s:
        assert s.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "contact.logged_again"


def test_a_different_outcome_or_time_is_a_new_visit(running):
    """The same person logging another outcome, or the same one hours apart, is another visit."""
    before = _visits(running)
    running.slack.command("U0SW", "log C-1042 seen alone bedroom at 2026-11-23 09:00")
    running.slack.command("U0SW", "log C-1042 not-seen at 2026-11-23 09:00")
    running.slack.command("U0SW", "log C-1042 seen alone bedroom at 2026-11-23 10:30")
    answers = _answers(running, 3)
    assert all(a.startswith("Logged: ") for a in answers)
    assert _visits(running) == before + 3


def test_record_with_a_used_trigger_says_to_type_it_again(running):
    trigger = running.fake.trigger()
    running.slack.command("U0SW", "record C-1043", trigger=trigger)
    running.fake.wait_for("views.open")
    running.slack.command("U0SW", "record C-1043", trigger=trigger)  # Slack never reuses one; a replay
    answers = _answers(running, 2)  # in the order the two commands finished
    assert "Recording a new visit to C-1043 (CB)." in answers
    [answer] = [a for a in answers if a.startswith(":warning:")]
    assert answer == (
        ":warning: The form did not open: Slack opens one form per request, and this one was used "
        "already. Type `/seen record C-1043` again to open it."
    )
    with running.factory() as s:  # the form that did not open is not audited as opened
        opened = select(func.count()).where(AuditLog.action == "record_form.opened")
        assert s.scalar(opened) == 1


def test_a_button_whose_form_does_not_open_answers(running):
    """CB-NOTSEEN-DISCUSS: Record decision pressed, Slack refuses the form: the manager is told."""
    prompt = _prompted(running)
    running.slack.click("U0TM", prompt, "D0TM", "seen_decide", trigger=running.fake.trigger(age=3.5))
    answer = _answers(running, 2)[1]
    assert answer.startswith(":warning: The form did not open: Slack opens a form only within 3 seconds")
    assert answer.endswith("Press the button again.")
