"""When the child is not seen: CB-NOTSEEN-DISCUSS, CB-NOTSEEN-REVISIT, CB-NOTSEEN-AGAIN,
CB-ACCESS, CB-20CD-LSW, CB-30WD-ANY, HI-NOTSEEN-REVISIT."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler.rules.facts import hours_after
from scheduler.rules.kinds.registry import kind
from scheduler.rules.model import (
    CP_CHAIR,
    LEAD_SOCIAL_WORKER,
    PRACTICE_MANAGER,
    TEAM_MANAGER,
    Decision,
    Obligation,
)
from scheduler.rules.params import NonNegative, Positive

if TYPE_CHECKING:
    from scheduler.rules.facts import Facts
    from scheduler.rules.policy import Rule


@dataclass(frozen=True, slots=True)
class NotSeenDiscuss:
    within_hours: Positive


@kind("not_seen_discuss", NotSeenDiscuss, owners=(TEAM_MANAGER,), decided=True)
def not_seen_discuss(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-NOTSEEN-DISCUSS: a not-seen home visit is discussed with a team manager within 24 h."""
    if not f.not_seen_chain:
        return
    first = f.not_seen_chain[0]
    day = f.local_date(first.at)
    p: NotSeenDiscuss = rule.on(day)
    yield from f.manager_prompt(
        rule,
        first.at,
        p.within_hours,
        f"Child not seen at the home visit on {day}: discuss with the lead social "
        "worker and record emergency action or a further-visit timeframe",
        f"not-seen home visit at {first.at.isoformat()}",
    )


@dataclass(frozen=True, slots=True)
class NotSeenRevisit:
    max_working_days: Positive


@kind("not_seen_revisit", NotSeenRevisit, owners=(LEAD_SOCIAL_WORKER,))
def not_seen_revisit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-NOTSEEN-REVISIT: a further visit within the manager's timeframe, at most N WD; only a
    decider of CB-NOTSEEN-DISCUSS sets the timeframe (RULES.md R1)."""
    if len(f.not_seen_chain) != 1:
        return
    first = f.not_seen_chain[0]
    day = f.local_date(first.at)
    p: NotSeenRevisit = rule.on(day)
    days = p.max_working_days
    basis = f"not-seen home visit on {day}; at the latest {days} working days"
    discuss = f.policy.rule_of_kind("not_seen_discuss")
    decision = f.decided(discuss.id, first.at, by=discuss.deciders) if discuss else None
    if decision is not None and decision.within_working_days:
        if decision.within_working_days < days:
            days = decision.within_working_days
        basis += f"; manager's timeframe {decision.within_working_days} working days"
    due = f.cal.add_working_days(day, days)
    yield f.obligation(
        rule,
        LEAD_SOCIAL_WORKER,
        due,
        f"Further visit after the not-seen visit on {day}: see the child by {due}",
        basis,
        first.at.isoformat(),
    )


@dataclass(frozen=True, slots=True)
class NotSeenAgain:
    within_hours: Positive
    revisit_within_hours: Positive
    agency_check_working_days: Positive


@kind(
    "not_seen_again",
    NotSeenAgain,
    owners=(
        TEAM_MANAGER,
        LEAD_SOCIAL_WORKER,
    ),
    decided=True,
)
def not_seen_again(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-NOTSEEN-AGAIN: still not seen at the further visit: discuss again, check, visit in 24 h."""
    chain = f.not_seen_chain
    for visit in chain[1:]:
        day = f.local_date(visit.at)
        yield from f.manager_prompt(
            rule,
            visit.at,
            rule.on(day).within_hours,
            f"Child still not seen at the further visit on {day}: discuss again "
            "with the lead social worker and record the decision",
            f"not-seen home visit at {visit.at.isoformat()} after an earlier one",
        )
    if len(chain) < 2 or not f.active:
        return
    last = chain[-1]
    day = f.local_date(last.at)
    p: NotSeenAgain = rule.on(day)
    window = f.cal.add_working_days(day, -p.agency_check_working_days)
    seen = [s for s in f.case.agency_sightings if s.at <= f.now and f.local_date(s.at) >= window]
    checked = f"; recorded: seen by {seen[-1].agency} on {f.local_date(seen[-1].at)}" if seen else ""
    yield f.obligation(
        rule,
        LEAD_SOCIAL_WORKER,
        hours_after(last.at, p.revisit_within_hours),
        f"Child still not seen on {day}: check with other agencies whether the child was seen "
        f"since {window}, attempt contact with the family, and visit within "
        f"{p.revisit_within_hours} hours{checked}",
        f"second not-seen home visit at {last.at.isoformat()}",
        last.at.isoformat(),
    )


