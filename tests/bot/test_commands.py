"""`/seen` over HTTP: every sub-command, acknowledged at once, the answer ephemeral; mistakes and
refusals say exactly what was wrong and store nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditLog, CaseNote, Contact


def _answer(running, n: int = 1) -> str:
    calls = running.fake.wait_for("response_url", count=n)
    body = calls[n - 1].body
    assert body["response_type"] == "ephemeral"
    return body["text"]


def _count(running, table, **where) -> int:
    with running.factory() as s:
        q = select(func.count()).select_from(table)
        for k, v in where.items():
            q = q.where(getattr(table, k) == v)
        return s.scalar(q)


def test_help_is_answered_in_the_acknowledgement(running):
    reply = running.slack.command("U0SW", "help")
    assert reply.status == 200
    assert reply.json()["response_type"] == "ephemeral"
    assert "/seen log C-1042" in reply.json()["text"]


def test_bad_syntax_is_answered_in_the_acknowledgement_and_nothing_stored(running):
    reply = running.slack.command("U0SW", "log C-1042 seen at 21/12/2026 10:30")
    assert reply.json()["text"] == ":warning: time must be like 2026-12-21 10:30 (not '21/12/2026 10:30')"
    assert _count(running, Contact) == 5  # the fixture's visits only


def test_log_stores_the_outcome_and_opens_the_form_prefilled(running):
    """CB-NOTSEEN-DISCUSS, CB-RECORD: a not-seen visit is stored at once, the record is left to the form."""
    reply = running.slack.command("U0SW", "log C-1042 not-seen at 2026-11-23 10:30")
    assert reply.status == 200 and reply.body == ""
    text = _answer(running)
    assert text.startswith("Logged: C-1042 (AB), home visit (child not seen) on Mon 23 Nov 2026 10:30.")
    assert "[CB-NOTSEEN-DISCUSS] due Tue 24 Nov 2026 10:30" in text
    assert "[CB-RECORD] due Tue 24 Nov 2026 10:30" in text
    view = running.fake.wait_for("views.open")[0].body["view"]
    assert view["callback_id"] == "seen_visit_record"
    outcome = next(b for b in view["blocks"] if b.get("block_id") == "outcome__C-1042")
    assert outcome["element"]["initial_option"]["value"] == "not-seen"
    date_block = next(b for b in view["blocks"] if b.get("block_id") == "at_date")
    assert date_block["element"]["initial_date"] == "2026-11-23"
    with running.factory() as s:
        row = s.scalar(select(Contact).order_by(Contact.id.desc()))
        assert (row.child_seen, row.recorded_at, row.by_staff_id) == (False, None, running.world.ids["sw"])
        assert row.source_key.startswith("slack:log:")
        assert s.scalar(select(AuditLog.action).order_by(AuditLog.id.desc())) == "contact.recorded"


def test_log_seen_alone_with_bedroom(running):
    running.slack.command("U0SW", "log C-1042 seen alone bedroom at 2026-11-23 09:15")
    _answer(running)
    with running.factory() as s:
        row = s.scalar(select(Contact).order_by(Contact.id.desc()))
        assert (row.child_seen, row.seen_alone, row.bedroom_seen) == (True, "yes", True)


def test_log_mistakes_found_in_the_database_store_nothing(running):
    running.slack.command("U0SW", "log C-9999 seen")
    assert _answer(running, 1).startswith(":warning: unknown case reference C-9999")
    running.slack.command("U0SW", "log C-1042 seen at 2026-11-23 11:30")
    assert _answer(running, 2) == (
        ":warning: a visit cannot be in the future (2026-11-23 11:30 is after 2026-11-23 11:00)"
    )
    assert _count(running, Contact) == 5
    assert running.fake.of("views.open") == []
    assert _count(running, AuditLog, action="slack.refused") == 2


def test_worker_of_another_team_is_refused(running):
    """Who may do what: a worker logs visits only for children of their team."""
    running.slack.command("U0SSW", "log C-1042 seen alone bedroom")
    assert "only for children of your own team" in _answer(running)
    assert _count(running, Contact) == 5


def test_unknown_staff_are_told_to_ask_an_administrator(running):
    running.slack.command("U0STRANGER", "due")
    assert "Ask an administrator" in _answer(running)
    with running.factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "slack.refused"))
        assert audit.detail["chat_user_id"] == "U0STRANGER"


def test_record_opens_the_form_for_the_latest_unrecorded_visit(running):
    running.slack.command("U0SW", "log C-1042 no-one-home at 2026-11-23 08:00")
    _answer(running)
    running.slack.command("U0SW", "record C-1042")
    text = _answer(running, 2)
    assert text == (
        "Completing the record of the home visit (no one home) of C-1042 (AB) on Mon 23 Nov 2026 08:00."
    )
    view = running.fake.wait_for("views.open", count=2)[1].body["view"]
    outcome = next(b for b in view["blocks"] if b.get("block_id") == "outcome__C-1042")
    assert outcome["element"]["initial_option"]["value"] == "no-one-home"


def test_record_without_an_open_visit_starts_a_new_one(running):
    running.slack.command("U0SW", "record C-1043")
    assert _answer(running) == "Recording a new visit to C-1043 (CB)."
    running.fake.wait_for("views.open")


def test_due_lists_my_children_by_deadline(running):
    """CB-VISIT-10WD: the worker's children, by deadline, case references and initials only."""
    running.slack.command("U0SW", "due")
    text = _answer(running)
    assert text.startswith("*Your children by deadline* (3 children)")
    lines = [line for line in text.splitlines() if line.startswith("•")]
    assert lines[0].startswith("• C-1042 (AB) [CB-VISIT-10WD] due Mon 30 Nov 2026")
    assert all("Sam" not in line and "Worker" not in line for line in lines)
    assert _count(running, AuditLog, action="due_list.viewed") == 1


