"""The decision form as a chat-neutral `Form` (opened by a prompt's "Record decision"), its
submission checked (`read_decision`: the outcome and timeframe, or `FormErrors`), and the decision
stored with its case note (`DecisionRecording`), the same on Slack and Teams.

Field ids: `outcome` (radio), `days` (select, when the rule sets a timeframe), `informed`, `note`.
Private metadata: "o" obligation key, "r" rule ID, "c" case reference, "w" owner role, "k" the
prompt's outbox key, "limit_rule" the rule ID that sets the timeframe's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core import access, caseview
from bot.core.access import Refused
from bot.core.context import FORM_UNREADABLE, Core
from bot.core.form_answers import Answers, FormErrors
from bot.core.model import Form, FormField, Option
from scheduler.messages import child_label, when
from scheduler.rules import model
from scheduler.rules.casefile import DECISION_OUTCOMES
from scheduler.rules.policy import Policy
from storage import facts
from storage.models import Child, Decision, Staff

DECISION_FORM = "seen_decision"  # the form's id (Slack's callback id)
# The outcomes a decision under each rule kind can record (scheduler.rules.casefile.DECISION_OUTCOMES).
OUTCOMES_BY_KIND: dict[str, tuple[str, ...]] = {
    "not_seen_discuss": ("emergency_action", "further_visit"),
    "not_seen_again": ("emergency_action", "further_visit"),
    "unseen_by_lead": ("emergency_action", "risk_assessed", "family_contacted", "written_agreement"),
    "unseen_by_anyone": ("core_group_meeting", "emergency_action"),
    "access_difficulty": ("another_agency_to_see", "review_conference", "access_difficulty"),
    "frequency_change": ("interval_changed",),
    "step_down": ("cin_arrangement_recorded",),
}
CHAIR_OUTCOMES = ("chair_notified",)
DEFAULT_OUTCOMES = ("reviewed", "emergency_action")
WITH_DAYS = ("further_visit", "interval_changed")
DECISION_TEXT = {
    "emergency_action": "Emergency action",
    "further_visit": "A further visit",
    "risk_assessed": "Risks assessed: not immediate, contact the family",
    "family_contacted": "Family contacted to meet the parent",
    "written_agreement": "Parent met: written agreement, core group informed",
    "core_group_meeting": "Urgent core group meeting arranged",
    "chair_notified": "CP Chair notified and agrees the action plan",
    "access_difficulty": "There is difficulty obtaining access",
    "another_agency_to_see": "Another agency is to see the child (authorised)",
    "review_conference": "A Review CP Conference is called",
    "interval_changed": "Visit interval changed",
    "cin_arrangement_recorded": "Child in Need visiting arrangement recorded",
    "reviewed": "Reviewed and recorded (e.g. in supervision)",
}


@dataclass(frozen=True, slots=True)
class DecisionChoices:
    outcomes: tuple[str, ...]
    max_days: int | None  # the further-visit timeframe or interval limit, from the policy
    limit_rule: str | None  # the rule ID that sets max_days
    days_label: str


def decision_choices(policy: Policy, rule_id: str, owner: str) -> DecisionChoices:
    """What a decision under `rule_id` records, with the limits read from the policy's rules."""
    rule = policy.rules.get(rule_id)
    kind = rule.kind if rule is not None else ""
    if owner == "cp_chair" and kind != "frequency_change":
        outcomes = CHAIR_OUTCOMES  # e.g. CB-30WD-ANY: the chair is notified and agrees the plan
    else:
        outcomes = OUTCOMES_BY_KIND.get(kind, DEFAULT_OUTCOMES)
    outcomes = tuple(o for o in outcomes if o in DECISION_OUTCOMES)
    max_days: int | None = None
    limit_rule: str | None = None
    label = "Further visit within (working days)"
    if kind in ("not_seen_discuss", "not_seen_again"):
        revisit = policy.rule_of_kind("not_seen_revisit")
        if revisit is not None:
            max_days, limit_rule = revisit.params.max_working_days, revisit.id
        elif rule is not None and hasattr(rule.params, "revisit_within_hours"):
            max_days, limit_rule = max(1, rule.params.revisit_within_hours // 24), rule.id
    elif kind == "frequency_change":
        limit = policy.max_interval()
        if limit is not None:
            max_days, limit_rule = limit
        label = "New visit interval (working days)"
    return DecisionChoices(outcomes, max_days, limit_rule, label)


def _choice_text(outcome: str) -> str:
    text = DECISION_TEXT.get(outcome, outcome)
    return f"{text} within a timeframe (below)" if outcome in WITH_DAYS else text


def decision_form(
    *,
    rule: str,
    child_label: str,
    summary: str,
    outcomes: list[str],
    max_days: int | None,
    metadata: dict[str, Any],
    days_label: str = "Further visit within (working days)",
) -> Form:
    fields = [FormField("about", f"{child_label} · [{rule}]", "heading")]
    if summary:
        fields.append(FormField("summary", summary, "section"))
    fields.append(
        FormField("outcome", "Decision", "radio", options=tuple(Option(o, _choice_text(o)) for o in outcomes))
    )
    if max_days is not None:
        days = tuple(Option(str(n), f"{n} working day{'s' if n > 1 else ''}") for n in range(1, max_days + 1))
        hint = f"At most {max_days} working days ({metadata.get('limit_rule') or rule})"
        fields.append(FormField("days", days_label, "select", options=days, hint=hint))
    fields += [
        FormField("informed", "Who was informed (roles, not names)", "text"),
        FormField("note", "Reasons and what happens next (kept as a case note)", "multiline"),
    ]
    return Form(DECISION_FORM, "Record decision", "Record decision", tuple(fields), dict(metadata))


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    outcome: str
    within_working_days: int | None
    informed: str | None
    note: str | None


def read_decision(answers: Answers, choices: DecisionChoices) -> DecisionEntry:
    errors: dict[str, str] = {}
    outcome = answers.choice("outcome")
    if outcome is None:
        errors["outcome"] = "Choose the decision"
    elif outcome not in choices.outcomes:
        errors["outcome"] = "This decision does not apply to this rule"
    days_text = answers.choice("days")
    days: int | None = None
    if days_text is not None:
        try:
            days = int(days_text)
        except ValueError:
            errors["days"] = "Choose a number of working days"
    if outcome in WITH_DAYS:
        if days is None and "days" not in errors:
            errors["days"] = "Say within how many working days"
        elif days is not None and choices.max_days is not None and not 1 <= days <= choices.max_days:
            errors["days"] = f"At most {choices.max_days} working days ({choices.limit_rule}), not {days}"
    elif outcome is not None:
        days = None
    if errors:
        raise FormErrors(errors)
    assert outcome is not None
    return DecisionEntry(outcome, days, answers.text("informed"), answers.text("note"))


def decision_words(outcome: str, within: int | None) -> str:
    """The decision as words: "A further visit within 3 working days"."""
    what = DECISION_TEXT.get(outcome, outcome)
    if within:
        what += f" within {within} working day{'s' if within > 1 else ''}"
    return what


def decision_note(decision: model.Decision, entry: DecisionEntry) -> str:
    what = DECISION_TEXT.get(decision.outcome, decision.outcome)
    if decision.within_working_days:
        what += f" within {decision.within_working_days} working days"
    parts = [f"Decision under {decision.rule} by the {decision.by.replace('_', ' ')}: {what}."]
    if entry.informed:
        parts.append(f"Informed: {entry.informed}.")
    if entry.note:
        parts.append(entry.note)
    return " ".join(parts)


class DecisionRecording(Core):
    """The decision form opened for a prompt's obligation, and its submission stored."""

    unknown_staff = access.UNKNOWN_STAFF

    def decision_form_for(
        self, s: Session, staff: Staff, child: Child, value: dict[str, Any], now: datetime, **meta: Any
    ) -> tuple[Form, str]:
        """The form for the open obligation "o" of `value` (a prompt's button), and its rule ID;
        `Refused` when it is met already or `staff` is not one of its deciders (R1). `meta` joins
        the form's private metadata."""
        policy = caseview.policy_of(s, child)
        open_now = [o for o in caseview.open_obligations(s, [child], now) if o.ob.key == value.get("o")]
        if not open_now:
            raise Refused(
                f"Nothing to decide: [{value.get('r')}] for {child.case_ref} is already met "
                "(a decision may have been recorded)."
            )
        ob = open_now[0].ob
        access.check_is_decider(staff, child, policy.rules.get(ob.rule))
        choices = decision_choices(policy, ob.rule, ob.owner)
        metadata = {
            "o": ob.key,
            "r": ob.rule,
            "c": child.case_ref,
            "w": ob.owner,
            "k": value.get("k"),
            **meta,
            "limit_rule": choices.limit_rule,
        }
        form = decision_form(
            rule=ob.rule,
            child_label=child_label(child.case_ref, child.initials),
            summary=f"{ob.summary}. Due {when(policy, ob.due)}.",
            outcomes=list(choices.outcomes),
            max_days=choices.max_days,
            metadata=metadata,
            days_label=choices.days_label,
        )
        return form, ob.rule

    def store_decision(
        self, s: Session, staff: Staff, meta: dict[str, Any], answers: Answers, now: datetime, key: str
    ) -> None:
        """The decision and its case note, under source key `key` (the note `key:note`);
        `Refused` or `FormErrors` store nothing."""
        rule, owner = meta.get("r"), meta.get("w") or "team_manager"
        if not isinstance(rule, str) or not isinstance(owner, str):
            raise Refused(FORM_UNREADABLE)
        child = access.child_for(s, meta.get("c") or "")
        access.check_can_decide(staff, child, owner)
        policy = caseview.policy_of(s, child)
        access.check_is_decider(staff, child, policy.rules.get(rule))
        choices = decision_choices(policy, rule, owner)
        entry = read_decision(answers, choices)
        decision = model.Decision(
            at=now,
            rule=rule,
            by=access.engine_role(staff, child),
            outcome=entry.outcome,
            within_working_days=entry.within_working_days,
        )
        text = decision_note(decision, entry)
        facts.record_decision(s, child, decision, by_staff=staff, note=text, source_key=key, now=now)
        facts.add_case_note(
            s, child, staff, text, at=now, source="decision", source_key=f"{key}:note", now=now
        )

    @staticmethod
    def decision_saved(row: Decision) -> str:
        """What was decided, in words, with its rule ID."""
        return f"{decision_words(row.outcome, row.within_working_days)} [{row.rule}]"

    @classmethod
    def decision_recorded(cls, who: str, at: str, row: Decision) -> str:
        """The line a prompt's messages show once its decision is recorded: "Decision recorded by
        <who> at <when>: A further visit within 3 working days [CB-NOTSEEN-DISCUSS]."."""
        return f"Decision recorded by {who} at {at}: {cls.decision_saved(row)}."
