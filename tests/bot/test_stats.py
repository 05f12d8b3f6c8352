"""Issue 14, "In chat", against the fake Slack server: `/seen stats [team]` (who may ask, which
teams, an unknown team, someone not allowed) and the weekly timeliness post (each team's channel and
each practice manager once a week, through the outbox: a second run or a restart sends nothing
twice; Sunday nothing, Monday from 09:00, a bank holiday Monday on the Tuesday; CB-VISIT-10WD,
CB-SEEN-ALONE, CB-NOTSEEN-DISCUSS, CB-RECORD are the rules the four numbers count)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.core.access import UNKNOWN_STAFF
from bot.core.commands import NO_STATS
from bot.slack.messenger import SlackMessenger, file_name, make_client
from scheduler.report_chart import HEADLINE
from scheduler.weekly_report import LATE_NOTE, weekly_report_job
from storage.models import AuditLog, Outbox, Team
from tests.bot.conftest import TOKEN, runtime_for

PNG = b"\x89PNG\r\n\x1a\n"
WORDS = [words for _, words in HEADLINE]
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Mon 23 Nov 2026 09:00 London (GMT)


def _answer(running, n: int = 1) -> str:
    body = running.fake.wait_for("response_url", count=n)[n - 1].body
    assert body["response_type"] == "ephemeral"
    return body["text"]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _no_child(text: str) -> None:
    """Counts only: no case reference, no initials of the fixture's children."""
    assert "C-1" not in text and "C-2" not in text and "C-3" not in text
    assert not any(f"({i})" in text for i in ("AB", "CB", "DB", "EF", "GH"))


# -- /seen stats ----------------------------------------------------------------------------------
def test_a_team_member_gets_the_four_numbers_here_and_the_chart_in_a_direct_message(running):
    """CB-VISIT-10WD, CB-SEEN-ALONE, CB-NOTSEEN-DISCUSS, CB-RECORD: the four headline numbers of
    North CP this month; the chart uploaded with the files API, after its bytes, to the asker's DM."""
    running.slack.command("U0SW", "stats")
    text = _answer(running)
    assert text.startswith("*Timeliness of North CP* · 23 November 2026 11:00\nNovember 2026 so far:")
    for words in WORDS:
        assert f"• {words}: " in text
    # the three North CP children were each seen on 16 Nov, the two of 4 or over alone, and recorded at once
    assert "• children seen alone at their last visit: 2/2" in text
    assert "• records made in time: 3/3" in text
    # CB-VISIT-10WD: the first visit was due 10 working days after the plan began on 2 Nov: 16 Nov
    assert "• statutory visits on time (%): 100.0" in text
    assert "• not-seen discussions decided in time: 0/0" in text
    assert text.endswith("_The chart, with these numbers, is in your direct messages with Seen._")
    _no_child(text)
    methods = [c.method for c in running.fake.calls if c.method.startswith("files.") or c.method == "upload"]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [shared] = running.fake.files["D0SW"]
    assert _png_size(shared["data"]) == (800, 450)
    assert len(shared["data"]) < 16_000  # a palette PNG: small enough for a Teams card too
    assert shared["name"].startswith("seen-stats-") and shared["name"].endswith(".png")
    assert "North CP" in shared["alt_txt"] and "90% target" in shared["alt_txt"]
    assert shared["comment"].startswith("*Timeliness of North CP*")
    with running.factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "stats.viewed"))
        assert audit.actor_staff_id == running.world.ids["sw"] and audit.detail["teams"] == ["North CP"]


def test_a_team_manager_may_name_their_own_team_but_not_another(running):
    running.slack.command("U0TM", "stats north cp")  # the name in any case
    assert _answer(running, 1).startswith("*Timeliness of North CP*")
    running.slack.command("U0TM", "stats South CP")
    assert _answer(running, 2) == (
        ":warning: South CP is not your team, so Seen cannot show you its figures. Yours: North CP."
    )
    assert list(running.fake.files) == ["D0TM"] and len(running.fake.files["D0TM"]) == 1


def test_a_practice_manager_with_no_team_gets_every_team_in_one_answer_and_one_chart(running):
    running.slack.command("U0PM", "stats")
    text = _answer(running)
    assert text.startswith("*Timeliness of your teams*")
    for team in ("Hillingdon CP", "North CP", "South CP"):
        assert f"*{team}*, November 2026 so far:" in text
    assert text.count("• records made in time: ") == 3
    [shared] = running.fake.files["D0PM"]
    assert shared["alt_txt"].startswith("All teams: ")
    running.slack.command("U0PM", "stats South CP")
    assert _answer(running, 2).startswith("*Timeliness of South CP*")


