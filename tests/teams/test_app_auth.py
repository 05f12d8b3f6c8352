"""The real Teams SDK app over real HTTP: activities signed like the Bot Connector's are accepted
and their conversation references stored; anything not so signed gets 401 and stores nothing
(issue 12, security)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from storage.models import TeamsConversation
from tests.teams.conftest import APP_ID, TENANT, personal_message, team_installation
from tests.teams.fake_connector import new_key


def _rows(factory) -> list[TeamsConversation]:
    with factory() as session:
        return list(session.scalars(select(TeamsConversation).order_by(TeamsConversation.id)))


def test_a_signed_message_from_a_person_is_accepted_and_their_chat_is_remembered(sender, factory, connector):
    reply = sender.post(personal_message(connector, "aad-worker-1"))
    assert reply.status_code == 200
    (row,) = _rows(factory)
    assert (row.scope, row.aad_object_id, row.conversation_id) == (
        "personal",
        "aad-worker-1",
        "a:chat-aad-worker-1",
    )
    assert (row.service_url, row.tenant_id) == (connector.url, TENANT)


def test_installing_for_a_team_remembers_its_channel_and_removing_for_a_person_forgets_them(
    sender, factory, connector
):
    assert sender.post(team_installation(connector, "team-north")).status_code == 200
    install = personal_message(connector, "aad-worker-2")
    install.update(type="installationUpdate", action="add")
    assert sender.post(install).status_code == 200
    rows = {r.scope: r for r in _rows(factory)}
    assert rows["channel"].channel_id == "19:team-north@thread.tacv2"
    assert rows["channel"].team_id == "19:team-north@thread.tacv2"
    assert rows["personal"].aad_object_id == "aad-worker-2"
    install["action"] = "remove"
    assert sender.post(install).status_code == 200
    assert [r.scope for r in _rows(factory)] == ["channel"]


def test_a_newer_reference_replaces_the_older_one(sender, factory, connector):
    sender.post(personal_message(connector, "aad-worker-3"))
    moved = personal_message(connector, "aad-worker-3")
    moved["conversation"]["id"] = "a:chat-new"
    assert sender.post(moved).status_code == 200
    (row,) = _rows(factory)
    assert row.conversation_id == "a:chat-new"


def test_an_activity_from_another_tenant_stores_nothing(sender, factory, connector):
    reply = sender.post(
        personal_message(connector, "aad-stranger", tenant="22222222-2222-4222-8222-222222222222")
    )
    assert reply.status_code == 200
    assert _rows(factory) == []


@pytest.mark.parametrize(
    ("case", "token", "claims"),
    [
        ("unsigned", None, {}),
        ("not a JWT", "not-a-token", {}),
        ("signed with another key", "other-key", {}),
        ("for another app", "", {"aud": "99999999-9999-4999-8999-999999999999"}),
        ("from another issuer", "", {"iss": "https://sts.example.com"}),
        ("expired", "", {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}),
        ("for another service URL", "", {"serviceurl": "https://smba.example.com/emea"}),
        ("without a service URL", "", {"serviceurl": None}),
    ],
)
def test_an_activity_not_signed_by_the_connector_for_this_app_gets_401_and_stores_nothing(
    sender, factory, connector, case, token, claims
):
    if token == "other-key":
        token = connector.sign(key=new_key())
    reply = sender.post(personal_message(connector, "aad-intruder"), token=token, **claims)
    assert reply.status_code == 401, case
    assert _rows(factory) == []


def test_the_audience_checked_is_this_apps_client_id(sender, factory, connector):
    """The boundary of the audience check above: the app's own id is accepted."""
    assert sender.post(personal_message(connector, "aad-worker-4"), aud=APP_ID).status_code == 200
    assert len(_rows(factory)) == 1


def test_clock_skew_the_sdk_allows_is_five_minutes(sender, factory, connector):
    """Boundary of the expiry check: expired 4 minutes ago is within the SDK's 300 s leeway, 6 is not."""
    now = int(time.time())
    late = sender.post(personal_message(connector, "aad-worker-5"), exp=now - 240, iat=now - 3600)
    assert late.status_code == 200
    too_late = sender.post(personal_message(connector, "aad-worker-6"), exp=now - 360, iat=now - 3600)
    assert too_late.status_code == 401
    assert [r.aad_object_id for r in _rows(factory)] == ["aad-worker-5"]
