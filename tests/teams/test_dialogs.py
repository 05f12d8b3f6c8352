"""Issue 12: the visit record (CB-RECORD) and decision (CB-NOTSEEN-DISCUSS, R1) forms on Teams as
dialogs, over real HTTP against the SDK app with signed activities: `task/fetch` opens the same form
as Slack's modal (checked by Microsoft's `adaptivecards` library), `task/submit` stores what Slack
stores or shows the same per-field errors and stores nothing; a typed `record` answers a card with
the button; the "Record a visit" message extension opens and stores the same dialog."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.core.context import FORM_UNREADABLE
from bot.teams.app import TeamsBot
from bot.teams.cards import FORM_KEY, METADATA_KEY
from bot.teams.package import RECORD_VISIT, manifest
from scheduler.rules import model
from storage import facts
from storage.models import AuditLog, CaseNote, Child, Contact, Decision, Staff
from tests.bot.conftest import add_world
from tests.teams import npm_tools
from tests.teams.conftest import APP_ID, TENANT, settings_for

TM_AAD = "aad-tina-manager"
SW_AAD = "aad-sam-worker"
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Mon 23 Nov 2026, 11:00 in London
OB_KEY = "C-1042:CB-NOTSEEN-DISCUSS:team_manager:2026-11-23T10:30:00+00:00"
VISIT_FIELDS = {"at_date", "at_time", "kind", "title", "present", "observations", "incident", "new_injury"}


@pytest.fixture
def teams_bot(connector, factory) -> Iterator[TeamsBot]:
    """The app with its clock at NOW (Seen's checks compare with the time of the submission)."""
    bot = TeamsBot(
        settings_for(connector), factory, token=lambda scope, tenant: connector.bot_token, now=lambda: NOW
    )
    asyncio.run(bot.initialize())
    yield bot
    bot.close()


@pytest.fixture(scope="module")
def npm() -> Any:
    return npm_tools.install()


def _world(factory) -> None:
    """The test world, with Staff.chat_user_id holding Entra object ids (a Teams deployment)."""
    add_world(factory)
    with factory.begin() as s:
        s.execute(update(Staff).where(Staff.chat_user_id == "U0TM").values(chat_user_id=TM_AAD))
        s.execute(update(Staff).where(Staff.chat_user_id == "U0SW").values(chat_user_id=SW_AAD))


def _not_seen(factory) -> dict[str, Any]:
    """C-1042 not seen at 10:30 today: the CB-NOTSEEN-DISCUSS prompt's "Record decision" data."""
    _world(factory)
    with factory.begin() as s:
        child = s.scalar(select(Child).where(Child.case_ref == "C-1042"))
        sw = s.scalar(select(Staff).where(Staff.chat_user_id == SW_AAD))
        contact = model.Contact(
            at=datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
            kind="home_visit",
            by="lead_social_worker",
            qualified=True,
            child_seen=False,
            recorded_at=NOW,
        )
        facts.record_contact(s, child, contact, by_staff=sw, source_key="test:not-seen", now=NOW)
    return {
        "k": f"{OB_KEY}:prompt",
        "o": OB_KEY,
        "c": "C-1042",
        "r": "CB-NOTSEEN-DISCUSS",
        "w": "team_manager",
    }


def _invoke(connector, aad: str, name: str, value: dict[str, Any], activity_id: str = "f:invoke-1") -> dict:
    return {
        "type": "invoke",
        "name": name,
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": f"29:{aad}", "aadObjectId": aad},
        "recipient": {"id": f"28:{APP_ID}", "name": "Seen"},
        "conversation": {"id": f"a:chat-{aad}", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
        "value": value,
    }


def _fetch(sender, connector, aad: str, button: dict[str, Any]) -> dict[str, Any]:
    """A card's open-form button pressed: its data as Teams sends it in the `task/fetch` invoke."""
    data = {**button, "msteams": {"type": "task/fetch"}}
    reply = sender.post(
        _invoke(connector, aad, "task/fetch", {"data": data, "context": {"theme": "default"}})
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["task"]


def _submit(
    sender, connector, aad: str, card: dict[str, Any], inputs: dict[str, str], activity_id: str
) -> dict:
    """The dialog submitted: its submit button's data (form id, metadata) with the inputs by id."""
    data = {**card["actions"][0]["data"], **inputs}
    reply = sender.post(_invoke(connector, aad, "task/submit", {"data": data}, activity_id))
    assert reply.status_code == 200, reply.text
    return reply.json()["task"]


def _card(task: dict[str, Any]) -> dict[str, Any]:
    assert task["type"] == "continue", task
    assert task["value"]["card"]["contentType"] == "application/vnd.microsoft.card.adaptive"
    return task["value"]["card"]["content"]


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["id"]: b for b in card["body"] if b["type"].startswith("Input.")}


def _shown(text: str) -> str:
    """A TextBlock's text as Teams shows it (the card escapes Markdown characters)."""
    return re.sub(r"\\(.)", r"\1", text)


def _texts(card: dict[str, Any]) -> list[str]:
    return [_shown(b["text"]) for b in card["body"] if b["type"] == "TextBlock"]


def _errors_under(card: dict[str, Any]) -> dict[str, str]:
    """The message shown under each input (Attention text right after it)."""
    out, last = {}, None
    for b in card["body"]:
        if b["type"].startswith("Input."):
            last = b["id"]
        elif b.get("color") == "Attention" and last is not None:
            out[last] = _shown(b["text"])
    return out


def _valid_visit(ref: str = "C-1042") -> dict[str, str]:
    return {
        "at_date": "2026-11-23",
        "at_time": "10:45",
        "kind": "home_visit",
        "present": "Mother, child",
        f"outcome__{ref}": "seen",
        f"alone__{ref}": "yes",
        f"spoken__{ref}": "yes",
        f"bedroom__{ref}": "yes",
        f"presentation__{ref}": "Chatty",
        f"wishes__{ref}": "I like my school",
        "observations": "No change to the identified risks",
        "risk_worsened": "false",
        "new_injury": "false",
    }


def _rows(factory, table) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(table))


# -- the visit record ----------------------------------------------------------------------------
def test_log_visit_opens_the_visit_form_as_a_dialog_that_adaptivecards_parses(
    sender, factory, connector, npm
):
    """CB-RECORD: a reminder's "Log visit" opens the Record of a Child Protection Visit, the same
    fields as Slack's modal, prefilled with now; the card parses at 1.5 without errors."""
    _world(factory)
    task = _fetch(sender, connector, SW_AAD, {"seen_form": "seen_log_visit", "c": "C-1042", "k": "x"})
    assert task["value"]["title"] == "Child protection visit"
    card = _card(task)
    inputs = _inputs(card)
    assert set(inputs) >= VISIT_FIELDS
    assert {"outcome__C-1042", "alone__C-1042", "alone_reason__C-1042", "bedroom__C-1042"} <= set(inputs)
    assert inputs["at_date"]["value"] == "2026-11-23" and inputs["at_time"]["value"] == "11:00"
    assert inputs["outcome__C-1042"]["style"] == "expanded"
    assert [c["value"] for c in inputs["siblings"]["choices"]] == ["C-1043", "C-1044"]
    assert card["actions"][0]["data"] == {
        FORM_KEY: "seen_visit_record",
        METADATA_KEY: {"c": "C-1042", "s": [], "x": None},
    }
    (result,) = npm_tools.parse_cards(npm, [card])
    assert result["events"] == [] and result["validation"] == []
    with factory() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "record_form.opened"))
        assert audit.detail == {"via": "teams"}