def test_an_unknown_team_is_named_and_nothing_is_sent(running):
    running.slack.command("U0SW", "stats  Nowhere   Team ")
    said = _answer(running)
    assert said == ":warning: Seen has no team called 'Nowhere Team': check the name. Yours: North CP."
    assert running.fake.files == {} and running.fake.of("files.getUploadURLExternal") == []
    with running.factory() as s:
        refused = s.scalar(select(AuditLog).where(AuditLog.action == "slack.refused"))
        assert refused.detail["action"] == "/seen stats"


@pytest.mark.parametrize(
    ("user", "message"),
    [("U0NOBODY", UNKNOWN_STAFF), ("U0CHAIR", NO_STATS)],
    ids=["unknown person", "no team and not a senior manager"],
)
def test_someone_not_allowed_is_told_why_and_sees_no_figures(running, user, message):
    running.slack.command(user, "stats")
    assert _answer(running) == f":warning: {message}"
    assert running.fake.files == {}


def test_help_lists_stats(running):
    reply = running.slack.command("U0SW", "help")
    assert "`/seen stats [team]`" in reply.json()["text"]


# -- the weekly post -------------------------------------------------------------------------------
def _fast(runtime):
    runtime.messenger.conversation_interval = 0.0  # the fake sets no per-conversation limit
    return runtime


def _shares(running) -> dict[str, int]:
    return {channel: len(files) for channel, files in running.fake.files.items()}


EVERYONE = {"C0NORTH": 1, "C0SOUTH": 1, "C0HILL": 1, "D0PM": 1}


def test_the_weekly_post_goes_once_a_week_to_each_channel_and_practice_manager(running):
    """Monday 09:00 London: each team's channel and the practice manager (all teams) once; a second
    run, and a restart (a new runtime after the lease ran out), send nothing again."""
    runtime = _fast(runtime_for(running))
    assert weekly_report_job(runtime, MONDAY_0900.replace(minute=0, hour=8, second=59)) == 0
    assert weekly_report_job(runtime, MONDAY_0900) == 4
    assert _shares(running) == EVERYONE
    north = running.fake.files["C0NORTH"][0]
    assert north["name"] == "seen-report-team1-2026-W48.png"
    heading = "*Timeliness this week: North CP* · week 2026-W48\nNovember 2026 so far:"
    assert north["comment"].startswith(heading)
    assert LATE_NOTE not in north["comment"]
    _no_child(north["comment"])
    assert _png_size(north["data"]) == (800, 450)
    pm = running.fake.files["D0PM"][0]["comment"]
    assert pm.startswith("*Timeliness this week: your teams* · week 2026-W48")
    assert all(f"*{t}*, November 2026 so far:" in pm for t in ("Hillingdon CP", "North CP", "South CP"))
    assert weekly_report_job(runtime, MONDAY_0900.replace(minute=1)) == 0
    restarted = _fast(runtime_for(running))
    restarted.holder = "test-after-restart"
    assert weekly_report_job(restarted, MONDAY_0900.replace(hour=12)) == 0
    assert weekly_report_job(restarted, datetime(2026, 11, 29, 10, 0, tzinfo=UTC)) == 0  # Sunday
    assert _shares(running) == EVERYONE
    with running.factory() as s:
        assert s.scalars(select(Outbox.status).where(Outbox.stage == "weekly-report")).all() == ["sent"] * 4
    # the next Monday is the next week's
    assert weekly_report_job(restarted, datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) == 4
    assert _shares(running) == {k: 2 for k in EVERYONE}


def test_a_file_share_is_found_again_by_its_outbox_key(running):
    """A row in doubt (the process died after the upload) is not uploaded twice: the file's name
    comes from the outbox key, and the in-doubt check finds it."""
    runtime = _fast(runtime_for(running))
    weekly_report_job(runtime, MONDAY_0900)
    messenger = SlackMessenger(make_client(TOKEN, running.fake.api_url), locate=lambda key: (None, "C0NORTH"))
    assert file_name("report:team1:2026-W48") == "seen-report-team1-2026-W48.png"
    assert messenger.find_sent("report:team1:2026-W48") is not None
    assert messenger.find_sent("report:team1:2026-W49") is None


