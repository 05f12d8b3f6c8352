"""The submitted modals read and checked, without I/O: a visit record -> one contact per child, a
decision -> its outcome; or a dict of per-field errors (block id -> message) for Slack's
`response_action: errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from bot.core.parse import TIME_FORMAT
from scheduler.rules import model
from scheduler.rules.casefile import DECISION_OUTCOMES
from scheduler.rules.policy import Policy
from storage.facts import VisitRecord

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


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# -- reading Slack's view state ----------------------------------------------------------------
def _el(values: dict[str, Any], block: str) -> dict[str, Any]:
    """The element state of `block`; a block whose state is not shaped as Slack sends it (a
    tampered or garbled payload) reads as not answered, so a required answer is asked for again."""
    entry = values.get(block) if isinstance(values, dict) else None
    element = entry.get("v") if isinstance(entry, dict) else None
    return element if isinstance(element, dict) else {}


def text_of(values: dict[str, Any], block: str) -> str | None:
    value = _el(values, block).get("value")
    return value.strip() or None if isinstance(value, str) else None


def choice_of(values: dict[str, Any], block: str) -> str | None:
    option = _el(values, block).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def checked(values: dict[str, Any], block: str) -> bool:
    return bool(_el(values, block).get("selected_options"))


def yes_no(values: dict[str, Any], block: str) -> bool | None:
    choice = choice_of(values, block)
    return None if choice is None else choice == "yes"


# -- the visit record --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChildMeta:
    ref: str
    baby: bool
    by: str  # engine role of the visitor for this child (lead or duty social worker, or a manager)


@dataclass(frozen=True, slots=True)
class VisitEntry:
    ref: str
    contact: model.Contact
    record: VisitRecord


def read_visit(
    values: dict[str, Any],
    children: list[ChildMeta],
    *,
    tz: tzinfo,
    now: datetime,
    qualified: bool,
    note_rule: str | None,
) -> list[VisitEntry]:
    """The contacts of a submitted visit record, one per child visited; `FormErrors` otherwise."""
    errors: dict[str, str] = {}
    at = _visit_time(values, tz, now, errors)
    kind = choice_of(values, "kind") or "home_visit"
    title = text_of(values, "title")
    if kind != "home_visit" and not title:
        errors["title"] = 'Give the contact a title, e.g. "visit to a child at school"'
    present = text_of(values, "present")
    incident = text_of(values, "incident")
    new_injury = checked(values, "new_injury")
    if new_injury and not incident:
        errors["incident"] = "Describe the new incident or injury"
    risk_worsened = checked(values, "risk_worsened")
    observations = text_of(values, "observations")
    if risk_worsened and not observations:
        errors["observations"] = "Say how the risks have worsened"
    note_left = yes_no(values, "note_left")
    note_reason = text_of(values, "note_reason")

    entries: list[tuple[ChildMeta, dict[str, Any]]] = []
    any_no_one_home = False
    for child in children:
        i = child.ref
        outcome = choice_of(values, f"outcome__{i}")
        if outcome is None:
            errors[f"outcome__{i}"] = "Say whether the child was seen"
            continue
        seen = outcome == "seen"
        no_one_home = outcome == "no-one-home"
        if no_one_home and kind != "home_visit":
            errors[f"outcome__{i}"] = "No one home applies to a home visit only"
        any_no_one_home |= no_one_home
        alone = choice_of(values, f"alone__{i}")
        reason = text_of(values, f"alone_reason__{i}")
        if seen and alone is None:
            errors[f"alone__{i}"] = "Say whether the child was seen alone"
        if not seen and alone in ("yes", "not_applicable"):
            errors[f"alone__{i}"] = "The child was not seen, so cannot have been seen alone"
        if alone == "no" and not reason:
            errors[f"alone_reason__{i}"] = "Say why the child was not seen alone"
        bedroom = yes_no(values, f"bedroom__{i}")
        if seen and kind == "home_visit" and bedroom is None:
            errors[f"bedroom__{i}"] = "Say whether the child's bedroom was seen"
        awake = yes_no(values, f"awake__{i}") if child.baby else None
        if child.baby and seen and awake is None:
            errors[f"awake__{i}"] = "Say whether the baby was seen awake"
        entries.append(
            (
                child,
                {
                    "child_seen": seen,
                    "no_one_home": no_one_home,
                    "seen_alone": alone if seen else ("no" if alone == "no" else None),
                    "seen_alone_reason": reason if alone == "no" else None,
                    "alone_concerns": checked(values, f"alone_concerns__{i}") and alone == "no",
                    "bedroom_seen": bedroom if kind == "home_visit" else None,
                    "child_awake": awake,
                    "spoken_with": yes_no(values, f"spoken__{i}"),
                    "presentation": text_of(values, f"presentation__{i}"),
                    "wishes_feelings": text_of(values, f"wishes__{i}"),
                },
            )
        )
    if any_no_one_home and note_rule:
        if note_left is None:
            errors["note_left"] = f"Say whether a note was left ({note_rule})"
        elif not note_left and not note_reason:
            errors["note_reason"] = f"Say why no note was left ({note_rule})"
    if errors:
        raise FormErrors(errors)
    assert at is not None
    out = []
    for child, e in entries:
        contact = model.Contact(
            at=at,
            kind=kind,
            by=child.by,
            qualified=qualified,
            child_seen=e["child_seen"],
            seen_alone=e["seen_alone"],
            seen_alone_reason=e["seen_alone_reason"],
            bedroom_seen=e["bedroom_seen"],
            child_awake=e["child_awake"],
            recorded_at=max(now, at),
            no_one_home=e["no_one_home"],
            note_left=note_left if e["no_one_home"] else None,
            note_not_left_reason=note_reason if e["no_one_home"] and note_left is False else None,
            risk_worsened=risk_worsened,
            new_injury=new_injury,
            alone_concerns=e["alone_concerns"],
        )
        record = VisitRecord(
            present=present,
            spoken_with=e["spoken_with"],
            observations=observations,
            family_circumstances=text_of(values, "family"),
            new_adults=text_of(values, "new_adults"),
            sleeping_arrangements=text_of(values, "sleeping"),
            presentation=e["presentation"],
            wishes_feelings=e["wishes_feelings"],
            incident_or_injury=incident,
            contact_title=title,
        )
        out.append(VisitEntry(child.ref, contact, record))
    return out


def _visit_time(values: dict[str, Any], tz: tzinfo, now: datetime, errors: dict[str, str]) -> datetime | None:
    day = _el(values, "at_date").get("selected_date")
    clock = _el(values, "at_time").get("selected_time")
    day = day if isinstance(day, str) else None
    clock = clock if isinstance(clock, str) else None
    if not day:
        errors["at_date"] = "Give the date of the visit"
        return None
    if not clock:
        errors["at_time"] = "Give the time of the visit"
        return None
    try:
        at = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tz)
    except ValueError:
        errors["at_date"] = "time must be like 2026-12-21 10:30"
        return None
    if at > now:
        errors["at_date"] = (
            f"a visit cannot be in the future ({at.strftime(TIME_FORMAT)} is after "
            f"{now.astimezone(tz).strftime(TIME_FORMAT)})"
        )
        return None
    return at


# -- the decision ------------------------------------------------------------------------------
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


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    outcome: str
    within_working_days: int | None
    informed: str | None
    note: str | None


def read_decision(values: dict[str, Any], choices: DecisionChoices) -> DecisionEntry:
    errors: dict[str, str] = {}
    outcome = choice_of(values, "outcome")
    if outcome is None:
        errors["outcome"] = "Choose the decision"
    elif outcome not in choices.outcomes:
        errors["outcome"] = "This decision does not apply to this rule"
    days_text = choice_of(values, "days")
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
    return DecisionEntry(outcome, days, text_of(values, "informed"), text_of(values, "note"))
