"""Issue 12: a person Seen cannot reach on Teams yet (the app is not installed for them) has their
messages parked, not dropped; their team manager is told once per person, not once per message,
naming them by role, initials and staff id and saying how to install the app; once they can be
reached their parked messages go."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from bot.teams.conversations import Reference, remember
from bot.teams.messenger import TeamsMessenger
from scheduler.delivery import deliver_due
from scheduler.outbox import pending_row
from storage.models import AuditLog, Child, Outbox, Staff
from tests.bot.conftest import add_world
from tests.teams.conftest import TENANT, personal_message

NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
SW = "aad-sam-worker"
TM = "aad-tina-manager"


@pytest.fixture
def world(factory, connector) -> dict[str, int]:
    """North's social worker has not got the app; their manager has."""
    w = add_world(factory)
    with factory.begin() as s:
        s.execute(update(Staff).where(Staff.chat_user_id == "U0SW").values(chat_user_id=SW))
        s.execute(update(Staff).where(Staff.chat_user_id == "U0TM").values(chat_user_id=TM))
        child = s.scalar(select(Child.id).where(Child.case_ref == "C-1042"))
        rows = [
            pending_row(
                key=f"C-1042:HI-VISIT-20WD:{stage}",
                stage=stage,
                recipient_staff_id=w.ids["sw"],
                recipient_channel=None,
                text=f"*C-1042* (AB): home visit {stage}",
                payload={"to": "lead social worker"},
                now=NOW,
                late=False,
                child_id=child,
                rule="HI-VISIT-20WD",
            )
            for stage in ("reminder", "due")
        ]
        s.execute(insert(Outbox), rows)
    chat = connector.open(f"a:chat-{TM}")
    remember(factory, Reference("personal", chat, connector.url, TENANT, aad_object_id=TM))
    return w.ids


@pytest.fixture
def messenger(teams_bot, factory) -> Iterator[TeamsMessenger]:
    out = TeamsMessenger.for_app(teams_bot.app, factory, timeout=5)
    yield out
    out.close()


def _posts(connector, conversation: str) -> list[str]:
    return [
        c.body["text"]
        for c in connector.activity_calls()
        if c.method == "POST" and c.path == f"/v3/conversations/{conversation}/activities"
    ]


def test_two_messages_for_an_unreachable_worker_tell_the_manager_once(world, messenger, connector, factory):
    """Both of the worker's messages are parked and audited; the manager gets one 1:1 message
    naming the worker by role, initials and staff id (never their name) and how to install Seen."""
    first = deliver_due(factory, messenger, NOW)
    assert (first.sent, first.parked) == (0, 2)
    second = deliver_due(factory, messenger, NOW + timedelta(seconds=15))
    assert second.sent == 1
    assert deliver_due(factory, messenger, NOW + timedelta(minutes=5)).sent == 0
    (note,) = _posts(connector, f"a:chat-{TM}")
    assert f"Seen cannot reach the social worker S.W. (staff {world['sw']})" in note
    assert "Sam" not in note and "Worker" not in note
    assert "Setup policies" in note and "/teamwork/installedApps" in note
    with factory() as s:
        parked = s.scalars(select(AuditLog.detail).where(AuditLog.action == "outbox.parked")).all()
        assert sorted(d["key"] for d in parked) == [
            "C-1042:HI-VISIT-20WD:due",
            "C-1042:HI-VISIT-20WD:reminder",
        ]


def personal_installation(connector, aad: str) -> dict:
    """The app installed for a person (a setup policy, Graph, or they added it): Teams tells the
    bot in their new 1:1 chat."""
    message = personal_message(connector, aad)
    del message["text"]
    return {**message, "type": "installationUpdate", "id": f"f:install-{aad}", "action": "add"}


def test_once_the_app_is_installed_the_parked_messages_go(world, messenger, connector, factory, sender):
    """The app is installed for the worker: their two parked messages are released, audited, and
    delivered to their new 1:1 chat; the manager is not told again."""
    deliver_due(factory, messenger, NOW)
    deliver_due(factory, messenger, NOW + timedelta(seconds=15))
    assert sender.post(personal_installation(connector, SW)).status_code == 200
    with factory() as s:
        released = s.scalars(select(AuditLog.detail).where(AuditLog.action == "outbox.released")).all()
        assert len(released) == 2
    later = deliver_due(factory, messenger, NOW + timedelta(minutes=1))
    assert (later.sent, later.parked) == (2, 0)
    texts = _posts(connector, f"a:chat-{SW}")
    assert [t for t in texts if "home visit" in t] == [
        "C-1042 (AB): home visit reminder",
        "C-1042 (AB): home visit due",
    ]
    assert len(_posts(connector, f"a:chat-{TM}")) == 1
    with factory() as s:
        assert set(s.scalars(select(Outbox.status).where(Outbox.recipient_staff_id == world["sw"]))) == {
            "sent"
        }


def test_a_second_run_of_unreachability_tells_the_manager_again(world, messenger, connector, factory, sender):
    """Released, then removed again (the app uninstalled): the next parked message is a new run,
    and the manager hears of it once more."""
    deliver_due(factory, messenger, NOW)
    deliver_due(factory, messenger, NOW + timedelta(seconds=15))
    sender.post(personal_message(connector, SW, "help"))
    deliver_due(factory, messenger, NOW + timedelta(minutes=1))
    from bot.teams.conversations import forget_person

    forget_person(factory, SW)
    with factory.begin() as s:
        s.execute(
            insert(Outbox),
            [
                pending_row(
                    key="C-1042:HI-VISIT-20WD:overdue",
                    stage="overdue",
                    recipient_staff_id=world["sw"],
                    recipient_channel=None,
                    text="*C-1042* (AB): home visit overdue",
                    payload={"to": "lead social worker"},
                    now=NOW + timedelta(days=1),
                    late=False,
                )
            ],
        )
    assert deliver_due(factory, messenger, NOW + timedelta(days=1)).parked == 1
    deliver_due(factory, messenger, NOW + timedelta(days=1, seconds=15))
    assert len(_posts(connector, f"a:chat-{TM}")) == 2