def test_a_valid_visit_is_stored_as_on_slack_and_a_retry_stores_nothing_more(sender, factory, connector):
    """CB-RECORD: the record stored (contact, its record) under the dialog's key; the dialog closes
    with the confirmation; the connector's retry of the same invoke stores nothing twice."""
    _world(factory)
    card = _card(_fetch(sender, connector, SW_AAD, {"seen_form": "seen_log_visit", "c": "C-1042"}))
    before = _rows(factory, Contact)
    task = _submit(sender, connector, SW_AAD, card, _valid_visit(), "f:submit-1")
    assert task == {
        "type": "message",
        "value": "Visit record saved:\n• C-1042 (AB): home visit (child seen) on Mon 23 Nov 2026 10:45",
    }
    assert _submit(sender, connector, SW_AAD, card, _valid_visit(), "f:submit-1")["type"] == "message"
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == before + 1
        row = s.scalar(select(Contact).where(Contact.source_key == "teams:dialog:f:submit-1:C-1042"))
        assert (row.child_seen, row.seen_alone, row.bedroom_seen, row.kind) == (
            True,
            "yes",
            True,
            "home_visit",
        )
        assert row.at == datetime(2026, 11, 23, 10, 45, tzinfo=UTC)
        assert row.recorded_at is not None and row.by_role == "lead_social_worker"


