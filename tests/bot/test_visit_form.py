"""The Record of a Child Protection Visit form (CB-RECORD, HI-RECORD-24H): valid submissions are
stored as facts (a correction of the quick entry, never an overwrite), invalid ones get per-field
errors and store nothing, a retried submission stores once; siblings get an outcome each."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from storage.models import AuditLog, Child, Contact
from tests.bot.conftest import clock_time, day, radio, text, tick, view_state
from tests.bot.conftest import select as choose
from tests.storage.conftest import count_rows


def _open_form(running, command: str, user: str = "U0SW") -> dict:
    """The form a command opened, once the command's work is done (it answers last)."""
    n = len(running.fake.of("views.open")) + 1
    answers = len(running.fake.of("response_url")) + 1
    running.slack.command(user, command)
    running.fake.wait_for("response_url", count=answers)
    return running.fake.wait_for("views.open", count=n)[n - 1].body["view"]


def _values(ref: str = "C-1042", **extra) -> dict:
    values = {
        "at_date": day("2026-11-23"),
        "at_time": clock_time("10:30"),
        "kind": choose("home_visit"),
        "present": text("Mother, child, mother's partner"),
        f"outcome__{ref}": radio("seen"),
        f"alone__{ref}": choose("yes"),
        f"spoken__{ref}": radio("yes"),
        f"bedroom__{ref}": radio("yes"),
        f"presentation__{ref}": text("Chatty, clean, appropriately dressed"),
        f"wishes__{ref}": text("I like my new school"),
        "observations": text("No change to the identified risks"),
        "family": text("Mother working part time"),
        "new_adults": text("None"),
        "sleeping": text("Own room, bed made"),
    }
    values.update(extra)
    return values


def _contacts(running, ref: str = "C-1042") -> list[Contact]:
    with running.factory() as s:
        child = s.scalar(select(Child).where(Child.case_ref == ref))
        return list(s.scalars(select(Contact).where(Contact.child_id == child.id).order_by(Contact.id)))


def test_valid_record_corrects_the_logged_visit(running):
    """CB-RECORD: the form completes the visit logged with /seen log, as a new fact."""
    view = _open_form(running, "log C-1042 seen at 2026-11-23 10:30")
    reply = running.slack.submit("U0SW", view, _values(), "V-visit-1")
    assert reply.status == 200 and reply.body == ""
    quick, full = _contacts(running)[-2:]
    assert full.correction_of_id == quick.id and quick.recorded_at is None
    assert (full.child_seen, full.seen_alone, full.bedroom_seen) == (True, "yes", True)
    assert full.recorded_at == running.clock()
    assert full.present == "Mother, child, mother's partner"
    assert full.wishes_feelings == "I like my new school"
    assert full.source_key == "slack:view:V-visit-1:C-1042"
    confirmation = running.fake.wait_for("chat.postMessage")[0].body
    assert confirmation["channel"] == "U0SW"
    assert confirmation["text"].startswith(
        "Visit record saved:\n• C-1042 (AB): home visit (child seen) on Mon 23 Nov"
    )
    assert "new school" not in confirmation["text"]


def test_retried_submission_stores_once(running):
    view = _open_form(running, "record C-1043")
    values = _values("C-1043")
    assert running.slack.submit("U0SW", view, values, "V-visit-2").status == 200
    assert running.slack.submit("U0SW", view, values, "V-visit-2").status == 200
    assert len(_contacts(running, "C-1043")) == 2  # the fixture's visit and this one


def test_invalid_record_gets_an_error_per_field_and_stores_nothing(running):
    """CB-SEEN-ALONE, CB-BABY-AWAKE, CB-NEW-INJURY: what the record must say, said per field."""
    view = _open_form(running, "record C-1044")
    values = _values(
        "C-1044",
        at_time=clock_time("11:45"),
        **{"alone__C-1044": choose("no"), "new_injury": tick()},
    )
    del values["bedroom__C-1044"]
    reply = running.slack.submit("U0SW", view, values, "V-visit-3")
    assert reply.status == 200
    assert reply.json() == {
        "response_action": "errors",
        "errors": {
            "at_date": "a visit cannot be in the future (2026-11-23 11:45 is after 2026-11-23 11:00)",
            "incident": "Describe the new incident or injury",
            "alone_reason__C-1044": "Say why the child was not seen alone",
            "bedroom__C-1044": "Say whether the child's bedroom was seen",
            "awake__C-1044": "Say whether the baby was seen awake",
        },
    }
    assert len(_contacts(running, "C-1044")) == 1


def test_not_seen_cannot_be_seen_alone(running):
    view = _open_form(running, "record C-1042")
    values = _values(**{"outcome__C-1042": radio("not-seen")})
    reply = running.slack.submit("U0SW", view, values, "V-visit-4")
    assert reply.json()["errors"] == {
        "alone__C-1042": "The child was not seen, so cannot have been seen alone"
    }


