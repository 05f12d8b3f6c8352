"""Manager prompts and reminders as Slack messages with buttons: acknowledge (message updated in
place), record decision (modal, limits from the policy), refusals for anyone but the team's managers,
and the reminder buttons (log visit, open record, snooze where the policy allows)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import Acknowledgement, AuditLog, CaseNote, Decision
from tests.bot.conftest import radio, runtime_for, text
from tests.bot.conftest import select as choose

OB_KEY = "C-1042:CB-NOTSEEN-DISCUSS:team_manager:2026-11-23T10:30:00+00:00"


def _prompted(running):
    """The worker logs a not-seen visit; a tick sends the team manager the CB-NOTSEEN-DISCUSS prompt."""
    running.slack.command("U0SW", "log C-1042 not-seen at 2026-11-23 10:30")
    running.fake.wait_for("response_url")
    runtime_for(running).tick(running.clock())
    prompts = [m for m in running.fake.messages("D0TM") if "CB-NOTSEEN-DISCUSS" in m["text"]]
    assert len(prompts) == 1
    return prompts[0]


def test_prompt_has_the_buttons_and_acknowledge_updates_it_in_place(running):
    """CB-NOTSEEN-DISCUSS: Acknowledge stops the repeats; the message shows who and when."""
    prompt = _prompted(running)
    assert [e["action_id"] for e in prompt["blocks"][-1]["elements"]] == ["seen_ack", "seen_decide"]
    running.clock.now = datetime(2026, 11, 23, 11, 10, tzinfo=UTC)
    assert running.slack.click("U0TM", prompt, "D0TM", "seen_ack").status == 200
    update = running.fake.wait_for("chat.update")[0].body
    assert (update["channel"], update["ts"]) == ("D0TM", prompt["ts"])
    assert "Acknowledged by <@U0TM> at Mon 23 Nov 2026 11:10" in update["text"]
    assert [e["action_id"] for e in update["blocks"][-1]["elements"]] == ["seen_decide"]
    with running.factory() as s:
        ack = s.scalar(select(Acknowledgement))
        assert (ack.key, ack.staff_id) == (OB_KEY, running.world.ids["tm"])
        assert s.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "acknowledged"


def test_only_the_teams_managers_may_acknowledge(running):
    prompt = _prompted(running)
    for user in ("U0SW", "U0STM", "U0CHAIR", "U0NOBODY"):
        running.slack.click(user, prompt, "D0TM", "seen_ack")
    answers = [c.body for c in running.fake.wait_for("response_url", count=5)[1:]]
    assert all(a["response_type"] == "ephemeral" and a["replace_original"] is False for a in answers)
    texts = [a["text"] for a in answers]  # in the order their follow-ups finished, not the clicks'
    only = ":no_entry: Only a manager of the child's team can acknowledge or decide this prompt for C-1042."
    assert texts.count(only) == 3
    [other] = [t for t in texts if t != only]  # U0NOBODY's
    assert "Ask an administrator" in other
    with running.factory() as s:
        assert s.scalar(select(Acknowledgement)) is None
    assert running.fake.of("chat.update") == []
    # a practice manager with no team (they cover every team) may
    running.slack.click("U0PM", prompt, "D0TM", "seen_ack")
    running.fake.wait_for("chat.update")


def test_record_decision_checks_the_timeframe_against_the_policy(running):
    """CB-NOTSEEN-REVISIT: the further visit within at most the policy's 5 working days."""
    prompt = _prompted(running)
    running.slack.click("U0TM", prompt, "D0TM", "seen_decide")
    view = running.fake.wait_for("views.open", count=2)[1].body["view"]
    assert view["callback_id"] == "seen_decision"
    outcomes = next(b for b in view["blocks"] if b.get("block_id") == "outcome")
    assert [o["value"] for o in outcomes["element"]["options"]] == ["emergency_action", "further_visit"]
    days = next(b for b in view["blocks"] if b.get("block_id") == "days")
    assert [o["value"] for o in days["element"]["options"]] == ["1", "2", "3", "4", "5"]
    assert days["hint"]["text"] == "At most 5 working days (CB-NOTSEEN-REVISIT)"

    reply = running.slack.submit("U0TM", view, {"outcome": radio("further_visit")}, "V-dec-1")
    assert reply.json() == {
        "response_action": "errors",
        "errors": {"days": "Say within how many working days"},
    }
    reply = running.slack.submit(
        "U0TM", view, {"outcome": radio("further_visit"), "days": choose("6")}, "V-dec-1"
    )
    assert reply.json()["errors"] == {"days": "At most 5 working days (CB-NOTSEEN-REVISIT), not 6"}
    with running.factory() as s:
        assert s.scalar(select(Decision)) is None

    values = {
        "outcome": radio("further_visit"),
        "days": choose("3"),
        "informed": text("lead social worker"),
        "note": text("Family known to be away; revisit with duty worker if needed"),
    }
    assert running.slack.submit("U0TM", view, values, "V-dec-1").body == ""
    assert running.slack.submit("U0TM", view, values, "V-dec-1").body == ""  # a retry: stored once
    with running.factory() as s:
        decisions = list(s.scalars(select(Decision)))
        assert len(decisions) == 1
        d = decisions[0]
        assert (d.rule, d.outcome, d.within_working_days, d.by_role) == (
            "CB-NOTSEEN-DISCUSS",
            "further_visit",
            3,
            "team_manager",
        )
        note = s.scalar(select(CaseNote))
        assert note.source == "decision" and note.author_id == running.world.ids["tm"]
        assert note.text.startswith(
            "Decision under CB-NOTSEEN-DISCUSS by the team manager: A further visit within 3 working days. "
            "Informed: lead social worker."
        )
    update = running.fake.wait_for("chat.update")[0].body
    assert "Decision recorded by <@U0TM>" in update["text"] and "[CB-NOTSEEN-DISCUSS]" in update["text"]
    assert all(b["type"] != "actions" for b in update["blocks"])
    # the decision met the rule: nothing left to decide
    running.slack.click("U0TM", prompt, "D0TM", "seen_decide")
    answer = running.fake.wait_for("response_url", count=2)[1].body["text"]
    assert "Nothing to decide: [CB-NOTSEEN-DISCUSS] for C-1042 is already met" in answer