def test_record_visit_completes_the_logged_visit_prefilled(sender, factory, connector):
    """CB-RECORD: "Record a visit" (seen_open_record) completes the latest visit not yet recorded,
    prefilled with what the quick log said; storing it keeps the quick entry as history."""
    _world(factory)
    with factory.begin() as s:
        child = s.scalar(select(Child).where(Child.case_ref == "C-1042"))
        sw = s.scalar(select(Staff).where(Staff.chat_user_id == SW_AAD))
        logged = model.Contact(
            at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            kind="home_visit",
            by="lead_social_worker",
            qualified=True,
            child_seen=True,
            seen_alone="no",
            seen_alone_reason="Mother would not leave the room",
            bedroom_seen=True,
        )
        logged_id = facts.record_contact(s, child, logged, by_staff=sw, source_key="test:log", now=NOW).id
    card = _card(_fetch(sender, connector, SW_AAD, {"seen_form": "seen_open_record", "c": "C-1042"}))
    inputs = _inputs(card)
    assert inputs["at_time"]["value"] == "09:00" and inputs["alone__C-1042"]["value"] == "no"
    assert inputs["alone_reason__C-1042"]["value"] == "Mother would not leave the room"
    assert card["actions"][0]["data"][METADATA_KEY]["x"] == logged_id
    values = {
        **_valid_visit(),
        "at_time": "09:00",
        "alone__C-1042": "no",
        "alone_reason__C-1042": "Mother stayed",
    }
    task = _submit(sender, connector, SW_AAD, card, values, "f:submit-2")
    assert task["value"].endswith("(It completes the visit you logged; the quick entry is kept as history.)")
    with factory() as s:
        row = s.scalar(select(Contact).where(Contact.source_key == "teams:dialog:f:submit-2:C-1042"))
        assert row.correction_of_id == logged_id and row.seen_alone_reason == "Mother stayed"


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (  # CB-RECORD boundary: 11:01 is a minute after the submission (NOW, 11:00): the future
            {"at_time": "11:01"},
            {"at_date": "a visit cannot be in the future (2026-11-23 11:01 is after 2026-11-23 11:00)"},
        ),
        (  # CB-SEEN-ALONE: not seen alone needs the reason
            {"alone__C-1042": "no"},
            {"alone_reason__C-1042": "Say why the child was not seen alone"},
        ),
        (  # CB-BEDROOM-ALT: a home visit that saw the child says whether the bedroom was seen
            {"bedroom__C-1042": ""},
            {"bedroom__C-1042": "Say whether the child's bedroom was seen"},
        ),
        (  # CB-NEW-INJURY: the new injury described
            {"new_injury": "true"},
            {"incident": "Describe the new incident or injury"},
        ),
    ],
)
def test_invalid_visit_shows_the_slack_messages_under_their_fields_and_stores_nothing(
    sender, factory, connector, change, errors
):
    _world(factory)
    card = _card(_fetch(sender, connector, SW_AAD, {"seen_form": "seen_log_visit", "c": "C-1042"}))
    before = _rows(factory, Contact)
    values = {**_valid_visit(), **change}
    again = _card(_submit(sender, connector, SW_AAD, card, values, "f:submit-bad"))
    assert _errors_under(again) == errors
    inputs = _inputs(again)
    assert inputs["present"]["value"] == "Mother, child"  # what was entered is kept
    assert inputs["at_time"]["value"] == values["at_time"]
    assert _rows(factory, Contact) == before