def test_sunday_sends_nothing_and_a_missed_monday_goes_on_tuesday_marked_late(running):
    runtime = _fast(runtime_for(running))
    assert weekly_report_job(runtime, datetime(2026, 11, 22, 10, 0, tzinfo=UTC)) == 0  # Sunday
    assert weekly_report_job(runtime, datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) == 4  # Seen down on Monday
    assert running.fake.files["C0NORTH"][0]["comment"].split("\n")[1] == LATE_NOTE


def test_a_monday_missed_and_the_tuesday_too_is_left_to_the_next_week(running):
    runtime = _fast(runtime_for(running))
    assert weekly_report_job(runtime, datetime(2026, 11, 25, 9, 0, tzinfo=UTC)) == 0  # Wednesday
    assert running.fake.files == {}


def test_a_bank_holiday_monday_posts_on_tuesday_at_the_same_time(running):
    """Mon 28 Dec 2026 is a bank holiday in England (Boxing Day's substitute): the post of week
    2026-W53 goes on Tue 29 Dec at 09:00, not marked late."""
    runtime = _fast(runtime_for(running))
    assert weekly_report_job(runtime, datetime(2026, 12, 28, 9, 30, tzinfo=UTC)) == 0
    assert weekly_report_job(runtime, datetime(2026, 12, 29, 8, 59, tzinfo=UTC)) == 0
    assert weekly_report_job(runtime, datetime(2026, 12, 29, 9, 0, tzinfo=UTC)) == 4
    north = running.fake.files["C0NORTH"][0]
    assert north["name"] == "seen-report-team1-2026-W53.png" and LATE_NOTE not in north["comment"]
    assert north["comment"].split("\n")[1] == "December 2026 so far:"


def test_a_team_without_a_channel_sends_its_post_to_its_team_managers(running):
    with running.factory.begin() as s:
        s.execute(update(Team).where(Team.name == "South CP").values(slack_channel_id=None))
    runtime = _fast(runtime_for(running))
    assert weekly_report_job(runtime, MONDAY_0900) == 4
    assert _shares(running) == {"C0NORTH": 1, "D0STM": 1, "C0HILL": 1, "D0PM": 1}
    assert running.fake.files["D0STM"][0]["comment"].startswith("*Timeliness this week: South CP*")


def test_the_console_messenger_says_an_image_is_attached():
    """`make run` without chat tokens prints the post and its chart's name and size, no bytes."""
    import io

    from scheduler.messenger import ConsoleMessenger, Image, OutgoingMessage, with_image

    out = io.StringIO()
    image = Image(PNG + b"\0" * 100, "North CP statutory visits on time 2026-11.png", "North CP: bars")
    payload = with_image({}, image)
    ConsoleMessenger(out).send(OutgoingMessage("report:team1:2026-W48", "*Timeliness*", payload=payload))
    said = "[image North CP statutory visits on time 2026-11.png, 108 bytes: North CP: bars]"
    assert said in out.getvalue()


def test_the_fake_refuses_completing_an_upload_whose_bytes_never_came(running):
    """The fake Slack is as strict as Slack: no filename or length, or a completion before the
    upload, is refused (so the tests above could fail)."""
    from slack_sdk.errors import SlackApiError

    client = make_client(TOKEN, running.fake.api_url)
    with pytest.raises(SlackApiError) as missing:
        client.api_call("files.getUploadURLExternal", params={"filename": "a.png"})
    assert missing.value.response["error"] == "invalid_arguments"
    got = client.files_getUploadURLExternal(filename="a.png", length=10)
    with pytest.raises(SlackApiError) as early:
        client.files_completeUploadExternal(files=[{"id": got["file_id"]}], channel_id="C0NORTH")
    assert early.value.response["error"] == "invalid_arguments"
    assert running.fake.files == {}
    running.fake.rejected.clear()  # provoked here, not Seen's


def test_a_channel_seen_is_not_in_parks_its_post_and_the_others_go(running):
    """not_in_channel from files.completeUploadExternal: that row is parked (visibly), not retried."""
    running.fake.bad_channels.add("C0SOUTH")
    runtime = _fast(runtime_for(running))
    assert weekly_report_job(runtime, MONDAY_0900) == 4
    assert _shares(running) == {"C0NORTH": 1, "C0HILL": 1, "D0PM": 1}
    with running.factory() as s:
        query = select(Outbox.key, Outbox.status).where(Outbox.stage == "weekly-report")
        status = dict(s.execute(query).all())
    assert status["report:team2:2026-W48"] == "parked"
    running.fake.rejected.clear()  # provoked here, not Seen's
