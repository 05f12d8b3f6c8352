"""Who each role of an obligation is for (scheduler/recipients.py): the lead social worker, the
team's managers (the team's channel when nobody holds the role), the out-of-hours channel only
for a rule the policy marks urgent (CB-NOTSEEN-DISCUSS, when its policy names a channel), and
nobody for any other role; each answer worked out once and the same for every child asking."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from scheduler.policies import load_policy
from scheduler.recipients import Recipient, Recipients
from scheduler.rules.model import Obligation
from scheduler.stages import OUT_OF_HOURS
from storage.models import Child, Team
from tests.storage.conftest import make_child

DUE = datetime(2026, 12, 22, 17, tzinfo=UTC)


def test_roles_of_an_obligation_cb_notseen_discuss(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        child, lead, manager = make_child(s, policy="central-bedfordshire")
        s.get(Team, child.team_id).slack_channel_id = "C0TEAM"  # type: ignore[union-attr]
        s.commit()
        recipients = Recipients(s)
        child = s.get(Child, child.id)
    assert child is not None
    prompt = Obligation("CB-NOTSEEN-DISCUSS", DUE, "due", "team_manager", "s", "b", "C-1042:k")
    visit = Obligation("CB-VISIT-10WD", DUE.date(), "due", "lead_social_worker", "s", "b", "C-1042:v")
    lead_r = [Recipient(lead.id, None, "lead_social_worker")]
    assert recipients.for_obligation(child, visit, "lead_social_worker") == lead_r
    assert recipients.for_obligation(child, prompt, "lead_social_worker") == []  # not its owner
    assert recipients.for_obligation(child, visit, "team_manager") == [
        Recipient(manager.id, None, "team_manager")
    ]
    assert recipients.for_obligation(child, prompt, "practice_manager") == [
        Recipient(None, "C0TEAM", "practice_manager")  # nobody holds it: the team's channel
    ]
    assert recipients.for_obligation(child, prompt, "cp_chair") == []
    assert recipients.for_obligation(child, prompt, OUT_OF_HOURS) == []  # CB names no channel
    assert child.team_id not in recipients.hours
    recipients.hours[child.team_id] = replace(
        load_policy("central-bedfordshire").working_hours, out_of_hours_channel="C0EDT"
    )
    assert recipients.for_obligation(child, prompt, OUT_OF_HOURS) == [Recipient(None, "C0EDT", OUT_OF_HOURS)]
    assert recipients.for_obligation(child, visit, OUT_OF_HOURS) == []  # not an urgent rule
    assert recipients.role(child, "team_manager") is recipients.role(child, "team_manager")