def test_choosing_siblings_shows_the_dialog_again_with_a_part_for_each(sender, factory, connector):
    """CB-BABY-AWAKE: a brother or sister added gets their own outcome; a baby is asked "seen awake?"."""
    _world(factory)
    card = _card(_fetch(sender, connector, SW_AAD, {"seen_form": "seen_log_visit", "c": "C-1042"}))
    update_button = card["actions"][1]
    assert update_button["data"]["seen_dispatch"] == "seen_siblings"
    data = {**update_button["data"], "siblings": "C-1044", "present": "Mother"}
    reply = sender.post(_invoke(connector, SW_AAD, "task/submit", {"data": data}, "f:siblings"))
    again = _card(reply.json()["task"])
    inputs = _inputs(again)
    assert "awake__C-1044" in inputs and inputs["present"]["value"] == "Mother"
    assert again["actions"][0]["data"][METADATA_KEY]["s"] == ["C-1044"]
    values = {**_valid_visit(), **{k.replace("C-1042", "C-1044"): v for k, v in _valid_visit().items()}}
    values["awake__C-1044"] = "yes"
    _submit(sender, connector, SW_AAD, again, values, "f:family")
    with factory() as s:
        rows = list(s.scalars(select(Contact).where(Contact.source_key.like("teams:dialog:f:family:%"))))
        assert sorted(r.source_key for r in rows) == [
            "teams:dialog:f:family:C-1042",
            "teams:dialog:f:family:C-1044",
        ]
        assert rows[0].visit_group is not None and rows[0].visit_group == rows[1].visit_group


def test_an_unknown_entra_user_is_refused_with_slacks_words_audited_and_nothing_stored(
    sender, factory, connector
):
    _world(factory)
    card = _card(_fetch(sender, connector, SW_AAD, {"seen_form": "seen_log_visit", "c": "C-1042"}))
    before = _rows(factory, Contact)
    opened = _fetch(sender, connector, "aad-stranger", {"seen_form": "seen_log_visit", "c": "C-1042"})
    assert opened["type"] == "message"
    assert opened["value"].startswith("⛔ Seen does not know your Microsoft Teams account yet")
    task = _submit(sender, connector, "aad-stranger", card, _valid_visit(), "f:stranger")
    assert (
        task["type"] == "message"
        and "Ask an administrator to add you (your Entra object id)" in task["value"]
    )
    assert _rows(factory, Contact) == before
    with factory() as s:
        audits = list(s.scalars(select(AuditLog).where(AuditLog.action == "teams.refused")))
        assert [a.detail["action"] for a in audits] == ["seen_log_visit", "visit record"]
        assert all(a.detail["chat_user_id"] == "aad-stranger" for a in audits)


def test_a_worker_of_another_team_may_not_record_and_a_forged_form_is_refused(sender, factory, connector):
    _world(factory)
    with factory.begin() as s:
        s.execute(update(Staff).where(Staff.chat_user_id == "U0SSW").values(chat_user_id="aad-sid-south"))
    opened = _fetch(sender, connector, "aad-sid-south", {"seen_form": "seen_log_visit", "c": "C-1042"})
    assert opened["value"].startswith("⛔ You can log visits and notes only for children of your own team")
    card = _card(_fetch(sender, connector, SW_AAD, {"seen_form": "seen_log_visit", "c": "C-1042"}))
    card["actions"][0]["data"][METADATA_KEY]["s"] = "C-2001"  # not a list: not a form Seen made
    task = _submit(sender, connector, SW_AAD, card, _valid_visit(), "f:forged")
    assert task == {"type": "message", "value": f"⛔ {FORM_UNREADABLE}"}
    with factory() as s:
        assert s.scalar(select(Contact).where(Contact.source_key.like("teams:dialog:%"))) is None


def test_typed_record_answers_a_card_whose_button_opens_the_dialog(sender, factory, connector, npm):
    """A typed message cannot open a dialog: `record C-1042` answers with a "Record a visit" button."""
    _world(factory)
    from tests.teams.conftest import personal_message

    assert sender.post(personal_message(connector, SW_AAD, "record C-1042")).status_code == 200
    with connector.lock:
        (answer,) = connector.conversations[f"a:chat-{SW_AAD}"].values()
    card = answer["attachments"][0]["content"]
    (button,) = card["actions"]
    assert button["title"] == "Record a visit"
    assert button["data"] == {"c": "C-1042", "msteams": {"type": "task/fetch"}, FORM_KEY: "seen_open_record"}
    assert _texts(card) == ["Recording a new visit to C-1042 (AB). Open the form to complete it."]
    (result,) = npm_tools.parse_cards(npm, [card])
    assert result["events"] == [] and result["validation"] == []
    button_data = {k: v for k, v in button["data"].items() if k != "msteams"}
    assert (
        _card(_fetch(sender, connector, SW_AAD, button_data))["actions"][0]["data"][FORM_KEY]
        == "seen_visit_record"
    )


