"""Replies in the thread of a reminder or prompt become case notes on that child (author and time,
confirmed by a reaction); edits and deletions are new facts; Slack's retries store once. App Home:
a worker's children by deadline; a manager's team, overdue first, with open prompts."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditLog, CaseNote
from tests.bot.conftest import runtime_for


def _prompt(running):
    running.slack.command("U0SW", "log C-1042 not-seen at 2026-11-23 10:30")
    running.fake.wait_for("response_url")
    runtime_for(running).tick(running.clock())
    return next(m for m in running.fake.messages("D0TM") if "CB-NOTSEEN-DISCUSS" in m["text"])


def _reply_event(prompt, ts: str, text: str, user: str = "U0TM", **extra) -> dict:
    return {
        "type": "message",
        "channel": "D0TM",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": prompt["ts"],
        "client_msg_id": f"client-{ts}",
        "event_ts": ts,
        **extra,
    }


def _notes(running) -> list[CaseNote]:
    with running.factory() as s:
        return list(s.scalars(select(CaseNote).order_by(CaseNote.id)))


def test_a_thread_reply_is_a_case_note_confirmed_by_a_reaction(running):
    prompt = _prompt(running)
    event = _reply_event(prompt, "1800000100.000200", "Discussed with SW: revisit Wednesday with duty worker")
    assert running.slack.event(event, "Ev1").status == 200
    reaction = running.fake.wait_for("reactions.add")[0].body
    assert (reaction["channel"], reaction["timestamp"], reaction["name"]) == (
        "D0TM",
        "1800000100.000200",
        "white_check_mark",
    )
    [note] = _notes(running)
    assert note.text == "Discussed with SW: revisit Wednesday with duty worker"
    assert (note.source, note.author_id, note.child_id) == (
        "slack_thread",
        running.world.ids["tm"],
        running.world.ids["C-1042"],
    )
    assert note.thread_ref == f"D0TM:{prompt['ts']}"
    assert note.at.timestamp() == 1800000100.0002


def test_slack_retries_store_the_reply_once(running):
    prompt = _prompt(running)
    event = _reply_event(prompt, "1800000100.000300", "Seen at school today per head teacher")
    running.slack.event(event, "Ev2")
    running.fake.wait_for("reactions.add")
    for n in (1, 2):
        reply = running.slack.event(
            event, "Ev2", headers={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"}
        )
        assert reply.status == 200
    import time

    time.sleep(0.5)
    assert len(_notes(running)) == 1


def test_edits_and_deletions_are_new_facts(running):
    prompt = _prompt(running)
    running.slack.event(_reply_event(prompt, "1800000100.000400", "Revisit Weds"), "Ev3")
    running.fake.wait_for("reactions.add")
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D0TM",
        "hidden": True,
        "ts": "1800000200.000100",
        "event_ts": "1800000200.000100",
        "message": {
            **_reply_event(prompt, "1800000100.000400", "Revisit Thurs (Weds not possible)"),
            "edited": {"user": "U0TM", "ts": "1800000200.000000"},
        },
        "previous_message": _reply_event(prompt, "1800000100.000400", "Revisit Weds"),
    }
    running.slack.event(edited, "Ev4")
    running.slack.event(edited, "Ev4", headers={"X-Slack-Retry-Num": "1"})
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": "D0TM",
        "hidden": True,
        "ts": "1800000300.000100",
        "event_ts": "1800000300.000100",
        "deleted_ts": "1800000100.000400",
        "previous_message": _reply_event(prompt, "1800000100.000400", "Revisit Thurs (Weds not possible)"),
    }
    running.slack.event(deleted, "Ev5")
    import time

    deadline = time.monotonic() + 5
    while len(_notes(running)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    first, edit, deletion = _notes(running)
    assert (first.text, first.supersedes_id, first.deleted) == ("Revisit Weds", None, False)
    assert (edit.text, edit.supersedes_id, edit.deleted) == (
        "Revisit Thurs (Weds not possible)",
        first.id,
        False,
    )
    assert (deletion.supersedes_id, deletion.deleted) == (edit.id, True)
    with running.factory() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.action.like("case_note.%"))))
    assert actions == ["case_note.added", "case_note.edited", "case_note.deleted"]


def _settled(running, count: int) -> list[CaseNote]:
    """The notes once `count` reactions were added and Slack's later events had time to land."""
    import time

    running.fake.wait_for("reactions.add", count=count)
    time.sleep(0.5)
    return _notes(running)


