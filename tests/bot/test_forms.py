"""What a decision records under each rule, with the limits read from the policy's rule table."""

from __future__ import annotations

import pytest

from bot.slack.forms import FormErrors, decision_choices, read_decision
from scheduler.policies import HERE, load_policy
from scheduler.rules.policy import policy_from_toml
from tests.bot.conftest import radio, select


def test_not_seen_discuss_offers_emergency_action_or_a_further_visit_up_to_the_policy_maximum():
    """CB-NOTSEEN-DISCUSS / CB-NOTSEEN-REVISIT: at most 5 working days in central-bedfordshire."""
    choices = decision_choices(load_policy("central-bedfordshire"), "CB-NOTSEEN-DISCUSS", "team_manager")
    assert choices.outcomes == ("emergency_action", "further_visit")
    assert (choices.max_days, choices.limit_rule) == (5, "CB-NOTSEEN-REVISIT")


def test_the_maximum_comes_from_the_policy_file_not_the_code():
    """A council that sets CB-NOTSEEN-REVISIT to 4 working days gets 4 in the form."""
    text = (HERE / "central-bedfordshire.toml").read_text()
    text = text.replace(
        'kind = "not_seen_revisit"\nmax_working_days = 5', 'kind = "not_seen_revisit"\nmax_working_days = 4'
    )
    policy = policy_from_toml(text)
    choices = decision_choices(policy, "CB-NOTSEEN-DISCUSS", "team_manager")
    assert choices.max_days == 4
    with pytest.raises(FormErrors) as exc:
        read_decision({"outcome": radio("further_visit"), "days": select("5")}, choices)
    assert exc.value.errors == {"days": "At most 4 working days (CB-NOTSEEN-REVISIT), not 5"}


@pytest.mark.parametrize(
    ("rule", "owner", "outcomes", "max_days"),
    [
        (
            "CB-20CD-LSW",
            "team_manager",
            ("emergency_action", "risk_assessed", "family_contacted", "written_agreement"),
            None,
        ),
        ("CB-30WD-ANY", "team_manager", ("core_group_meeting", "emergency_action"), None),
        ("CB-30WD-ANY", "cp_chair", ("chair_notified",), None),
        (
            "CB-ACCESS",
            "practice_manager",
            ("another_agency_to_see", "review_conference", "access_difficulty"),
            None,
        ),
        ("CB-FREQ-CHANGE", "cp_chair", ("interval_changed",), 10),  # CB-FREQ-FLOOR
        ("CB-BABY-AWAKE", "team_manager", ("reviewed", "emergency_action"), None),
        ("CB-NOTSEEN-AGAIN", "team_manager", ("emergency_action", "further_visit"), 5),
    ],
)
def test_outcomes_by_rule(rule, owner, outcomes, max_days):
    choices = decision_choices(load_policy("central-bedfordshire"), rule, owner)
    assert (choices.outcomes, choices.max_days) == (outcomes, max_days)


def test_hillingdon_at_risk_prompt_is_reviewed():
    """HI-NOTSEEN-REVISIT: the team manager is told the deadline is at risk and records a review."""
    choices = decision_choices(load_policy("hillingdon"), "HI-NOTSEEN-REVISIT", "team_manager")
    assert choices.outcomes == ("reviewed", "emergency_action") and choices.max_days is None
    entry = read_decision({"outcome": radio("reviewed"), "days": select("3")}, choices)
    assert (entry.outcome, entry.within_working_days) == ("reviewed", None)
