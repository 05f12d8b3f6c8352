"""Issue 12: a reminder's "Snooze until tomorrow" on Teams is an `Action.Execute` doing what
Slack's does, through the same core (bot.core.buttons): allowed by the policy (Central
Bedfordshire yes, Hillingdon no), only for someone who may log visits for the child, stored as an
acknowledgement of the reminder and audited with the working day it lasts until; the card is
replaced showing who (their role) and until when, keeping Log visit and Open record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from scheduler.outbox import pending_row
from storage.models import Acknowledgement, AuditLog, Child, Outbox, Staff
from tests.bot.conftest import add_world
from tests.teams.test_buttons import _execute, _texts, _titles

SW_AAD = "aad-sam-worker"
SOUTH_AAD = "aad-sid-south"
HILL_AAD = "aad-hana-hill"
WEDNESDAY = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
REMINDER = ["Log visit", "Open record", "Snooze until tomorrow"]


def _reminder(factory, ref: str = "C-1042", rule: str = "CB-VISIT-10WD") -> dict[str, Any]:
    add_world(factory)
    with factory.begin() as s:
        for slack, aad in (("U0SW", SW_AAD), ("U0SSW", SOUTH_AAD), ("U0HSW", HILL_AAD)):
            s.execute(update(Staff).where(Staff.chat_user_id == slack).values(chat_user_id=aad))
        child_id = s.scalar(select(Child.id).where(Child.case_ref == ref))
        key = f"{ref}:{rule}:lead_social_worker:2026-12-01:reminder"
        row = pending_row(
            key=key,
            stage="reminder",
            recipient_staff_id=None,
            recipient_channel=None,
            text=f"*{ref}* home visit due by Tue 01 Dec ({rule})",
            payload={"actions": REMINDER},
            now=WEDNESDAY,
            late=False,
            child_id=child_id,
            rule=rule,
        )
        s.execute(insert(Outbox), [row])
    return {"k": key, "o": key.rsplit(":", 1)[0], "c": ref, "r": rule, "w": "lead_social_worker"}


@pytest.mark.parametrize(("now", "until"), [(WEDNESDAY, "Thu 26 Nov"), (FRIDAY, "Mon 30 Nov")])
def test_snooze_replaces_the_card_until_the_next_working_day(
    timed_sender, factory, connector, clock, now, until
):
    """CB-VISIT-10WD reminder snoozed by its lead social worker: until the next working day (a
    Friday's snooze lasts until Monday), the reminder acknowledged, the snooze audited."""
    clock[0] = now
    data = _reminder(factory)
    reply = timed_sender.post(_execute(connector, SW_AAD, data, verb="seen_snooze"))
    assert reply.status_code == 200
    card = reply.json()["value"]
    assert "home visit due by Tue 01 Dec" in _texts(card)
    assert f"Snoozed by the social worker until {until}: the next reminder comes then." in _texts(card)
    assert "Sam" not in _texts(card)
    assert _titles(card) == ["Log visit", "Open record"]
    with factory() as s:
        assert s.scalar(select(Acknowledgement.key)) == data["k"]
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "reminder.snoozed"))
        assert audit.detail["until"] == {"Thu 26 Nov": "2026-11-26", "Mon 30 Nov": "2026-11-30"}[until]


def test_a_worker_of_another_team_may_not_snooze_and_is_audited(timed_sender, factory, connector):
    data = _reminder(factory)
    body = timed_sender.post(_execute(connector, SOUTH_AAD, data, verb="seen_snooze")).json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"].startswith("⛔ ")
    with factory() as s:
        assert s.scalar(select(Acknowledgement)) is None
        refused = s.scalar(select(AuditLog).where(AuditLog.action == "teams.refused"))
        assert (refused.detail["action"], refused.detail["child"]) == ("seen_snooze", "C-1042")


def test_hillingdon_does_not_allow_snoozing(timed_sender, factory, connector):
    """Hillingdon's policy has no snooze: refused with the policy's name, nothing stored."""
    data = _reminder(factory, "C-3001", "HI-VISIT-20WD")
    body = timed_sender.post(_execute(connector, HILL_AAD, data, verb="seen_snooze")).json()
    assert body["value"].startswith("⛔ ") and "does not allow snoozing reminders" in body["value"]
    with factory() as s:
        assert s.scalar(select(Acknowledgement)) is None
        assert s.scalar(select(AuditLog).where(AuditLog.action == "reminder.snoozed")) is None


def test_a_button_that_opens_a_form_is_not_acted_on_here(timed_sender, factory, connector):
    data = _reminder(factory)
    body = timed_sender.post(_execute(connector, SW_AAD, data, verb="seen_open_record")).json()
    assert (
        body["value"] == "This button opens a form; on Teams, type child C-1042 to see the child's deadlines."
    )
    with factory() as s:
        assert s.scalar(select(Acknowledgement)) is None