# -- the decision --------------------------------------------------------------------------------
def test_record_decision_opens_the_decision_form_with_the_policys_limits(sender, factory, connector, npm):
    """CB-NOTSEEN-DISCUSS: the decision dialog offers the rule's outcomes, at most 5 working days
    (CB-NOTSEEN-REVISIT), as Slack's modal does."""
    button = {**_not_seen(factory), "seen_form": "seen_decide"}
    card = _card(_fetch(sender, connector, TM_AAD, button))
    inputs = _inputs(card)
    assert [c["value"] for c in inputs["outcome"]["choices"]] == ["emergency_action", "further_visit"]
    assert [c["value"] for c in inputs["days"]["choices"]] == ["1", "2", "3", "4", "5"]
    assert "At most 5 working days (CB-NOTSEEN-REVISIT)" in _texts(card)
    meta = card["actions"][0]["data"][METADATA_KEY]
    assert (meta["o"], meta["r"], meta["w"], meta["limit_rule"]) == (
        OB_KEY,
        "CB-NOTSEEN-DISCUSS",
        "team_manager",
        "CB-NOTSEEN-REVISIT",
    )
    (result,) = npm_tools.parse_cards(npm, [card])
    assert result["events"] == [] and result["validation"] == []


def test_a_valid_decision_is_stored_with_its_case_note(sender, factory, connector):
    """CB-NOTSEEN-DISCUSS: errors first (6 days is past CB-NOTSEEN-REVISIT's 5), then the decision
    and its case note stored as on Slack, and a retry stores nothing more."""
    card = _card(_fetch(sender, connector, TM_AAD, {**_not_seen(factory), "seen_form": "seen_decide"}))
    bad = _card(_submit(sender, connector, TM_AAD, card, {"outcome": "further_visit", "days": "6"}, "f:d-1"))
    assert _errors_under(bad) == {"days": "At most 5 working days (CB-NOTSEEN-REVISIT), not 6"}
    assert _inputs(bad)["outcome"]["value"] == "further_visit"
    values = {"outcome": "further_visit", "days": "3", "informed": "lead social worker", "note": "Revisit"}
    task = _submit(sender, connector, TM_AAD, card, values, "f:d-2")
    assert task == {
        "type": "message",
        "value": "Decision recorded for C-1042 (AB): "
        "A further visit within 3 working days [CB-NOTSEEN-DISCUSS].",
    }
    _submit(sender, connector, TM_AAD, card, values, "f:d-2")
    with factory() as s:
        (d,) = s.scalars(select(Decision))
        assert (d.rule, d.outcome, d.within_working_days, d.by_role, d.source_key) == (
            "CB-NOTSEEN-DISCUSS",
            "further_visit",
            3,
            "team_manager",
            "teams:dialog:f:d-2",
        )
        note = s.scalar(select(CaseNote).where(CaseNote.source == "decision"))
        assert note.text == (
            "Decision under CB-NOTSEEN-DISCUSS by the team manager: A further visit within 3 working days. "
            "Informed: lead social worker. Revisit"
        )
    # the rule is met: the button opens nothing now
    again = _fetch(
        sender, connector, TM_AAD, {**card["actions"][0]["data"][METADATA_KEY], "seen_form": "seen_decide"}
    )
    assert again["value"].startswith("⛔ Nothing to decide: [CB-NOTSEEN-DISCUSS] for C-1042 is already met")


def test_a_decision_by_a_worker_or_a_non_decider_is_refused_and_nothing_stored(sender, factory, connector):
    """R1: the decision is taken only by a role the policy names for the rule. The worker may not
    open the form; a team manager's form whose rule is changed to CB-ACCESS (the practice manager's
    or head of service's) is refused at submission."""
    button = {**_not_seen(factory), "seen_form": "seen_decide"}
    opened = _fetch(sender, connector, SW_AAD, button)
    assert opened == {
        "type": "message",
        "value": "⛔ Only a manager of the child's team can acknowledge or decide this prompt for C-1042.",
    }
    card = _card(_fetch(sender, connector, TM_AAD, button))
    card["actions"][0]["data"][METADATA_KEY]["r"] = "CB-ACCESS"
    task = _submit(sender, connector, TM_AAD, card, {"outcome": "access_difficulty"}, "f:r1")
    assert task["type"] == "message" and task["value"].startswith(
        "⛔ Under CB-ACCESS the decision is recorded by the practice manager or "
    )
    with factory() as s:
        assert s.scalar(select(Decision)) is None
        assert s.scalar(select(CaseNote).where(CaseNote.source == "decision")) is None
        refusals = [
            a.detail["action"] for a in s.scalars(select(AuditLog).where(AuditLog.action == "teams.refused"))
        ]
        assert refusals == ["seen_decide", "decision"]