def test_due_for_someone_without_children(running):
    running.slack.command("U0TM", "due")
    assert "not the lead social worker of any child" in _answer(running)


def test_team_lists_the_team(running):
    running.slack.command("U0TM", "team")
    text = _answer(running)
    assert text.startswith("*Due list for North CP*")
    assert "C-1042 (AB)" in text and "C-2001" not in text


def test_child_explains_the_case(running):
    running.slack.command("U0SW", "log C-1042 not-seen at 2026-11-23 10:30")
    _answer(running)
    running.slack.command("U0SW", "child C-1042")
    text = _answer(running, 2)
    assert text.startswith("*C-1042 (AB)*")
    assert "[CB-NOTSEEN-DISCUSS] DUE, due 2026-11-24 10:30 GMT, for the team manager" in text
    assert (
        "*Open manager prompts*\n• [CB-NOTSEEN-DISCUSS] due Tue 24 Nov 2026 10:30: not yet acknowledged"
        in text
    )
    assert "*Last contacts*" in text and "(record not yet complete)" in text
    assert _count(running, AuditLog, action="case.viewed") == 1


def test_child_of_another_team_is_not_shown(running):
    running.slack.command("U0SSW", "child C-1042")
    assert "not a child of your team" in _answer(running)


def test_note_is_kept_in_the_database_only(running):
    running.slack.command("U0SW", "note C-1042 Mum rang to rearrange; school says attendance fine")
    assert _answer(running) == "Case note added to C-1042 (AB)."
    with running.factory() as s:
        note = s.scalar(select(CaseNote))
        assert note.text == "Mum rang to rearrange; school says attendance fine"
        assert (note.source, note.author_id) == ("command", running.world.ids["sw"])
        assert note.at == running.clock()
    # the note text never goes back to Slack
    assert all("Mum rang" not in str(c.body) for c in running.fake.calls)
