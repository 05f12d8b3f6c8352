"""The morning burst (issue 13): delivery sends to several conversations at once, but never two
messages at once to one conversation, each conversation's messages in claim order and no faster
than the messenger's per-conversation pace; Retry-After holds back only the conversation that got
it; nothing is sent twice, in-doubt rows are checked first. SQLite and PostgreSQL; the last test
runs the Slack messenger against the fake Web API with Slack's one-a-second limit."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.slack.messenger import SlackMessenger, make_client, outbox_locator
from scheduler.delivery import deliver_due
from scheduler.messenger import DeliveryError, OutgoingMessage
from scheduler.outbox import pending_row
from storage.models import Outbox, Staff, Team
from tests.bot.fake_slack import FakeSlack

NOW = datetime(2026, 12, 22, 8, 30, tzinfo=UTC)
TOKEN = "xoxb-test"


class Recording:
    """A messenger taking `max_in_flight` sends at once, each `pause` seconds long; it records
    when each send to each conversation started and ended."""

    def __init__(self, lanes: int, pause: float = 0.02, interval: float = 0.0) -> None:
        self.max_in_flight = lanes
        self.conversation_interval = interval
        self.pause = pause
        self.lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        self.busy: Counter[str] = Counter()
        self.most_at_once = 0
        self.most_at_once_to_one = 0
        self.spans: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        self.limited: dict[str, float] = {}  # conversation -> Retry-After for its first send
        self.found: set[str] = set()  # keys find_sent reports as already in their conversation

    def send(self, message: OutgoingMessage) -> str:
        to = message.to_channel or message.to_user or ""
        start = time.monotonic()
        with self.lock:
            self.busy[to] += 1
            self.most_at_once = max(self.most_at_once, sum(self.busy.values()))
            self.most_at_once_to_one = max(self.most_at_once_to_one, self.busy[to])
            retry_after = self.limited.pop(to, None)
        try:
            time.sleep(self.pause)
            if retry_after is not None:
                raise DeliveryError("rate limited", retry_after=retry_after)
            with self.lock:
                self.sent[message.key] += 1
            return f"ref:{message.key}"
        finally:
            with self.lock:
                self.busy[to] -= 1
                self.spans[to].append((start, time.monotonic(), message.key))

    def find_sent(self, key: str) -> str | None:
        return f"ref:{key}" if key in self.found else None


def write_burst(
    factory: sessionmaker[Session], conversations: int, each: int, now: datetime, seed: int | None = None
) -> dict[str, list[str]]:
    """`each` due rows to each of `conversations` staff (chat users U00000, U00001, ...), one to
    each in turn, or shuffled with `seed`; returns their keys by chat user, in claim order."""
    order = [(n, k) for n in range(each) for k in range(conversations)]
    if seed is not None:
        random.Random(seed).shuffle(order)
    with factory.begin() as s:
        s.execute(
            insert(Team), [{"id": 1, "name": "T", "slack_channel_id": "CT1", "policy_id": "hillingdon"}]
        )
        s.execute(
            insert(Staff),
            [
                {
                    "id": k + 1,
                    "name": f"S{k}",
                    "role": "social_worker",
                    "team_id": 1,
                    "chat_user_id": f"U{k:05d}",
                }
                for k in range(conversations)
            ],
        )
        s.execute(
            insert(Outbox),
            [
                pending_row(
                    key=f"burst:{k}:{n}",
                    stage="reminder",
                    recipient_staff_id=k + 1,
                    recipient_channel=None,
                    text=f"*Due today* · message {n}",
                    payload={"stage": "reminder", "to": f"social worker (staff {k + 1})", "rule": None},
                    now=now,
                    late=False,
                )
                for n, k in order
            ],
        )
    keys: dict[str, list[str]] = defaultdict(list)
    for n, k in order:
        keys[f"U{k:05d}"].append(f"burst:{k}:{n}")
    return keys


def _burst(factory: sessionmaker[Session], conversations: int, each: int) -> dict[str, list[str]]:
    return write_burst(factory, conversations, each, NOW)


def _statuses(factory: sessionmaker[Session]) -> Counter[str]:
    with factory() as s:
        return Counter(s.scalars(select(Outbox.status)))


def test_several_conversations_at_once_never_two_to_one_and_nothing_twice(factory) -> None:
    keys = _burst(factory, conversations=6, each=5)
    messenger = Recording(lanes=4)
    report = deliver_due(factory, messenger, NOW, batch=100)
    assert report.sent == 30 and report.deferred == 0
    assert _statuses(factory) == {"sent": 30}
    assert sorted(messenger.sent) == sorted(k for ks in keys.values() for k in ks)
    assert set(messenger.sent.values()) == {1}  # nothing twice
    assert messenger.most_at_once_to_one == 1  # never two at once to one conversation
    assert 1 < messenger.most_at_once <= 4  # but several conversations at once, within the bound
    for to, spans in messenger.spans.items():
        assert [key for _, _, key in sorted(spans)] == keys[to]  # in claim order


def test_one_conversations_messages_are_paced(factory) -> None:
    _burst(factory, conversations=2, each=3)
    messenger = Recording(lanes=4, pause=0.01, interval=0.2)
    assert deliver_due(factory, messenger, NOW).sent == 6
    for spans in messenger.spans.values():
        spans.sort()
        assert all(later[0] - earlier[1] >= 0.2 for earlier, later in pairwise(spans))


def test_retry_after_holds_back_only_that_conversation(factory) -> None:
    keys = _burst(factory, conversations=4, each=3)
    messenger = Recording(lanes=4)
    messenger.limited["U00001"] = 30  # Slack: 429, Retry-After 30, on U00001's first message
    report = deliver_due(factory, messenger, NOW)
    assert report.sent == 9 and report.retried == 1 and report.deferred == 2
    assert sorted(messenger.sent) == sorted(k for to, ks in keys.items() if to != "U00001" for k in ks)
    with factory() as s:
        held = {r.key: r for r in s.scalars(select(Outbox).where(Outbox.key.in_(keys["U00001"])))}
    first, *rest = keys["U00001"]
    assert held[first].attempts == 1 and held[first].next_attempt_at >= NOW + timedelta(seconds=30)
    for key in rest:  # not tried: no attempt counted, waiting as long as Slack asked
        assert held[key].status == "pending" and held[key].attempts == 0 and held[key].claimed_by is None
        assert held[key].next_attempt_at >= NOW + timedelta(seconds=30)
    assert deliver_due(factory, messenger, NOW + timedelta(seconds=29)).sent == 0  # still waiting
    assert deliver_due(factory, messenger, NOW + timedelta(seconds=31)).sent == 3
    assert set(messenger.sent.values()) == {1}


def test_in_doubt_rows_are_checked_not_sent_again(factory) -> None:
    keys = _burst(factory, conversations=3, each=2)
    doubtful = [ks[0] for ks in keys.values()]
    with factory.begin() as s:  # an earlier run died mid-send: claimed, the lease has run out
        s.execute(
            update(Outbox)
            .where(Outbox.key.in_(doubtful))
            .values(claimed_by="gone", claimed_until=NOW - timedelta(minutes=1), attempts=1)
        )
    messenger = Recording(lanes=3)
    messenger.found = set(doubtful[:2])  # two of them reached Slack before the process died
    assert deliver_due(factory, messenger, NOW).sent == 6
    assert sorted(messenger.sent) == sorted(k for ks in keys.values() for k in ks if k not in doubtful[:2])
    assert _statuses(factory) == {"sent": 6}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    server = FakeSlack(TOKEN).start()
    server.latency = 0.05
    server.channel_interval = 1.0  # Slack's limit on chat.postMessage: about one a second a conversation
    yield server
    server.stop()


def test_slack_burst_within_its_per_conversation_limit(factory, slack) -> None:
    keys = _burst(factory, conversations=4, each=3)
    messenger = SlackMessenger(make_client(TOKEN, slack.api_url), locate=outbox_locator(factory))
    report = deliver_due(factory, messenger, NOW)
    assert report.sent == 12
    assert len(slack.of("chat.postMessage")) == 12  # none refused for going too fast
    assert slack.overlaps == 0 and slack.duplicates() == []
    for to, ks in keys.items():
        posted = [m["metadata"]["event_payload"]["key"] for m in slack.messages("D" + to[1:])]
        assert posted == ks


def test_slack_retry_after_is_honoured_per_conversation(factory, slack) -> None:
    keys = _burst(factory, conversations=3, each=2)
    # U00001's first post, and the client's own retry of it after Retry-After, are rate-limited
    slack.fail_next(2, status=429, retry_after=1, methods={"chat.postMessage"}, channels={"D00001"})
    messenger = SlackMessenger(make_client(TOKEN, slack.api_url), locate=outbox_locator(factory))
    report = deliver_due(factory, messenger, NOW)
    assert report.retried == 1 and report.deferred == 1 and report.sent == 4
    with factory() as s:
        pending = {r.key: r for r in s.scalars(select(Outbox).where(Outbox.status == "pending"))}
    assert sorted(pending) == sorted(keys["U00001"])  # the other conversations went on
    assert all(r.next_attempt_at >= NOW + timedelta(seconds=1) for r in pending.values())
    assert slack.duplicates() == [] and slack.overlaps == 0