# -- the message extension -----------------------------------------------------------------------
def _extension(connector, aad: str, name: str, value: dict[str, Any], activity_id: str = "f:me-1") -> dict:
    return _invoke(connector, aad, name, {"commandId": RECORD_VISIT, **value}, activity_id)


def test_the_message_extension_opens_the_dialog_for_the_child_a_message_names_and_stores_it(
    sender, factory, connector
):
    """CB-RECORD: "Record a visit" on a reminder about C-1042 opens its visit dialog; the
    submission is stored as from a dialog and answered as a message."""
    _world(factory)
    payload = {
        "id": "1700000000100",
        "body": {"contentType": "html", "content": "C-1042 (AB): visit due [CB-VISIT-10WD]"},
    }
    reply = sender.post(
        _extension(
            connector,
            SW_AAD,
            "composeExtension/fetchTask",
            {"commandContext": "message", "messagePayload": payload},
        )
    )
    card = _card(reply.json()["task"])
    assert card["actions"][0]["data"][METADATA_KEY]["c"] == "C-1042"
    data = {**card["actions"][0]["data"], **_valid_visit()}
    reply = sender.post(
        _extension(
            connector,
            SW_AAD,
            "composeExtension/submitAction",
            {"commandContext": "message", "data": data},
            "f:me-2",
        )
    )
    assert reply.json() == {
        "composeExtension": {
            "type": "message",
            "text": "Visit record saved:\n• C-1042 (AB): home visit (child seen) on Mon 23 Nov 2026 10:45",
        }
    }
    with factory() as s:
        assert s.scalar(select(Contact).where(Contact.source_key == "teams:dialog:f:me-2:C-1042")) is not None


def test_the_message_extension_from_the_compose_box_asks_which_child_first(sender, factory, connector):
    _world(factory)
    reply = sender.post(
        _extension(connector, SW_AAD, "composeExtension/fetchTask", {"commandContext": "compose"})
    )
    pick = _card(reply.json()["task"])
    assert [c["value"] for c in _inputs(pick)["child"]["choices"]] == ["C-1042", "C-1043", "C-1044"]
    data = {**pick["actions"][0]["data"], "child": "C-1043"}
    reply = sender.post(
        _extension(
            connector, SW_AAD, "composeExtension/submitAction", {"commandContext": "compose", "data": data}
        )
    )
    visit = _card(reply.json()["task"])
    assert visit["actions"][0]["data"][METADATA_KEY]["c"] == "C-1043"
    # an invalid record: the same dialog again with the error, nothing stored
    values = {**_valid_visit("C-1043"), "at_date": ""}
    data = {**visit["actions"][0]["data"], **values}
    reply = sender.post(
        _extension(
            connector, SW_AAD, "composeExtension/submitAction", {"commandContext": "compose", "data": data}
        )
    )
    assert _errors_under(_card(reply.json()["task"])) == {"at_date": "Give the date of the visit"}
    with factory() as s:
        assert s.scalar(select(Contact).where(Contact.source_key.like("teams:dialog:%"))) is None


def test_the_manifest_declares_the_message_extension_the_app_answers() -> None:
    """The app package's action command is the one the app handles, on the bot, from a message,
    the compose box and the command box, opening its dialog by fetchTask."""
    data = manifest(
        {"TEAMS_CLIENT_ID": APP_ID, "SEEN_TEAMS_WEBSITE_URL": "https://council.example.gov.uk/seen"}
    )
    (extension,) = data["composeExtensions"]
    (command,) = extension["commands"]
    assert extension["botId"] == APP_ID
    assert (command["id"], command["type"], command["fetchTask"]) == (RECORD_VISIT, "action", True)
    assert sorted(command["context"]) == ["commandBox", "compose", "message"]


def test_a_dialogs_refusal_names_the_commands_as_typed_on_teams(sender, factory, connector):
    """Slack's `/seen due` is typed `due` on Teams: the refusal's hint says so (bot.teams.words)."""
    _world(factory)
    task = _fetch(sender, connector, SW_AAD, {"c": "C-9999", FORM_KEY: "seen_open_record"})
    assert task == {
        "type": "message",
        "value": "⛔ unknown case reference C-9999: check it with `due` or `team`",
    }
