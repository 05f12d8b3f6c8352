"""The Slack messenger (the Messenger port on Slack) against the fake Web API: DMs and channel posts
with buttons and metadata, Slack's errors as retryable or not, and no second copy of a message whose
delivery was in doubt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.slack.messenger import SlackMessenger, make_client, outbox_locator
from scheduler.delivery import deliver_due
from scheduler.messenger import DeliveryError, OutgoingMessage
from storage.models import Outbox
from tests.bot.conftest import TOKEN

PAYLOAD = {
    "rule": "CB-NOTSEEN-DISCUSS",
    "child": "C-1042",
    "stage": "prompt",
    "owner": "team_manager",
    "obligation": "C-1042:CB-NOTSEEN-DISCUSS:team_manager:2026-11-23T10:30:00+00:00",
    "actions": ["Acknowledge", "Record decision"],
}


@pytest.fixture
def messenger(fake):
    return SlackMessenger(make_client(TOKEN, fake.api_url))


def test_direct_message_with_buttons_and_metadata(fake, messenger):
    ref = messenger.send(
        OutgoingMessage(key="k1", text="*Decision needed* · C-1042 (AB)", to_user="U0TM", payload=PAYLOAD)
    )
    assert ref == f"D0TM:{fake.messages('D0TM')[0]['ts']}"
    assert fake.of("conversations.open")[0].body["users"] == "U0TM"
    body = fake.of("chat.postMessage")[0].body
    assert body["channel"] == "D0TM"
    assert body["metadata"] == {"event_type": "seen_message", "event_payload": {"key": "k1"}}
    buttons = body["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["seen_ack", "seen_decide"]
    assert '"o":"C-1042:CB-NOTSEEN-DISCUSS:team_manager:2026-11-23T10:30:00+00:00"' in buttons[0]["value"]
    assert fake.of("chat.postMessage")[0].headers["authorization"] == f"Bearer {TOKEN}"
    # the DM channel is remembered
    messenger.send(OutgoingMessage(key="k2", text="again", to_user="U0TM"))
    assert len(fake.of("conversations.open")) == 1


def test_channel_post_without_buttons(fake, messenger):
    messenger.send(OutgoingMessage(key="duelist:team1:2026-11-23", text="*Due list*", to_channel="C0NORTH"))
    body = fake.of("chat.postMessage")[0].body
    assert body["channel"] == "C0NORTH" and "blocks" not in body


def test_rate_limited_is_retried_after_slack_says(fake, messenger):
    fake.fail_next(2, status=429, retry_after=0, methods={"chat.postMessage"})
    with pytest.raises(DeliveryError) as exc:
        messenger.send(OutgoingMessage(key="k", text="t", to_channel="C0NORTH"))
    assert exc.value.retryable and exc.value.retry_after == 0
    assert len(fake.of("chat.postMessage")) == 2  # the client retried once itself


def test_server_errors_are_retryable(fake, messenger):
    fake.fail_next(2, status=500, methods={"chat.postMessage"})
    with pytest.raises(DeliveryError) as exc:
        messenger.send(OutgoingMessage(key="k", text="t", to_channel="C0NORTH"))
    assert exc.value.retryable and "server error 500" in str(exc.value)
    fake.fail_next(1, status=500, methods={"chat.postMessage"})
    assert messenger.send(OutgoingMessage(key="k", text="t", to_channel="C0NORTH")).startswith("C0NORTH:")


def test_connection_failure_is_retryable():
    messenger = SlackMessenger(make_client(TOKEN, "http://127.0.0.1:9/api/", timeout=2))
    with pytest.raises(DeliveryError) as exc:
        messenger.send(OutgoingMessage(key="k", text="t", to_channel="C0NORTH"))
    assert exc.value.retryable


@pytest.mark.parametrize("error", ["channel_not_found", "invalid_auth"])
def test_permanent_errors_are_not_retryable(fake, messenger, error):
    if error == "channel_not_found":
        fake.bad_channels.add("CGONE")
    else:
        fake.errors["chat.postMessage"] = "invalid_auth"
    with pytest.raises(DeliveryError) as exc:
        messenger.send(OutgoingMessage(key="k", text="t", to_channel="CGONE"))
    assert not exc.value.retryable and error in str(exc.value)


def test_unknown_user_is_not_retryable(fake, messenger):
    fake.bad_users.add("U0GONE")
    with pytest.raises(DeliveryError) as exc:
        messenger.send(OutgoingMessage(key="k", text="t", to_user="U0GONE"))
    assert not exc.value.retryable and "user_not_found" in str(exc.value)


def _row(key: str, world, now: datetime, **kw) -> Outbox:
    return Outbox(
        key=key,
        child_id=world.ids["C-1042"],
        rule="CB-NOTSEEN-DISCUSS",
        stage="prompt",
        recipient_staff_id=world.ids["tm"],
        send_after=now,
        created_at=now,
        text="*Decision needed* · C-1042 (AB) · [CB-NOTSEEN-DISCUSS]",
        payload=PAYLOAD,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        **kw,
    )


def test_in_doubt_row_already_in_slack_is_not_sent_twice(fake, world):
    """A claim that ran out mid-send: the message is found by its metadata, not posted again."""
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    messenger = SlackMessenger(make_client(TOKEN, fake.api_url), locate=outbox_locator(world.factory))
    sent_ref = messenger.send(OutgoingMessage(key="kdoubt", text="x", to_user="U0TM", payload=PAYLOAD))
    with world.factory.begin() as s:
        s.add(_row("kdoubt", world, now, claimed_by="dead-process", claimed_until=now - timedelta(minutes=1)))
        s.add(_row("knew", world, now, claimed_by="dead-process", claimed_until=now - timedelta(minutes=1)))
    report = deliver_due(world.factory, messenger, now, worker="w2")
    assert report.sent == 2
    assert len(fake.of("chat.postMessage")) == 2  # the first send above, and "knew" once
    assert fake.of("conversations.history")[0].body["include_all_metadata"] in (True, "1", "true", 1)
    with world.factory() as s:
        refs = dict(s.execute(select(Outbox.key, Outbox.message_ref)).all())
    assert refs["kdoubt"] == sent_ref
    assert refs["knew"].startswith("D0TM:") and refs["knew"] != sent_ref


def test_in_doubt_check_reads_past_the_first_page_of_history(fake, world):
    """The message in doubt lies under 450 newer ones (a busy team channel, a day of reminders):
    the check reads the conversation page by page (200 a page) and finds it on the third, so it is
    not posted again. Beyond HISTORY_PAGES pages it would be sent again (a possible duplicate,
    never a lost message)."""
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    messenger = SlackMessenger(make_client(TOKEN, fake.api_url), locate=outbox_locator(world.factory))
    sent_ref = messenger.send(OutgoingMessage(key="kburied", text="x", to_user="U0TM", payload=PAYLOAD))
    for i in range(450):
        messenger.send(OutgoingMessage(key=f"knoise{i}", text="y", to_user="U0TM", payload=PAYLOAD))
    posts = len(fake.of("chat.postMessage"))
    with world.factory.begin() as s:
        s.add(
            _row("kburied", world, now, claimed_by="dead-process", claimed_until=now - timedelta(minutes=1))
        )
    report = deliver_due(world.factory, messenger, now, worker="w2")
    assert report.sent == 1 and len(fake.of("chat.postMessage")) == posts  # found, not posted
    pages = fake.of("conversations.history")
    assert len(pages) == 3 and [p.body.get("cursor") for p in pages] == [None, "200", "400"]
    with world.factory() as s:
        assert s.scalar(select(Outbox.message_ref).where(Outbox.key == "kburied")) == sent_ref


def test_delivery_retries_after_a_429_and_parks_a_missing_channel(fake, world):
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    messenger = SlackMessenger(make_client(TOKEN, fake.api_url), locate=outbox_locator(world.factory))
    with world.factory.begin() as s:
        s.add(_row("k429", world, now))
        s.add(_row("kgone", world, now, recipient_channel="CGONE"))
    with world.factory.begin() as s:
        s.execute(Outbox.__table__.update().where(Outbox.key == "kgone").values(recipient_staff_id=None))
    fake.bad_channels.add("CGONE")
    fake.fail_next(2, status=429, retry_after=2, methods={"chat.postMessage"})
    report = deliver_due(world.factory, messenger, now, worker="w")
    assert (report.sent, report.retried, report.parked) == (0, 1, 1)
    with world.factory() as s:
        rows = {r.key: r for r in s.scalars(select(Outbox))}
    assert rows["k429"].status == "pending" and rows["k429"].next_attempt_at == now + timedelta(seconds=2)
    assert rows["kgone"].status == "parked" and "channel_not_found" in rows["kgone"].last_error


def test_text_is_escaped_for_mrkdwn_in_the_text_and_the_blocks(fake, messenger):
    """The late-delivery summary's "`/seen child <case reference>`" and an "&" in a team's name
    reach Slack escaped, in the message's text and in its section: Slack shows them as written
    rather than reading a link. Mentions made by Seen stay mentions."""
    words = "*Sent late* for North & West: check with `/seen child <case reference>`."
    messenger.send(OutgoingMessage(key="k-esc", text=words, to_channel="C0NORTH", payload=PAYLOAD))
    body = fake.of("chat.postMessage")[0].body
    escaped = "*Sent late* for North &amp; West: check with `/seen child &lt;case reference&gt;`."
    assert body["text"] == escaped
    assert body["blocks"][0]["text"]["text"] == escaped
    assert fake.seen_faults() == []


def test_mentions_survive_escaping():
    from bot.slack.views import from_slack, mention, mrkdwn

    text = f"Acknowledged by {mention('U0TM')} for <C-1042> & co"
    assert mrkdwn(text) == "Acknowledged by <@U0TM> for &lt;C-1042&gt; &amp; co"
    assert from_slack(mrkdwn(text)) == text


def test_slacks_warning_is_logged(fake, messenger, caplog):
    """Slack takes a text over 40,000 characters, cuts it and says so only in `warning`: Seen logs
    it (nothing Seen builds is that long; this is the last line of defence)."""
    messenger.send(OutgoingMessage(key="k-long", text="x" * 40_001, to_channel="C0NORTH"))
    assert "Slack warned about message k-long: message_truncated" in caplog.text
    assert fake.seen_faults() == [("chat.postMessage", "message_truncated")]
    fake.rejected.clear()  # provoked here


def test_a_long_message_goes_in_parts_in_its_thread(fake, messenger):
    """A text longer than a section holds (a late summary listing 150 reminders): the first part
    with the buttons and the outbox key, the rest as replies in its thread, each within 3,000
    characters, every line once, in order."""
    lines = [
        f"• C-5{n:03d} (ZZ) [CB-VISIT-10WD]: the reminder meant for 08:30 went 11:00" for n in range(150)
    ]
    text = "\n".join(["*Sent late* · 150 reminders for North CP went out late:", *lines])
    ref = messenger.send(OutgoingMessage(key="k-many", text=text, to_channel="C0NORTH", payload=PAYLOAD))
    posted = fake.messages("C0NORTH")
    assert len(posted) > 1 and ref == f"C0NORTH:{posted[0]['ts']}"
    assert posted[0]["metadata"]["event_payload"]["key"] == "k-many"
    assert posted[0]["blocks"][-1]["type"] == "actions"
    assert all(m["thread_ts"] == posted[0]["ts"] for m in posted[1:])
    assert all(len(m["text"]) <= 3000 for m in posted)
    assert "\n".join(m["text"] for m in posted) == text