def test_a_link_preview_is_not_an_edit(running):
    """A reply holding a link: Slack's message_changed adding the preview (same text, not edited)
    keeps one version of the case note; a real edit after it is the second."""
    prompt = _prompt(running)
    text = "Plan shared: <https://example.org/plan|the plan>, review Friday"
    replies = running.slack.thread_reply(_reply_event(prompt, "1800000100.000910", text), "EvL1")
    assert [r.status for r in replies] == [200, 200]  # the message, then its preview
    [note] = _settled(running, 1)
    assert (note.text, note.supersedes_id) == (text, None)
    unchanged_edit = {  # marked edited, but the words are the same: still one version
        "type": "message",
        "subtype": "message_changed",
        "channel": "D0TM",
        "hidden": True,
        "ts": "1800000300.000100",
        "event_ts": "1800000300.000100",
        "message": {
            **_reply_event(prompt, "1800000100.000910", text),
            "edited": {"user": "U0TM", "ts": "1800000300.000000"},
        },
    }
    running.slack.event(unchanged_edit, "EvL2")
    real = {
        **unchanged_edit,
        "ts": "1800000400.000100",
        "event_ts": "1800000400.000100",
        "message": {
            **_reply_event(prompt, "1800000100.000910", text + " at 10:00"),
            "edited": {"user": "U0TM", "ts": "1800000400.000000"},
        },
        "previous_message": _reply_event(prompt, "1800000100.000910", text),
    }
    running.slack.event(real, "EvL3")
    import time

    deadline = time.monotonic() + 5
    while len(_notes(running)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    first, edit = _notes(running)
    assert (edit.text, edit.supersedes_id) == (text + " at 10:00", first.id)


def test_edits_of_the_thread_parent_and_of_bot_posts_are_not_notes(running):
    """Seen's own prompt updated in place (chat.update), a bot's message, Seen's own post in the
    thread: none is a case note, edited or not."""
    prompt = _prompt(running)
    parent_edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D0TM",
        "hidden": True,
        "ts": "1800000500.000100",
        "message": {
            "type": "message",
            "user": "U0TM",
            "text": "A prompt, edited",
            "ts": prompt["ts"],
            "thread_ts": prompt["ts"],
            "edited": {"user": "U0TM", "ts": "1800000500.000000"},
        },
        "previous_message": {"type": "message", "user": "U0TM", "text": "A prompt", "ts": prompt["ts"]},
    }
    running.slack.event(parent_edit, "EvP1")
    bot = {**_reply_event(prompt, "1800000100.000920", "by a bot", user="U0OTHER"), "subtype": "bot_message"}
    running.slack.event(bot, "EvP2")
    own = _reply_event(prompt, "1800000100.000930", "Seen's own words", user="U0BOT")
    running.slack.event(own, "EvP3")
    own_edit = {
        **parent_edit,
        "message": {**own, "text": "Seen's own words, updated", "edited": {"user": "U0BOT", "ts": "2"}},
        "previous_message": own,
    }
    running.slack.event(own_edit, "EvP4")
    import time

    time.sleep(0.7)
    assert _notes(running) == []


def test_messages_that_are_not_replies_to_seen_are_ignored(running):
    prompt = _prompt(running)
    running.slack.event({**_reply_event(prompt, "1800000100.000500", "hello"), "thread_ts": None}, "Ev6")
    running.slack.event({**_reply_event(prompt, "1800000100.000600", "x"), "thread_ts": "1.2"}, "Ev7")
    bot_reply = {**_reply_event(prompt, "1800000100.000700", "bot"), "bot_id": "B0001", "user": "U0BOT"}
    running.slack.event(bot_reply, "Ev8")
    import time

    time.sleep(0.5)
    assert _notes(running) == []


def test_a_reply_from_someone_unknown_is_not_kept(running):
    prompt = _prompt(running)
    running.slack.event(_reply_event(prompt, "1800000100.000800", "who am I", user="U0NOBODY"), "Ev9")
    ephemeral = running.fake.wait_for("chat.postEphemeral")[0].body
    assert ephemeral["user"] == "U0NOBODY" and "Ask an administrator" in ephemeral["text"]
    assert _notes(running) == []


def _home(running, user: str, event_id: str) -> dict:
    n = len(running.fake.of("views.publish")) + 1
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": "home",
        "event_ts": "1.1",
    }
    assert running.slack.event(event, event_id).status == 200
    call = running.fake.wait_for("views.publish", count=n)[n - 1].body
    assert call["user_id"] == user
    return call["view"]


def _texts(view: dict) -> str:
    out = []
    for b in view["blocks"]:
        if b["type"] in ("section", "header"):
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out.append(b["elements"][0]["text"])
    return "\n".join(out)


def test_app_home_for_a_worker_and_a_manager(running):
    _prompt(running)
    worker = _texts(_home(running, "U0SW", "EvH1"))
    assert worker.startswith("Your children\n*Your children by deadline*")
    assert "C-1042 (AB) [CB-RECORD] due Tue 24 Nov 2026 10:30" in worker
    assert "CB-NOTSEEN-DISCUSS" not in worker  # the manager's prompt is not the worker's to do
    manager = _texts(_home(running, "U0TM", "EvH2"))
    assert manager.startswith("Your team's children\n*Overdue* (0)")
    assert "*Open manager prompts* (1)" in manager
    assert "C-1042 (AB) [CB-NOTSEEN-DISCUSS] due Tue 24 Nov 2026 10:30" in manager
    assert "*not acknowledged*" in manager
    assert manager.index("*Overdue*") < manager.index("*Open manager prompts*") < manager.index("*Due next*")
    stranger = _texts(_home(running, "U0NOBODY", "EvH3"))
    assert "Ask an administrator" in stranger


def test_manager_home_shows_overdue_first(running):
    """CB-VISIT-10WD: on Wed 2 Dec the home visits due on Mon 30 Nov are overdue."""
    from datetime import UTC, datetime

    running.clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    view = _home(running, "U0TM", "EvH4")
    texts = _texts(view)
    overdue = texts[texts.index("*Overdue*") : texts.index("*Open manager prompts*")]
    assert "*Overdue* (3)" in overdue
    for ref in ("C-1042 (AB)", "C-1043 (CB)", "C-1044 (DB)"):
        assert f"{ref} [CB-VISIT-10WD] due Mon 30 Nov 2026 (overdue, lead social worker)" in overdue
    assert "C-2001" not in texts  # another team's child
