"""Fuzz: `/seen` text. The pure parser over thousands of generated texts, and a few hundred of them
through the real Bolt app over HTTP (signed requests). Every text is answered with a clear
message (never a traceback, never a 5xx), and a refused one stores nothing (row counts of every
table before and after; a refusal only adds its own `slack.refused` audit row)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.parse import HELP, Child, Due, Help, Log, Note, ParseError, Record, Team, parse, visit_time
from tests.fuzz.conftest import snapshot
from tests.fuzz.strategies import EDGE_DATES, EDGE_TIMES, WEIRD_STRINGS, long_text
from tests.fuzz.tally import TALLY, fuzz_settings, looks_like_traceback, unchanged_but_refusal_audit

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)

COMMANDS = ["log", "record", "child", "note", "due", "team", "help", "LOG", "Note", "logs", "", "seen"]
WORDS = [
    "seen",
    "not-seen",
    "no-one-home",
    "SEEN",
    "alone",
    "not-alone",
    "bedroom",
    "no-bedroom",
    "awake",
    "not-awake",
    "at",
    "because",
    "not_seen",
    "alone,",
]
REFS = [
    "C-1042",
    "C-1043",
    "C-1044",
    "C-2001",
    "C-3001",
    "c-1042",
    "C-9999",
    "C-1042/1",
    "C_1",
    "-C",
    "." * 64,
    "A" * 65,
    "C-1042\u200b",
]
TOKENS = st.one_of(
    st.sampled_from(COMMANDS + WORDS + REFS + EDGE_DATES + EDGE_TIMES),
    st.sampled_from(WEIRD_STRINGS),
    st.text(max_size=12),
)
SEPARATORS = st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\u3000", " \r\n "])


KNOWN_REFS = ["C-1042", "C-1043", "C-1044", "C-2001", "C-3001", "c-1042"]


@st.composite
def grammatical(draw: st.DrawFn) -> str:
    """A command as the help says to write it (known children, past or future times), so that
    the work after the acknowledgement is fuzzed too, not only the parser's refusals."""
    name = draw(st.sampled_from(["log", "log", "log", "record", "child", "note", "due", "team"]))
    if name in ("due", "team"):
        return name
    words = [name, draw(st.sampled_from(KNOWN_REFS))]
    if name == "note":
        return " ".join(words) + " " + draw(st.sampled_from(WEIRD_STRINGS) | st.text(min_size=1, max_size=40))
    if name != "log":
        return " ".join(words)
    outcome = draw(st.sampled_from(["seen", "not-seen", "no-one-home"]))
    options = draw(
        st.lists(
            st.sampled_from(["alone", "not-alone", "bedroom", "no-bedroom", "awake", "not-awake", "at"]),
            unique_by=lambda w: w.removeprefix("not-").removeprefix("no-"),
            max_size=4,
        )
    )
    words.append(outcome)
    for option in options:
        words.append(option)
        if option == "at":
            day = draw(st.dates(date(2026, 10, 1), date(2026, 11, 24)))
            words += [day.isoformat(), f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"]
    if "not-alone" in options and draw(st.booleans()):
        words += ["because", draw(st.sampled_from(["asleep", "too young", "parent refused"]))]
    return " ".join(words)


@st.composite
def slash_text(draw: st.DrawFn) -> str:
    """Mostly command-shaped (so that generation reaches past the first word), sometimes noise."""
    shape = draw(st.integers(0, 11))
    if shape == 0:
        return draw(st.text(max_size=60))
    if shape == 1:
        return draw(long_text(100, 5000))
    if shape >= 9:
        return draw(grammatical())
    words = [draw(st.sampled_from(COMMANDS)), draw(st.sampled_from(REFS) | TOKENS)]
    if shape <= 5:  # a log with options, in any order and number
        words[0] = "log"
        words.append(draw(st.sampled_from(WORDS[:3]) | TOKENS))
        for _ in range(draw(st.integers(0, 5))):
            word = draw(st.sampled_from(WORDS) | TOKENS)
            words.append(word)
            if word == "at" and draw(st.booleans()):
                words += [draw(st.sampled_from(EDGE_DATES)), draw(st.sampled_from(EDGE_TIMES))]
    else:
        words += draw(st.lists(TOKENS, max_size=6))
    sep = draw(SEPARATORS)
    return draw(st.sampled_from(["", " ", "\n"])) + sep.join(words)


def _check_message(message: str) -> None:
    assert message.strip(), "an empty error message"
    assert not looks_like_traceback(message), message


@given(text=slash_text())
@fuzz_settings(2500)
def test_parser_answers_every_text_with_a_command_or_a_clear_message(text: str) -> None:
    """The pure parser (and `visit_time`, which refuses future visits): a command, or ParseError
    saying what to write; nothing else escapes."""
    traceback, accepted = False, True
    try:
        try:
            cmd = parse(text)
            if isinstance(cmd, Log):
                at = visit_time(cmd.at, LONDON, NOW)
                assert at <= NOW and at.tzinfo is not None
        except ParseError as exc:
            accepted = False
            _check_message(str(exc))
            return
        except Exception:
            traceback = True
            raise
        assert isinstance(cmd, Log | Record | Child | Note | Due | Team | Help)
    finally:
        TALLY.record("slash/parser", traceback=traceback, accepted=accepted)


USERS = ["U0SW", "U0SW", "U0SW", "U0TM", "U0SSW", "U0PM", "U0CHAIR", "U0HSW", "U0NOBODY", ""]


EDGE_COMMANDS = [
    "log C-1042 seen alone bedroom at 0001-01-01 00:00",
    "log C-1042 not-seen at 1899-12-31 23:59",
    "log C-1042 seen alone bedroom at 2026-11-23 11:00",
    "log C-1042 seen alone bedroom at 2026-11-23 11:01",
    "note C-1042 " + "x" * 40_000,
    "note C-1042 \x00",
]


def _edge_examples(test):
    for text in EDGE_COMMANDS:
        test = example(text=text, user="U0SW")(test)
    return test


@given(text=slash_text(), user=st.sampled_from(USERS))
@fuzz_settings(500)
@_edge_examples
def test_slash_command_over_http_is_answered_clearly_and_refusals_store_nothing(bot, text, user) -> None:
    text = text.encode("utf-8", "replace").decode("utf-8")  # Slack sends UTF-8: no lone surrogates
    before, refused_before = snapshot(bot.factory)
    answers = len(bot.fake.of("response_url"))
    reply = bot.slack.command(user, text)
    traceback = reply.status >= 500 or looks_like_traceback(reply.body)
    message = None
    try:
        assert reply.status == 200, (reply.status, reply.body)
        ack = reply.json() if reply.body else None
        if ack and ack.get("text"):
            message = ack["text"]  # a parse error or the help, in the acknowledgement
        else:
            # the work runs after the acknowledgement; its answer goes to the response_url
            calls = bot.fake.wait_for("response_url", count=answers + 1, timeout=15)
            message = calls[answers].body.get("text") or ""
        traceback |= looks_like_traceback(message)
        _check_message(message)
    except AssertionError:
        TALLY.record("slash/http", traceback=True)
        raise
    after, refused_after = snapshot(bot.factory)
    refused = message == HELP or message.startswith((":warning:", ":no_entry:"))
    partial = refused and not unchanged_but_refusal_audit(before, after, refused_after - refused_before)
    TALLY.record("slash/http", traceback=traceback, partial_write=partial, accepted=not refused)
    assert not traceback, message
    if refused:
        assert not partial, (text, before, after)
    else:
        # every action is in the audit log
        assert after["audit_log"] > before["audit_log"], (text, message)