def test_no_one_home_asks_for_the_note_hillingdon(running):
    """HI-NOONE-NOTE: no one in: a note left, or the reason why not, is part of the record."""
    view = _open_form(running, "log C-3001 no-one-home at 2026-11-23 09:00", user="U0HSW")
    assert any(b.get("block_id") == "note_left" for b in view["blocks"])
    values = {
        "at_date": day("2026-11-23"),
        "at_time": clock_time("09:00"),
        "outcome__C-3001": radio("no-one-home"),
        "note_left": radio("no"),
    }
    reply = running.slack.submit("U0HSW", view, values, "V-visit-5")
    assert reply.json()["errors"] == {"note_reason": "Say why no note was left (HI-NOONE-NOTE)"}
    values["note_reason"] = text("Domestic abuse: a note could alert the partner")
    assert running.slack.submit("U0HSW", view, values, "V-visit-5").body == ""
    row = _contacts(running, "C-3001")[-1]
    assert (row.no_one_home, row.note_left, row.note_not_left_reason) == (
        True,
        False,
        "Domestic abuse: a note could alert the partner",
    )


def _choose_siblings(view: dict, view_id: str, refs: list[str]) -> dict:
    """What Slack sends when the worker changes the form's sibling selection to `refs`."""
    selected = [{"value": ref} for ref in refs]
    return {
        "type": "block_actions",
        "user": {"id": "U0SW"},
        "trigger_id": f"trig.{view_id}",
        "container": {"type": "view", "view_id": view_id},
        "view": {
            **view,
            "id": view_id,
            "hash": "h1",
            "state": {
                "values": view_state(
                    view,
                    {
                        "siblings": {
                            "seen_siblings": {"type": "multi_static_select", "selected_options": selected}
                        }
                    },
                )
            },
        },
        "actions": [{"action_id": "seen_siblings", "block_id": "siblings", "type": "multi_static_select"}],
    }


def test_a_family_visit_records_an_outcome_per_child(running):
    """Each child is tracked on their own: one visit, one contact per child, one visit group."""
    view = _open_form(running, "record C-1042")
    siblings = next(b for b in view["blocks"] if b.get("block_id") == "siblings")
    assert [o["value"] for o in siblings["element"]["options"]] == ["C-1043", "C-1044"]
    # choosing siblings redraws the form with a section for each
    payload = _choose_siblings(view, "V-fam", ["C-1044"])
    assert running.slack.interaction(payload).status == 200
    updated = running.fake.wait_for("views.update")[0].body
    assert updated["view_id"] == "V-fam"
    family_view = updated["view"]
    assert any(b.get("block_id") == "awake__C-1044" for b in family_view["blocks"])
    values = _values(
        **{
            "outcome__C-1044": radio("not-seen"),
        }
    )
    reply = running.slack.submit("U0SW", family_view, values, "V-fam")
    assert reply.body == "", reply.body
    a, b = _contacts(running, "C-1042")[-1], _contacts(running, "C-1044")[-1]
    assert a.visit_group is not None and a.visit_group == b.visit_group
    assert (a.child_seen, b.child_seen) == (True, False)


def test_submission_by_someone_outside_the_team_is_refused(running):
    view = _open_form(running, "record C-1042")
    reply = running.slack.submit("U0SSW", view, _values(), "V-visit-6")
    assert "only for children of your own team" in reply.json()["errors"]["outcome__C-1042"]
    with running.factory() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 5


@pytest.mark.parametrize(
    "metadata",
    [
        "not json",
        "[1, 2]",
        '{"c": 42}',
        '{"c": "C-2001"}',  # another team's child
        '{"c": "C-1042", "x": "one"}',
        "OTHER_CONTACT",  # a contact of another child of the same team
    ],
)
def test_a_garbled_or_forged_form_redraw_changes_nothing(running, metadata):
    """Choosing siblings on a form whose private metadata is not what Seen wrote: the form is not
    redrawn (nothing of another child shows), the refusal is audited, no traceback."""
    view = _open_form(running, "record C-1042")
    if metadata == "OTHER_CONTACT":
        with running.factory() as s:
            other = s.scalar(
                select(Contact.id).join(Child, Child.id == Contact.child_id).where(Child.case_ref == "C-1043")
            )
        metadata = json.dumps({"c": "C-1042", "x": other})
    payload = _choose_siblings({**view, "private_metadata": metadata}, "V-forged", [])
    with running.factory() as s:
        before = count_rows(s)
    assert running.slack.interaction(payload).status == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with running.factory() as s:
            refused = s.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "slack.refused")
            )
        if refused:
            break
        time.sleep(0.02)
    assert refused == 1
    assert running.fake.of("views.update") == []
    with running.factory() as s:
        after = count_rows(s)
    assert {t: n for t, n in after.items() if n != before[t]} == {"audit_log": before["audit_log"] + 1}
