"""A person the chat platform cannot reach yet (`Unreachable`): their messages are parked, their
team managers told once per run of parked messages (not once per message), by role, initials and
staff id; `release` puts the parked messages back, due at once. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from scheduler.delivery import deliver_due
from scheduler.messenger import OutgoingMessage, Unreachable
from scheduler.outbox import pending_row
from scheduler.unreachable import initials, release
from storage.models import AuditLog, Outbox, Staff, Team

NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
HOW = "install the app for them"


class Platform:
    """Reaches everyone but the chat users in `away`."""

    def __init__(self, away: set[str]) -> None:
        self.away = away
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> str:
        if message.to_user in self.away:
            raise Unreachable("no conversation with them", how=HOW)
        self.sent.append(message)
        return f"ref:{message.key}"


def _team(factory, managers: int = 1) -> dict[str, int]:
    with factory.begin() as s:
        team = Team(name="North", policy_id="hillingdon", slack_channel_id="C-NORTH")
        s.add(team)
        s.flush()
        ids = {"team": team.id}
        people = [("sw", "Sam Worker", "social_worker")]
        people += [(f"tm{i}", f"Tina Manager{i}", "team_manager") for i in range(managers)]
        for key, name, role in people:
            staff = Staff(name=name, role=role, chat_user_id=f"chat-{key}", team_id=team.id)
            s.add(staff)
            s.flush()
            ids[key] = staff.id
    return ids


def _messages(factory, staff_id: int, stages: list[str], at: datetime = NOW) -> None:
    with factory.begin() as s:
        s.execute(
            insert(Outbox),
            [
                pending_row(
                    key=f"C-1042:HI-VISIT-20WD:{stage}",
                    stage=stage,
                    recipient_staff_id=staff_id,
                    recipient_channel=None,
                    text=f"C-1042 (AB) {stage}",
                    payload={},
                    now=at,
                    late=False,
                )
                for stage in stages
            ],
        )


def _notices(platform: Platform) -> list[OutgoingMessage]:
    return [m for m in platform.sent if m.key.startswith("unreachable:")]


def test_two_messages_park_and_tell_each_manager_once(factory):
    ids = _team(factory, managers=2)
    _messages(factory, ids["sw"], ["reminder", "due"])
    platform = Platform({"chat-sw"})
    assert deliver_due(factory, platform, NOW).parked == 2
    deliver_due(factory, platform, NOW + timedelta(seconds=15))
    notices = _notices(platform)
    assert sorted(m.to_user for m in notices) == ["chat-tm0", "chat-tm1"]
    assert all(
        m.text.startswith(f"*Seen cannot reach the social worker S.W. (staff {ids['sw']})*") for m in notices
    )
    assert all("Sam" not in m.text and f"Next: {HOW}" in m.text for m in notices)
    with factory() as s:
        rows = s.scalars(select(Outbox).where(Outbox.recipient_staff_id == ids["sw"])).all()
        assert {(r.status, r.last_error.startswith("unreachable: ")) for r in rows} == {("parked", True)}


def test_a_team_without_a_manager_hears_in_its_channel(factory):
    ids = _team(factory, managers=0)
    _messages(factory, ids["sw"], ["reminder"])
    platform = Platform({"chat-sw"})
    deliver_due(factory, platform, NOW)
    deliver_due(factory, platform, NOW + timedelta(seconds=15))
    (notice,) = _notices(platform)
    assert (notice.to_channel, notice.to_user) == ("C-NORTH", None)


def test_an_unreachable_manager_is_not_told_about_themselves_in_a_loop(factory):
    """The manager is unreachable too: their notice is parked and tells no one further."""
    ids = _team(factory)
    _messages(factory, ids["sw"], ["reminder"])
    platform = Platform({"chat-sw", "chat-tm0"})
    deliver_due(factory, platform, NOW)
    report = deliver_due(factory, platform, NOW + timedelta(seconds=15))
    assert report.parked == 1
    assert deliver_due(factory, platform, NOW + timedelta(seconds=30)).sent == 0
    with factory() as s:
        assert s.scalar(select(Outbox.stage).where(Outbox.recipient_staff_id == ids["tm0"])) == "unreachable"
        assert len(s.scalars(select(Outbox.key).where(Outbox.stage == "unreachable")).all()) == 1


def test_release_puts_them_back_due_at_once_and_a_later_run_tells_again(factory):
    ids = _team(factory)
    _messages(factory, ids["sw"], ["reminder", "due"])
    platform = Platform({"chat-sw"})
    deliver_due(factory, platform, NOW)
    deliver_due(factory, platform, NOW + timedelta(seconds=15))
    with factory.begin() as s:
        assert release(s, "chat-sw", NOW + timedelta(hours=2)) == 2
        assert release(s, "chat-nobody", NOW) == 0
    platform.away.clear()
    assert deliver_due(factory, platform, NOW + timedelta(minutes=1)).sent == 2  # due at send_after
    with factory() as s:
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "outbox.released")).all()) == 2
    platform.away.add("chat-sw")
    _messages(factory, ids["sw"], ["overdue"], NOW + timedelta(days=1))
    deliver_due(factory, platform, NOW + timedelta(days=1))
    deliver_due(factory, platform, NOW + timedelta(days=1, seconds=15))
    assert len(_notices(platform)) == 2


def test_a_failure_that_is_not_unreachable_is_not_released(factory):
    ids = _team(factory)
    _messages(factory, ids["sw"], ["reminder"])
    with factory.begin() as s:
        s.execute(update(Outbox).values(status="parked", last_error="slack: channel_not_found"))
        assert release(s, "chat-sw", NOW) == 0


def test_initials_of_a_staff_member():
    assert [initials(n) for n in ("Sam Worker", "anne-marie o'neil", "  X ")] == ["S.W.", "A.M.O.", "X."]