def test_decision_by_someone_else_is_refused(running):
    prompt = _prompted(running)
    running.slack.click("U0SW", prompt, "D0TM", "seen_decide")
    assert "Only a manager" in running.fake.wait_for("response_url", count=2)[1].body["text"]
    assert len(running.fake.of("views.open")) == 1  # the visit form of the log only


def _reminder(running):
    """A CB-VISIT-10WD reminder to the worker (3 working days before Mon 30 Nov)."""
    running.clock.now = datetime(2026, 11, 25, 8, 31, tzinfo=UTC)
    runtime_for(running).tick(running.clock())
    reminders = [
        m for m in running.fake.messages("D0SW") if "CB-VISIT-10WD" in m["text"] and "C-1042" in m["text"]
    ]
    assert reminders, [m["text"] for m in running.fake.messages("D0SW")]
    return reminders[0]


def test_reminder_buttons_open_the_forms(running):
    reminder = _reminder(running)
    assert [e["action_id"] for e in reminder["blocks"][-1]["elements"]] == [
        "seen_log_visit",
        "seen_open_record",
        "seen_snooze",  # central-bedfordshire allows snoozing
    ]
    running.slack.click("U0SW", reminder, "D0SW", "seen_log_visit")
    view = running.fake.wait_for("views.open")[0].body["view"]
    assert view["callback_id"] == "seen_visit_record"
    running.slack.click("U0SW", reminder, "D0SW", "seen_open_record")
    running.fake.wait_for("views.open", count=2)


def test_snooze_until_tomorrow(running):
    reminder = _reminder(running)
    running.slack.click("U0SW", reminder, "D0SW", "seen_snooze")
    update = running.fake.wait_for("chat.update")[0].body
    assert "Snoozed by <@U0SW> until Thu 26 Nov" in update["text"]
    with running.factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "reminder.snoozed"))
        assert audit.detail["until"] == "2026-11-26" and audit.detail["rule"] == "CB-VISIT-10WD"


def test_hillingdon_reminders_have_no_snooze(running):
    running.clock.now = datetime(2026, 12, 9, 8, 31, tzinfo=UTC)
    runtime_for(running).tick(running.clock())
    reminders = [m for m in running.fake.messages("D0HSW") if "HI-VISIT-20WD" in m["text"]]
    assert reminders
    actions = [e["action_id"] for e in reminders[0]["blocks"][-1]["elements"]]
    assert actions == ["seen_log_visit", "seen_open_record"]


def test_a_forged_acknowledgement_of_another_childs_obligation_is_refused(running):
    """Issue 9 item 5: a validly signed click whose button value names C-1042 but carries another
    child's obligation key is refused with an answer, and nothing is stored."""
    import copy
    import json

    prompt = copy.deepcopy(_prompted(running))
    for block in prompt["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == "seen_ack":
                value = json.loads(element["value"])
                value["o"] = "C-2004:CB-NOTSEEN-DISCUSS:team_manager:2026-11-23T10:30:00+00:00"
                element["value"] = json.dumps(value)
    assert running.slack.click("U0TM", prompt, "D0TM", "seen_ack").status == 200
    answer = running.fake.wait_for("response_url", count=2)[1].body
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == ":no_entry: key: not an obligation or message of C-1042"
    with running.factory() as s:
        assert s.scalar(select(Acknowledgement)) is None
    assert running.fake.of("chat.update") == []
