"""Fuzz: the view_submission payloads of the visit record form (CB-RECORD, HI-RECORD-24H) and the
decision form (CB-NOTSEEN-DISCUSS, CB-20CD-LSW, CB-30WD-ANY, CB-FREQ-CHANGE): values missing,
odd, oversized or of the wrong type, unknown children, future and impossible times, bad block ids,
tampered private metadata. The pure readers (bot.slack.forms) over thousands of payloads; a few hundred
through the real Bolt app over HTTP. Every submission is stored whole or answered with per-field
errors that Slack can show (block ids of the form, plain messages) and stores nothing."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.slack import forms, views
from scheduler.policies import load_policy
from storage.facts import FactError, check_new_contact
from tests.bot.conftest import clock_time, day, radio, text, tick
from tests.bot.conftest import select as choose
from tests.fuzz.conftest import snapshot
from tests.fuzz.strategies import EDGE_DATES, EDGE_TIMES, ODD_JSON, WEIRD_STRINGS, mutated_json
from tests.fuzz.tally import TALLY, fuzz_settings, looks_like_traceback, unchanged_but_refusal_audit

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def visit_values(refs: list[str], babies: tuple[str, ...] = ("C-1044",)) -> dict[str, Any]:
    values: dict[str, Any] = {
        "at_date": day("2026-11-23"),
        "at_time": clock_time("10:30"),
        "kind": choose("home_visit"),
        "present": text("Mother, child"),
        "observations": text("No change to the identified risks"),
        "family": text("Mother working part time"),
        "new_adults": text("None"),
        "sleeping": text("Own room"),
    }
    for ref in refs:
        values |= {
            f"outcome__{ref}": radio("seen"),
            f"alone__{ref}": choose("yes"),
            f"spoken__{ref}": radio("yes"),
            f"bedroom__{ref}": radio("yes"),
            f"presentation__{ref}": text("Chatty"),
            f"wishes__{ref}": text("I like my school"),
        }
        if ref in babies:
            values[f"awake__{ref}"] = radio("yes")
    return values


# Values worth trying besides odd ones: real answers in the wrong place, bad dates and times.
PLAUSIBLE = [
    radio("seen"),
    radio("not-seen"),
    radio("no-one-home"),
    radio("maybe"),
    choose("no"),
    choose("not_applicable"),
    choose("school_visit"),
    choose("office"),
    choose("spaceship"),
    text(""),
    text("   "),
    text("x" * 5000),
    tick(),
    tick(False),
    {"v": {"type": "checkboxes", "selected_options": "yes"}},
    {"v": {"type": "radio_buttons", "selected_option": None}},
    {"v": {"type": "radio_buttons", "selected_option": {"value": ["seen"]}}},
    {"v": {"type": "static_select", "selected_option": {"value": 3}}},
    {"v": None},
    {"w": radio("seen")["v"]},
    *[day(d) for d in EDGE_DATES],
    *[clock_time(t) for t in EDGE_TIMES],
    {"v": {"type": "datepicker", "selected_date": 20261123}},
    {"v": {"type": "timepicker", "selected_time": ["10:30"]}},
]
BABY = ("C-1044",)


@st.composite
def visit_payload(draw: st.DrawFn) -> tuple[list[str], dict[str, Any]]:
    refs = draw(st.sampled_from([["C-1042"], ["C-1044"], ["C-1042", "C-1044"], ["C-1042", "C-1043"]]))
    values = visit_values(refs)
    if draw(st.integers(0, 9)) == 0:
        return refs, draw(ODD_JSON)  # not even a mapping of blocks
    return refs, draw(mutated_json(values, max_mutations=4, extra=PLAUSIBLE))


def _clean(message: Any) -> bool:
    return isinstance(message, str) and bool(message.strip()) and not looks_like_traceback(message)


@given(payload=visit_payload(), note_rule=st.sampled_from([None, "HI-NOONE-NOTE"]))
@fuzz_settings(1200)
def test_visit_reader_returns_contacts_or_field_errors(payload, note_rule) -> None:
    refs, values = payload
    metas = [forms.ChildMeta(ref, ref in BABY, "lead_social_worker") for ref in refs]
    traceback, accepted = False, True
    try:
        try:
            entries = forms.read_visit(values, metas, tz=LONDON, now=NOW, qualified=True, note_rule=note_rule)
        except forms.FormErrors as exc:
            accepted = False
            assert exc.errors and all(isinstance(k, str) and _clean(v) for k, v in exc.errors.items())
            return
        except Exception:
            traceback = True
            raise
        assert [e.ref for e in entries] == refs
        for entry in entries:
            assert entry.contact.at <= NOW
            try:
                check_new_contact(entry.contact)  # the app checks again before writing
            except FactError as exc:
                assert _clean(str(exc))
    finally:
        TALLY.record("forms/visit-reader", traceback=traceback, accepted=accepted)


DECISION_PLAUSIBLE = [
    radio("further_visit"),
    radio("emergency_action"),
    radio("chair_notified"),
    radio("interval_changed"),
    radio("written_agreement"),
    radio("nonsense"),
    choose("0"),
    choose("-3"),
    choose("6"),
    choose("99999999999999999999999"),
    choose("٣"),
    choose(" 3 "),
    choose("3.0"),
    text("x" * 5000),
]
# (policy, rule, owner) of the prompts a decision form is opened for
DECISION_RULES = [
    ("central-bedfordshire", "CB-NOTSEEN-DISCUSS", "team_manager"),
    ("central-bedfordshire", "CB-NOTSEEN-AGAIN", "team_manager"),
    ("central-bedfordshire", "CB-20CD-LSW", "team_manager"),
    ("central-bedfordshire", "CB-30WD-ANY", "team_manager"),
    ("central-bedfordshire", "CB-30WD-ANY", "cp_chair"),
    ("central-bedfordshire", "CB-FREQ-CHANGE", "cp_chair"),
    ("central-bedfordshire", "CB-ACCESS", "practice_manager"),
    ("hillingdon", "HI-NOTSEEN-REVISIT", "team_manager"),
    ("hillingdon", "HI-SEEN-ALONE", "team_manager"),
    ("hillingdon", "NO-SUCH-RULE", "team_manager"),
]


@st.composite
def decision_values(draw: st.DrawFn) -> dict[str, Any]:
    base = {
        "outcome": radio(draw(st.sampled_from(["further_visit", "emergency_action", "chair_notified"]))),
        "days": choose(draw(st.sampled_from(["1", "3", "5"]))),
        "informed": text("lead social worker"),
        "note": text("Revisit with the duty worker"),
    }
    if draw(st.integers(0, 9)) == 0:
        return draw(ODD_JSON)
    return draw(mutated_json(base, max_mutations=3, extra=DECISION_PLAUSIBLE))


@given(values=decision_values(), which=st.sampled_from(DECISION_RULES))
@fuzz_settings(1000)
def test_decision_reader_returns_a_decision_or_field_errors(values, which) -> None:
    policy_id, rule, owner = which
    choices = forms.decision_choices(load_policy(policy_id), rule, owner)
    traceback, accepted = False, True
    try:
        try:
            entry = forms.read_decision(values, choices)
        except forms.FormErrors as exc:
            accepted = False
            assert exc.errors and set(exc.errors) <= {"outcome", "days"}
            assert all(_clean(v) for v in exc.errors.values())
            return
        except Exception:
            traceback = True
            raise
        assert entry.outcome in choices.outcomes
        if entry.outcome in forms.WITH_DAYS:
            assert entry.within_working_days is not None and entry.within_working_days >= 1
            if choices.max_days is not None:
                assert entry.within_working_days <= choices.max_days
        else:
            assert entry.within_working_days is None
    finally:
        TALLY.record("forms/decision-reader", traceback=traceback, accepted=accepted)


# -- over HTTP -----------------------------------------------------------------------------------
_views = itertools.count(1)
GENUINE_META = [
    {"c": "C-1042", "s": [], "x": None},
    {"c": "C-1042", "s": ["C-1044"], "x": None},
    {"c": "C-1044", "s": [], "x": None},
    {"c": "C-1042", "s": ["C-1043"], "x": 1},  # completes the fixture's visit to C-1042
]
ODD_META = [
    {"c": "C-9999", "s": [], "x": None},  # an unknown child
    {"c": "C-2001", "s": [], "x": None},  # another team's child
    {"c": "C-1042", "s": ["C-2001"], "x": None},  # a sibling from another team
    {"c": "C-1042", "s": ["C-1042"], "x": None},  # the child twice
    {"c": "C-1042", "s": [], "x": 4},  # a contact of another child
    {"c": "C-1042", "s": [], "x": 999999},
    {"c": "C-1042", "s": [], "x": "abc"},
    {"c": "C-1042", "s": "C-1044", "x": None},
    {"c": "C-1042", "s": 7, "x": None},
    {"c": 1042, "s": [], "x": None},
    {"c": ["C-1042"], "s": [], "x": None},
    {"c": {"ref": "C-1042"}},
    {"s": []},
    {},
]
USERS = ["U0SW", "U0SW", "U0SW", "U0SW", "U0SSW", "U0TM", "U0NOBODY"]


def _form_view(meta: dict[str, Any], refs: list[str]) -> dict[str, Any]:
    form = views.VisitForm(
        children=[views.ChildRow(ref, "AB", baby=ref in BABY) for ref in refs],
        at=datetime(2026, 11, 23, 10, 30, tzinfo=UTC).replace(tzinfo=None),  # local wall time
        metadata=meta,
    )
    return views.visit_modal(form)


def _block_ids(view: dict[str, Any]) -> set[str]:
    return {b["block_id"] for b in view["blocks"] if "block_id" in b}


@st.composite
def visit_submission(draw: st.DrawFn) -> tuple[list[str], str, Any, bool]:
    """(refs, private_metadata, values, genuine): the children of a form as the app built it, its
    metadata, and the values a user (or a forger holding the signing secret) sent back."""
    genuine = draw(st.integers(0, 3)) > 0
    if genuine:
        meta = draw(st.sampled_from(GENUINE_META))
        private = json.dumps(meta)
    else:
        meta = draw(st.sampled_from([*ODD_META, *GENUINE_META]))
        private = draw(
            st.one_of(
                st.sampled_from([json.dumps(m) for m in ODD_META]),
                mutated_json(meta).map(json.dumps),
                st.sampled_from(["", "{", "null", "[]", '"C-1042"', "1e999", "[" * 5000]),
                st.sampled_from(WEIRD_STRINGS),
            )
        )
    c = meta.get("c") if isinstance(meta, dict) else None
    s = meta.get("s") if isinstance(meta, dict) else None
    refs = ([c] if isinstance(c, str) else ["C-1042"]) + [r for r in (s if isinstance(s, list) else []) if r]
    refs = [str(r) for r in refs]
    values = visit_values(refs)
    if draw(st.integers(0, 4)) > 0:
        values = draw(mutated_json(values, max_mutations=3, extra=PLAUSIBLE))
    return refs, private, values, genuine


def _submit(bot: Any, user: str, view: dict[str, Any], private: str, values: Any) -> Any:
    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": "T0001"},
        "trigger_id": f"trig.fuzz.{next(_views)}",
        "view": {
            **view,
            "private_metadata": private,
            "id": f"V-fuzz-{next(_views)}",
            "state": {"values": values},
        },
    }
    return bot.slack.interaction(payload)


def _answer(reply: Any) -> tuple[bool, dict[str, str] | None]:
    """(traceback, errors): errors None means the submission was accepted (an empty 200)."""
    if reply.status >= 500 or looks_like_traceback(reply.body):
        return True, None
    assert reply.status == 200, (reply.status, reply.body)
    if reply.body == "":
        return False, None
    answer = reply.json()
    assert answer["response_action"] == "errors", answer
    errors = answer["errors"]
    assert isinstance(errors, dict) and errors
    return any(looks_like_traceback(v) for v in errors.values()), errors


def _submit_whole_or_nothing(
    bot: Any, test: str, user: str, view: dict[str, Any], private: str, values: Any
) -> tuple[dict[str, int], dict[str, int], dict[str, str] | None]:
    """Submits the form over HTTP and checks what every submission must do: no traceback, and when
    refused no write but the refusal's audit row. Tallied under `test`; (rows per table before,
    rows per table after, errors), errors None when the submission was accepted."""
    before, refused_before = snapshot(bot.factory)
    reply = _submit(bot, user, view, private, values)
    traceback, errors = _answer(reply)
    after, refused_after = snapshot(bot.factory)
    partial = errors is not None and not unchanged_but_refusal_audit(
        before, after, refused_after - refused_before
    )
    TALLY.record(test, traceback=traceback, partial_write=partial, accepted=errors is None)
    assert not traceback, (reply.status, reply.body)
    assert not partial, (errors, before, after)
    return before, after, errors


@given(submission=visit_submission(), user=st.sampled_from(USERS))
@fuzz_settings(400)
def test_visit_form_over_http_stores_the_whole_record_or_nothing(bot, submission, user) -> None:
    refs, private, values, genuine = submission
    view = _form_view({}, refs)
    before, after, errors = _submit_whole_or_nothing(bot, "forms/visit-http", user, view, private, values)
    if errors is None:
        assert after["contacts"] > before["contacts"] and after["audit_log"] > before["audit_log"]
    else:
        assert all(_clean(v) for v in errors.values()), errors
        if genuine:  # Slack shows an error only under a block of the form
            assert set(errors) <= _block_ids(view), errors


DECISION_META = [
    (
        {
            "o": "C-1042:CB-NOTSEEN-DISCUSS:team_manager:x",
            "r": "CB-NOTSEEN-DISCUSS",
            "c": "C-1042",
            "w": "team_manager",
        }
    ),
    ({"o": "C-1042:CB-20CD-LSW:team_manager:x", "r": "CB-20CD-LSW", "c": "C-1042", "w": "team_manager"}),
    ({"o": "C-1042:CB-30WD-ANY:cp_chair:x", "r": "CB-30WD-ANY", "c": "C-1042", "w": "cp_chair"}),
    ({"o": "C-1042:CB-FREQ-CHANGE:cp_chair:x", "r": "CB-FREQ-CHANGE", "c": "C-1042", "w": "cp_chair"}),
    (
        {
            "o": "C-3001:HI-NOTSEEN-REVISIT:team_manager:x",
            "r": "HI-NOTSEEN-REVISIT",
            "c": "C-3001",
            "w": "team_manager",
        }
    ),
]
DECISION_USERS = ["U0TM", "U0TM", "U0PM", "U0CHAIR", "U0SW", "U0STM", "U0NOBODY"]


@st.composite
def decision_submission(draw: st.DrawFn) -> tuple[str, Any]:
    meta = draw(st.sampled_from(DECISION_META))
    if draw(st.integers(0, 3)) == 0:
        private = draw(
            st.one_of(
                mutated_json(meta).map(json.dumps),
                st.sampled_from(["", "{", "null", "[]", '{"c": "C-1042"}', '{"r": ["x"], "c": "C-1042"}']),
            )
        )
    else:
        private = json.dumps(meta)
    return private, draw(decision_values())


@given(submission=decision_submission(), user=st.sampled_from(DECISION_USERS))
@fuzz_settings(250)
def test_decision_form_over_http_stores_the_decision_or_nothing(bot, submission, user) -> None:
    private, values = submission
    view = {"type": "modal", "callback_id": views.DECISION_CALLBACK, "blocks": []}
    before, after, errors = _submit_whole_or_nothing(bot, "forms/decision-http", user, view, private, values)
    if errors is None:
        assert after["decisions"] == before["decisions"] + 1
        assert after["case_notes"] == before["case_notes"] + 1
    else:
        assert set(errors) <= {"outcome", "days"} and all(_clean(v) for v in errors.values()), errors