@dataclass(frozen=True, slots=True)
class AccessDifficulty:
    consecutive_not_seen: Positive
    respond_within_hours: NonNegative


@kind("access_difficulty", AccessDifficulty, owners=(PRACTICE_MANAGER,), decided=True)
def access_difficulty(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-ACCESS: a third not-seen visit in a row, or a manager says so: senior managers decide
    (the rule's deciders, RULES.md R1)."""
    chain = f.not_seen_chain
    p: AccessDifficulty = rule.on(f.local_date(chain[0].at) if chain else f.today)
    trigger: datetime | None = None
    why = ""
    n = p.consecutive_not_seen
    if len(chain) >= n:
        trigger = chain[n - 1].at
        why = f"{n} home visits in a row without seeing the child"
    last = f.last_visit
    since = last.at if last is not None else datetime.min.replace(tzinfo=f.now.tzinfo)
    said = f.decided(rule.id, since, outcomes=("access_difficulty",))
    if said is not None and (trigger is None or said.at < trigger):
        trigger = said.at
        why = f"the {said.by.replace('_', ' ')} recorded difficulty obtaining access"
    if trigger is None:
        return
    if f.decided(rule.id, trigger, ("another_agency_to_see", "review_conference"), rule.deciders):
        return
    yield f.obligation(
        rule,
        PRACTICE_MANAGER,
        hours_after(trigger, p.respond_within_hours),
        "Difficulty obtaining access to the child: inform the practice manager or head of service, "
        "the CP Conference Chair and the core group; record an authorised decision that another "
        "agency sees the child, or call a Review CP Conference",
        f"{why} (since {trigger.isoformat()})",
        trigger.isoformat(),
    )


@dataclass(frozen=True, slots=True)
class UnseenByLead:
    calendar_days: Positive
    contact_within_working_days: Positive
    meet_within_working_days: Positive


@kind("unseen_by_lead", UnseenByLead, owners=(TEAM_MANAGER,), decided=True)
def unseen_by_lead(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-20CD-LSW: not seen by the lead social worker for N calendar days: the TM acts. It opens
    on the lapse day (RULES.md R4), is met only by its deciders' decisions on or after it (R1,
    R3), runs again from a written agreement (R5); the family contact is due N WD after the
    lapse however late the assessment (R8)."""
    if not f.active:
        return
    if f.last_seen_lead is not None:
        since = f.local_date(f.last_seen_lead.at)
        basis = f"last seen by the lead social worker on {since}"
    else:
        since = f.plan.started
        basis = f"not seen by the lead social worker since the plan start on {since}"
    closing = ("emergency_action", "written_agreement")
    after: datetime | None = None  # the decision that closed the last cycle
    while True:  # a cycle closed by emergency action or a written agreement restarts the clock
        p: UnseenByLead = rule.on(since)
        lapse = since + timedelta(days=p.calendar_days)
        if f.today < lapse:
            return
        decisions: list[Decision] = [
            d for d in f.decided_on_or_after(rule, lapse) if after is None or d.at > after
        ]
        closed = [d for d in decisions if d.outcome in closing]
        if not closed:
            break
        after = closed[-1].at
        since = f.local_date(after)
        basis = f"{closed[-1].outcome.replace('_', ' ')} recorded on {since}, still not seen by the lead"
    basis += f"; {p.calendar_days} calendar days to {lapse}"
    if not decisions:
        yield f.obligation(
            rule,
            TEAM_MANAGER,
            lapse,
            f"Not seen by the lead social worker for {p.calendar_days} days: assess the risks "
            "and decide whether emergency action is needed",
            basis,
            f"{since}:assess",
        )
        return
    contacted = [d for d in decisions if d.outcome == "family_contacted"]
    if not contacted:
        due = f.cal.add_working_days(lapse, p.contact_within_working_days)
        yield f.obligation(
            rule,
            TEAM_MANAGER,
            due,
            f"Contact the family (telephone, email or letter) by {due} to set up a meeting with the parent",
            basis + "; risks assessed, not immediate",
            f"{since}:contact",
        )
        return
    contact_day = f.local_date(contacted[0].at)
    due = f.cal.add_working_days(contact_day, p.meet_within_working_days)
    yield f.obligation(
        rule,
        TEAM_MANAGER,
        due,
        f"Meet the parent with the lead social worker by {due}: a written agreement about future "
        "contact, and the core group informed",
        basis + f"; family contacted on {contact_day}",
        f"{since}:meet",
    )


@dataclass(frozen=True, slots=True)
class UnseenByAnyone:
    working_days: Positive


@kind(
    "unseen_by_anyone",
    UnseenByAnyone,
    owners=(
        TEAM_MANAGER,
        CP_CHAIR,
    ),
    decided=True,
)
def unseen_by_anyone(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-30WD-ANY: not seen by any agency for N working days: the CP Chair and an urgent core group."""
    if not f.active:
        return
    last_seen = f.local_date(f.last_seen_any) if f.last_seen_any is not None else None
    since = last_seen if last_seen is not None and last_seen >= f.plan.started else f.plan.started
    p: UnseenByAnyone = rule.on(since)
    lapse = f.cal.add_working_days(since, p.working_days)
    if f.today < lapse:
        return
    if since == last_seen:
        basis = f"last seen by any agency on {since}"
    else:
        basis = f"not seen by any agency since the plan start on {since}"
    basis += f"; {p.working_days} working days to {lapse}"
    decisions = f.decided_on_or_after(rule, since)
    if not any(d.outcome == "core_group_meeting" for d in decisions):
        yield f.obligation(
            rule,
            TEAM_MANAGER,
            lapse,
            f"Not seen by any agency for {p.working_days} working days: notify the CP Chair "
            "and set up an urgent core group meeting, chaired by a team manager, to agree an action "
            "plan; the lead social worker discusses it with the Conference Chair",
            basis,
            f"{since}:core-group",
        )
    if not any(d.by == CP_CHAIR for d in decisions):
        yield f.obligation(
            rule,
            CP_CHAIR,
            lapse,
            f"For the CP Chair: the child has not been seen by any agency for "
            f"{p.working_days} working days; acknowledge and agree the action plan",
            basis,
            f"{since}:chair",
        )


@dataclass(frozen=True, slots=True)
class KeepDeadlineRevisit:
    at_risk_working_days: NonNegative


@kind("keep_deadline_revisit", KeepDeadlineRevisit, owners=(TEAM_MANAGER,))
def keep_deadline_revisit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-NOTSEEN-REVISIT: not seen: visit again within the same timescale; the TM told when at risk."""
    if not f.not_seen_chain or f.visit_due is None or not f.active:
        return
    last = f.not_seen_chain[-1]
    day = f.local_date(last.at)
    due = f.visit_due
    at_risk = f.cal.add_working_days(due, -rule.on(day).at_risk_working_days)
    if f.today < at_risk:
        return
    yield f.obligation(
        rule,
        TEAM_MANAGER,
        due,
        f"At risk: the child was not seen on {day} and must be seen by a "
        f"qualified social worker by {due} (the deadline does not move)",
        f"{f.label(last)} on {day}; at risk from {at_risk}",
        due,
    )
