"""RULES.md R1: "The deciders are policy data, not code." The bot takes a decision under a rule
only from a role the policy names for that rule, whatever the prompt's owner."""

from __future__ import annotations

import pytest

from bot.core.access import Refused, check_is_decider
from scheduler.policies import load_policy
from storage.models import Child, Staff

POLICY = load_policy("central-bedfordshire")


def _staff(role: str, staff_id: int = 7) -> Staff:
    return Staff(id=staff_id, role=role, team_id=1, active=True)


CHILD = Child(id=1, case_ref="C-1042", team_id=1, lead_social_worker_id=7)


@pytest.mark.parametrize("role", ["practice_manager", "head_of_service"])
def test_r1_cb_access_decided_by_its_deciders(role: str) -> None:
    """CB-ACCESS names the practice manager and head of service (an authorised decision)."""
    check_is_decider(_staff(role), CHILD, POLICY.rules["CB-ACCESS"])


def test_r1_cb_access_refuses_a_team_manager() -> None:
    """A team manager may decide CB-NOTSEEN-DISCUSS but not CB-ACCESS: the policy says so, not code."""
    check_is_decider(_staff("team_manager"), CHILD, POLICY.rules["CB-NOTSEEN-DISCUSS"])
    with pytest.raises(
        Refused, match=r"^Under CB-ACCESS the decision is recorded by the practice manager or "
    ):
        check_is_decider(_staff("team_manager"), CHILD, POLICY.rules["CB-ACCESS"])


def test_r1_cb_stepdown_lead_worker_but_not_another_worker() -> None:
    """CB-STEPDOWN names the lead social worker: the child's lead may decide, another worker not."""
    rule = POLICY.rules["CB-STEPDOWN"]
    check_is_decider(_staff("social_worker", staff_id=7), CHILD, rule)
    with pytest.raises(Refused, match="lead social worker"):
        check_is_decider(_staff("social_worker", staff_id=8), CHILD, rule)


def test_r1_a_rule_without_deciders_leaves_the_owner_check_alone() -> None:
    check_is_decider(_staff("team_manager"), CHILD, None)
