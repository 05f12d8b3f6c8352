"""evaluate(policy, case, now) -> the open obligations, each with rule ID, deadline, status, owner.

Pure: no I/O, no database, no clock reads. Every number comes from the policy's rule tables; each
rule *kind* below is one function, so a council's policy file can reuse a kind under its own
rule ID. Facts dated before the plan started are ignored: every clock starts at the ICPC at the
earliest.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from functools import cached_property

from dateutil.relativedelta import relativedelta

from scheduler.rules.model import Case, Contact, Decision, Obligation
from scheduler.rules.policy import RULE_KINDS, Policy, Rule

LEAD = "lead_social_worker"
TEAM_MANAGER = "team_manager"
PRACTICE_MANAGER = "practice_manager"
CP_CHAIR = "cp_chair"
SENIOR_MANAGERS = ("practice_manager", "head_of_service")


class CaseError(ValueError):
    """A case the policy refuses (e.g. a plan interval above the floor); names the field."""


# -- the facts, read once per evaluation -------------------------------------------------------
class Facts:
    """What the rules ask of a case, computed once: visits by kind, chains, last sightings."""

    def __init__(self, policy: Policy, case: Case, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.policy = policy
        self.case = case
        self.now = now
        self.tz = policy.timezone
        self.today = now.astimezone(self.tz).date()
        self.cal = policy.calendar
        plan = case.plan
        self.plan = plan
        self.active = plan.ended is None or plan.ended > self.today
        roles = policy.social_worker_roles
        need_qualified = policy.require_qualified

        start = datetime.combine(plan.started, time(), self.tz)
        contacts: list[Contact] = []
        visits: list[Contact] = []  # qualifying (statutory) home visits: child seen
        chain: list[Contact] = []  # home visits not seeing the child since the last that did
        last_seen_lead: Contact | None = None
        last_seen_any: datetime | None = None
        for c in case.contacts:  # the hot loop: a year of contacts for every child of a sweep
            at = c.at
            if at < start or at > now:  # before the plan, or not yet happened at `now`
                continue
            contacts.append(c)
            seen = c.child_seen
            if seen:
                last_seen_any = at
                if c.by == LEAD:
                    last_seen_lead = c
            if c.kind == "home_visit" and c.by in roles and (c.qualified or not need_qualified):
                if seen:
                    visits.append(c)
                    chain = []
                else:
                    chain.append(c)
        self.contacts, self.visits, self.not_seen_chain = contacts, visits, chain
        self.last_seen_lead = last_seen_lead
        for s in case.agency_sightings:
            if s.at <= now and (last_seen_any is None or s.at > last_seen_any):
                last_seen_any = s.at
        self.last_seen_any = last_seen_any
        self.decisions: dict[str, list[Decision]] = {}
        for d in case.decisions:
            if d.at <= now:
                self.decisions.setdefault(d.rule, []).append(d)
        self.interval, self.interval_basis = self._interval()
        self.visit_due: date | None = None  # set by the home-visit rule, read by others
        self.visit_rule: Rule | None = policy.rule_of_kind("home_visit_interval")
        if self.visit_rule is not None:
            self.visit_due = self._visit_due(self.visit_rule)

    @cached_property
    def visit_days(self) -> list[date]:
        """The local dates of the qualifying home visits, ascending."""
        return [self.local_date(v.at) for v in self.visits]

    # helpers -----------------------------------------------------------------------------------
    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def status_of(self, due: date | datetime) -> str:
        if isinstance(due, datetime):
            return "overdue" if self.now > due else "due"
        return "overdue" if self.today > due else "due"

    def decided(
        self, rule: str, since: datetime, outcomes: tuple[str, ...] = (), by: tuple[str, ...] = ()
    ) -> Decision | None:
        """The first decision under `rule` at or after `since` (with an outcome / role if given)."""
        for d in self.decisions.get(rule, ()):
            if d.at >= since and (not outcomes or d.outcome in outcomes) and (not by or d.by in by):
                return d
        return None

    def decided_on_or_after(self, rule: str, day: date) -> list[Decision]:
        return [d for d in self.decisions.get(rule, ()) if self.local_date(d.at) >= day]

    def age_years(self, on: date) -> int | None:
        dob = self.case.child.date_of_birth
        if dob is None:
            return None
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))

    def age_months(self, on: date) -> int | None:
        dob = self.case.child.date_of_birth
        if dob is None:
            return None
        return (on.year - dob.year) * 12 + on.month - dob.month - (on.day < dob.day)

    def label(self, contact: Contact) -> str:
        return outcome_label(self.policy, contact)

    def _interval(self) -> tuple[int | None, str]:
        """The plan's interval, or the latest agreed change of it (CB-FREQ-CHANGE)."""
        interval = self.plan.visit_interval_working_days
        basis = "the plan's visit interval" if interval else ""
        if self.plan.cp_chair_agreed_interval_on and interval:
            basis = f"the plan's interval, agreed by the CP Chair on {self.plan.cp_chair_agreed_interval_on}"
        limit = self.policy.max_interval()
        if interval is not None and limit is not None and interval > limit[0]:
            raise CaseError(
                f"plan.visit_interval_working_days: {interval} is above the floor of {limit[0]} "
                f"working days in {self.policy.id} ({limit[1]})"
            )
        change = self.policy.rule_of_kind("frequency_change")
        if change is not None:
            for d in self.decisions.get(change.id, ()):
                if d.outcome != "interval_changed" or d.within_working_days is None:
                    continue
                if limit is not None and d.within_working_days > limit[0]:
                    raise CaseError(
                        f"decisions: {change.id} interval {d.within_working_days} is above the "
                        f"floor of {limit[0]} working days in {self.policy.id} ({limit[1]})"
                    )
                if d.by in change.deciders:
                    interval = d.within_working_days
                    basis = (
                        f"the interval changed to {interval} working days by the "
                        f"{d.by.replace('_', ' ')} on {self.local_date(d.at)} ({change.id})"
                    )
        return interval, basis

    def _visit_due(self, rule: Rule) -> date | None:
        interval = self.interval or rule["interval_working_days"]
        if self.visits:
            return self.cal.add_working_days(self.local_date(self.visits[-1].at), interval)
        if rule["first_due_from"] == "plan_start":
            return self.cal.add_working_days(self.plan.started, interval)
        initial = self.policy.rule_of_kind("initial_visit")
        if initial is not None:
            return self.plan.started + timedelta(days=initial["within_days"])
        return None

    def obligation(
        self, rule: Rule, owner: str, due: date | datetime, summary: str, basis: str, anchor: object
    ) -> Obligation:
        if not isinstance(due, datetime):  # RULES.md R4: a date deadline falls on a working day
            due = self.cal.next_working_day_on_or_after(due)
        return Obligation(
            rule=rule.id,
            due=due,
            status=self.status_of(due),  # type: ignore[arg-type]
            owner=owner,
            summary=summary,
            basis=basis,
            key=f"{self.case.child.ref}:{rule.id}:{owner}:{anchor}",
        )


def _manager_prompt(
    f: Facts,
    rule: Rule,
    trigger: datetime,
    hours: int,
    summary: str,
    basis: str,
    raised: datetime | None = None,
) -> Iterator[Obligation]:
    """The team manager must decide under `rule` on what happened at `trigger`, within `hours` of
    it being raised (default: of the trigger); met by a decision recorded since the trigger by
    one of the rule's deciders (RULES.md R1)."""
    if not f.decided(rule.id, trigger, by=rule.deciders):
        yield f.obligation(
            rule, TEAM_MANAGER, _hours(raised or trigger, hours), summary, basis, trigger.isoformat()
        )


RuleFn = Callable[[Facts, Rule], Iterator[Obligation]]
_RULES: dict[str, RuleFn] = {}
_WHEN_ENDED = {"record_within", "record_flag", "no_one_home_note", "step_down"}


def _kind(name: str) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        _RULES[name] = fn
        return fn

    return register


def _hours(instant: datetime, hours: int) -> datetime:
    return instant + timedelta(hours=hours)


# -- visits on time ----------------------------------------------------------------------------
@_kind("home_visit_interval")
def _home_visit_interval(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-VISIT-10WD, HI-VISIT-20WD: a qualifying home visit at least every N working days."""
    if f.visit_due is None or (rule["first_due_from"] == "initial_visit" and not f.visits):
        return
    interval = f.interval or rule["interval_working_days"]
    if f.visits:
        last = f.local_date(f.visits[-1].at)
        basis = f"last {f.label(f.visits[-1])} seeing the child on {last}"
        anchor = last
    else:
        basis = f"plan start (initial conference) on {f.plan.started}"
        anchor = f.plan.started
    basis += f"; every {interval} working days ({f.interval_basis or 'the policy minimum'})"
    yield f.obligation(
        rule,
        LEAD,
        f.visit_due,
        f"Home visit: see the child at home by {f.visit_due} ({interval} working days)",
        basis,
        anchor,
    )


@_kind("initial_visit")
def _initial_visit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-INITIAL-1WK: seen at home within one week of the initial conference."""
    if f.visits:
        return
    due = f.plan.started + timedelta(days=rule["within_days"])
    yield f.obligation(
        rule,
        LEAD,
        due,
        f"Initial visit: a qualified social worker sees the child at home by {due}",
        f"plan start (initial conference) on {f.plan.started} + {rule['within_days']} days",
        f.plan.started,
    )


@_kind("seen_before_meetings")
def _seen_before_meetings(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-BEFORE-REVIEW, HI-BEFORE-CG: a statutory visit since the previous meeting, before this one."""
    meetings = [m for m in getattr(f.plan, rule["meetings"]) if m >= f.plan.started]
    if not meetings:
        return
    what = "review conference" if rule["meetings"] == "review_conferences" else "core group meeting"
    visit_days = f.visit_days
    i = bisect_left(meetings, f.today)  # meetings[i] is the next one (today or later)
    for k in (i - 1, i):
        if not 0 <= k < len(meetings):
            continue
        meeting = meetings[k]
        if k == 0:
            since, lo = f.plan.started, bisect_left(visit_days, f.plan.started)
            since_text = f"the plan start on {since}"
        else:
            since, lo = meetings[k - 1], bisect_right(visit_days, meetings[k - 1])
            since_text = f"the previous {what} on {since}"
        if lo < len(visit_days) and visit_days[lo] <= meeting:
            continue
        yield f.obligation(
            rule,
            LEAD,
            meeting,
            f"See the child on a statutory home visit before the {what} on {meeting}",
            f"{what} on {meeting}; no statutory visit since {since_text}",
            meeting,
        )


# -- the visit record --------------------------------------------------------------------------
@_kind("record_within")
def _record_within(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-RECORD, HI-RECORD-24H: every contact recorded within N hours."""
    for c in f.contacts:
        if c.recorded_at is not None or c.by not in f.policy.social_worker_roles:
            continue
        due = _hours(c.at, rule["within_hours"])
        what = "Record of a Child Protection Visit" if c.kind == "home_visit" else "case note"
        yield f.obligation(
            rule,
            LEAD,
            due,
            f"Complete the {what} for the {f.label(c)} on {f.local_date(c.at)} "
            f"(within {rule['within_hours']} hours)",
            f"{f.label(c)} at {c.at.isoformat()} not yet recorded",
            _contact_anchor(c),
        )


@_kind("no_one_home_note")
def _no_one_home_note(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-NOONE-NOTE: a note left when no one is in, or the reason recorded why not."""
    for c in f.contacts:
        if not c.no_one_home or c.note_left or c.note_not_left_reason:
            continue
        due = _hours(c.at, rule["within_hours"])
        yield f.obligation(
            rule,
            LEAD,
            due,
            f"No one was in on {f.local_date(c.at)}: record that a note was left "
            "(call-back time, contact details) or why not",
            f"visit at {c.at.isoformat()} with no one home, no note recorded",
            _contact_anchor(c),
        )


_FLAG_TEXT = {
    "risk_worsened": "says the risks have worsened greatly: discuss with a manager now",
    "new_injury": "records a new incident or injury: start full Child Protection Enquiries",
}


@_kind("record_flag")
def _record_flag(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-RISK-WORSE, CB-NEW-INJURY: the team manager is alerted at once."""
    flag = rule["flag"]
    for c in f.contacts:
        if getattr(c, flag):
            yield from _manager_prompt(
                f,
                rule,
                c.at,
                rule["respond_within_hours"],
                f"The record of the {f.label(c)} on {f.local_date(c.at)} {_FLAG_TEXT[flag]}",
                f"visit record of {c.at.isoformat()}",
                raised=c.recorded_at or c.at,
            )


# -- how the visits went -----------------------------------------------------------------------
def _runs(visits: list[Contact], inside: Callable[[Contact], bool]) -> Iterator[tuple[int, Contact]]:
    """Each maximal run of consecutive visits for which `inside` holds: (its length, its last visit)."""
    run = 0
    for i, v in enumerate(visits):
        if inside(v):
            run += 1
            if i + 1 == len(visits) or not inside(visits[i + 1]):
                yield run, v
        else:
            run = 0


@_kind("bedroom_alternate")
def _bedroom_alternate(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-BEDROOM-ALT: the bedroom seen at least on alternate home visits. A breach prompt stays
    open until the team manager decides, whatever later visits see (RULES.md R2)."""
    if not f.visits:
        return
    last = f.visits[-1]
    if not last.bedroom_seen and f.active and f.visit_due is not None:
        day = f.local_date(last.at)
        yield f.obligation(
            rule,
            LEAD,
            f.visit_due,
            f"Bedroom not seen on {day}: the next home visit (by {f.visit_due}) must see the child's bedroom",
            f"home visit on {day} without seeing the bedroom",
            day,
        )
    for run, end in _runs(f.visits, lambda v: not v.bedroom_seen):
        if run >= rule["breach_after_visits"]:
            day = f.local_date(end.at)
            yield from _manager_prompt(
                f,
                rule,
                end.at,
                rule["respond_within_hours"],
                f"Bedroom not seen on {run} home visits in a row (last on {day}): "
                "review and record a decision",
                f"{run} consecutive home visits without the bedroom, the last on {day}",
            )


def _not_seen_alone(f: Facts, v: Contact, min_age: int) -> bool:
    """A visit that did not see the child alone: "no", or (RULES.md R11) a record of a child of
    `min_age` or over that does not say."""
    if v.seen_alone == "no":
        return True
    if v.seen_alone is not None:
        return False
    age = f.age_years(f.local_date(v.at))
    return age is not None and age >= min_age


@_kind("seen_alone_run")
def _seen_alone_run(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-SEEN-ALONE: a child of 4+ not seen alone on N visits in a row: the team manager is told,
    and the prompt stays open until decided (RULES.md R2, R11)."""
    min_age = rule["min_age_years"]

    def inside(v: Contact) -> bool:
        age = f.age_years(f.local_date(v.at))
        return age is not None and age >= min_age and _not_seen_alone(f, v, min_age)

    for run, end in _runs(f.visits, inside):
        if run < rule["consecutive_visits"]:
            continue
        yield from _manager_prompt(
            f,
            rule,
            end.at,
            rule["respond_within_hours"],
            f"Not seen alone on {run} home visits in a row (child aged {min_age}+): "
            "consider in supervision and record the decision",
            f"{run} consecutive visits not seen alone, the last on {f.local_date(end.at)}",
        )


@_kind("baby_awake")
def _baby_awake(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-BABY-AWAKE: a baby (under N months) seen awake at every visit."""
    if f.case.child.date_of_birth is None:
        return
    for v in f.visits:
        if v.child_awake:
            continue
        day = f.local_date(v.at)
        months = f.age_months(day)
        if months is None or months >= rule["baby_under_months"]:
            continue
        said = "not seen awake" if v.child_awake is False else "not recorded as seen awake"
        yield from _manager_prompt(
            f,
            rule,
            v.at,
            rule["respond_within_hours"],
            f"Baby {said} at the home visit on {day}: review and record the decision",
            f"home visit on {day}, baby aged {months} months",
        )


@_kind("seen_alone_each_visit")
def _seen_alone_each_visit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-SEEN-ALONE: seen alone at each visit; if not, the next visit must; concerns to the TM,
    open until decided (RULES.md R2). A record of a child of 4+ that does not say counts as not
    seen alone (R11)."""
    if not f.visits:
        return
    min_age = rule["unstated_from_age_years"]
    last = f.visits[-1]
    if _not_seen_alone(f, last, min_age) and f.active and f.visit_due is not None:
        day = f.local_date(last.at)
        why = "the reason is in the visit record" if last.seen_alone == "no" else "no reason given"
        yield f.obligation(
            rule,
            LEAD,
            f.visit_due,
            f"Not seen alone on {day}: the next statutory visit (by {f.visit_due}) must see the child alone",
            f"{f.label(last)} on {day}, not seen alone ({why})",
            day,
        )
    for v in f.visits:
        if v.alone_concerns and _not_seen_alone(f, v, min_age):
            day = f.local_date(v.at)
            yield from _manager_prompt(
                f,
                rule,
                v.at,
                rule["respond_within_hours"],
                f"Not seen alone on {day} and the social worker has concerns: review and record",
                f"{f.label(v)} on {day} with concerns",
            )


# -- when the child is not seen ----------------------------------------------------------------
@_kind("not_seen_discuss")
def _not_seen_discuss(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-NOTSEEN-DISCUSS: a not-seen home visit is discussed with a team manager within 24 h."""
    if not f.not_seen_chain:
        return
    first = f.not_seen_chain[0]
    yield from _manager_prompt(
        f,
        rule,
        first.at,
        rule["within_hours"],
        f"Child not seen at the home visit on {f.local_date(first.at)}: discuss with the lead social "
        "worker and record emergency action or a further-visit timeframe",
        f"not-seen home visit at {first.at.isoformat()}",
    )


@_kind("not_seen_revisit")
def _not_seen_revisit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-NOTSEEN-REVISIT: a further visit within the manager's timeframe, at most N WD."""
    if len(f.not_seen_chain) != 1:
        return
    first = f.not_seen_chain[0]
    day = f.local_date(first.at)
    days = rule["max_working_days"]
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
        LEAD,
        due,
        f"Further visit after the not-seen visit on {day}: see the child by {due}",
        basis,
        first.at.isoformat(),
    )


@_kind("not_seen_again")
def _not_seen_again(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-NOTSEEN-AGAIN: still not seen at the further visit: discuss again, check, visit in 24 h."""
    chain = f.not_seen_chain
    for visit in chain[1:]:
        yield from _manager_prompt(
            f,
            rule,
            visit.at,
            rule["within_hours"],
            f"Child still not seen at the further visit on {f.local_date(visit.at)}: discuss again "
            "with the lead social worker and record the decision",
            f"not-seen home visit at {visit.at.isoformat()} after an earlier one",
        )
    if len(chain) < 2 or not f.active:
        return
    last = chain[-1]
    day = f.local_date(last.at)
    window = f.cal.add_working_days(day, -rule["agency_check_working_days"])
    seen = [s for s in f.case.agency_sightings if s.at <= f.now and f.local_date(s.at) >= window]
    checked = f"; recorded: seen by {seen[-1].agency} on {f.local_date(seen[-1].at)}" if seen else ""
    yield f.obligation(
        rule,
        LEAD,
        _hours(last.at, rule["revisit_within_hours"]),
        f"Child still not seen on {day}: check with other agencies whether the child was seen "
        f"since {window}, attempt contact with the family, and visit within "
        f"{rule['revisit_within_hours']} hours{checked}",
        f"second not-seen home visit at {last.at.isoformat()}",
        last.at.isoformat(),
    )


@_kind("access_difficulty")
def _access_difficulty(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-ACCESS: a third not-seen visit in a row, or a manager says so: senior managers decide."""
    trigger: datetime | None = None
    why = ""
    n = rule["consecutive_not_seen"]
    if len(f.not_seen_chain) >= n:
        trigger = f.not_seen_chain[n - 1].at
        why = f"{n} home visits in a row without seeing the child"
    since = f.visits[-1].at if f.visits else datetime.min.replace(tzinfo=f.now.tzinfo)
    said = f.decided(rule.id, since, outcomes=("access_difficulty",))
    if said is not None and (trigger is None or said.at < trigger):
        trigger = said.at
        why = f"the {said.by.replace('_', ' ')} recorded difficulty obtaining access"
    if trigger is None:
        return
    if f.decided(
        rule.id,
        trigger,
        outcomes=("another_agency_to_see", "review_conference"),
        by=rule.deciders,
    ):
        return
    yield f.obligation(
        rule,
        PRACTICE_MANAGER,
        _hours(trigger, rule["respond_within_hours"]),
        "Difficulty obtaining access to the child: inform the practice manager or head of service, "
        "the CP Conference Chair and the core group; record an authorised decision that another "
        "agency sees the child, or call a Review CP Conference",
        f"{why} (since {trigger.isoformat()})",
        trigger.isoformat(),
    )


@_kind("unseen_by_lead")
def _unseen_by_lead(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-20CD-LSW: not seen by the lead social worker for N calendar days: the TM acts."""
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
        lapse = since + timedelta(days=rule["calendar_days"])
        if f.today < lapse:
            return
        decisions = [  # RULES.md R1 (its deciders only) and R3 (on or after the lapse day)
            d
            for d in f.decided_on_or_after(rule.id, lapse)
            if d.by in rule.deciders and (after is None or d.at > after)
        ]
        closed = [d for d in decisions if d.outcome in closing]
        if not closed:
            break
        after = closed[-1].at
        since = f.local_date(after)
        basis = f"{closed[-1].outcome.replace('_', ' ')} recorded on {since}, still not seen by the lead"
    basis += f"; {rule['calendar_days']} calendar days to {lapse}"
    if not decisions:
        yield f.obligation(
            rule,
            TEAM_MANAGER,
            lapse,
            f"Not seen by the lead social worker for {rule['calendar_days']} days: assess the risks "
            "and decide whether emergency action is needed",
            basis,
            f"{since}:assess",
        )
        return
    contacted = [d for d in decisions if d.outcome == "family_contacted"]
    if not contacted:
        due = f.cal.add_working_days(lapse, rule["contact_within_working_days"])
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
    due = f.cal.add_working_days(contact_day, rule["meet_within_working_days"])
    yield f.obligation(
        rule,
        TEAM_MANAGER,
        due,
        f"Meet the parent with the lead social worker by {due}: a written agreement about future "
        "contact, and the core group informed",
        basis + f"; family contacted on {contact_day}",
        f"{since}:meet",
    )


@_kind("unseen_by_anyone")
def _unseen_by_anyone(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-30WD-ANY: not seen by any agency for N working days: the CP Chair and an urgent core group."""
    if not f.active:
        return
    if f.last_seen_any is not None and f.local_date(f.last_seen_any) >= f.plan.started:
        since = f.local_date(f.last_seen_any)
        basis = f"last seen by any agency on {since}"
    else:
        since = f.plan.started
        basis = f"not seen by any agency since the plan start on {since}"
    lapse = f.cal.add_working_days(since, rule["working_days"])
    if f.today < lapse:
        return
    basis += f"; {rule['working_days']} working days to {lapse}"
    decisions = [d for d in f.decided_on_or_after(rule.id, since) if d.by in rule.deciders]
    if not any(d.outcome == "core_group_meeting" for d in decisions):
        yield f.obligation(
            rule,
            TEAM_MANAGER,
            lapse,
            f"Not seen by any agency for {rule['working_days']} working days: notify the CP Chair "
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
            f"{rule['working_days']} working days; acknowledge and agree the action plan",
            basis,
            f"{since}:chair",
        )


# -- the plan itself ---------------------------------------------------------------------------
@_kind("frequency_change")
def _frequency_change(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-FREQ-CHANGE: a change of frequency between conferences needs the CP Chair's agreement."""
    for d in f.decisions.get(rule.id, ()):
        if d.outcome != "interval_changed" or d.by in rule.deciders:
            continue
        if f.decided(rule.id, d.at, outcomes=("interval_changed",), by=rule.deciders):
            continue
        day = f.local_date(d.at)
        yield f.obligation(
            rule,
            CP_CHAIR,
            day,
            f"Visit frequency change to every {d.within_working_days} working days (proposed on "
            f"{day} by the {d.by.replace('_', ' ')}) needs the CP Chair's agreement, recorded as a "
            "CP chair case note or a management decision; until then the current interval stands",
            f"frequency change proposed at {d.at.isoformat()}",
            d.at.isoformat(),
        )


@_kind("step_down")
def _step_down(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-STEPDOWN: at plan end, the Child in Need visiting arrangement is recorded."""
    ended = f.plan.ended
    if ended is None or f.today < ended:
        return
    if any(
        d.outcome == "cin_arrangement_recorded" and d.by in rule.deciders
        for d in f.decided_on_or_after(rule.id, f.plan.started)
    ):
        return
    warnings = []
    if f.plan.plan_number >= 2:
        warnings.append("a second or subsequent plan")
    if ended > f.plan.started + relativedelta(months=rule["long_plan_months"]):
        warnings.append(f"on the plan for over {rule['long_plan_months']} months")
    if f.plan.exploitation_concerns:
        warnings.append("child exploitation concerns")
    caution = f"; reduce visiting gradually: {', '.join(warnings)}" if warnings else ""
    yield f.obligation(
        rule,
        LEAD,
        ended,
        f"Plan ended on {ended}: record the Child in Need visiting arrangement{caution}",
        f"plan ended on {ended}",
        ended,
    )


@_kind("keep_deadline_revisit")
def _keep_deadline_revisit(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """HI-NOTSEEN-REVISIT: not seen: visit again within the same timescale; the TM told when at risk."""
    if not f.not_seen_chain or f.visit_due is None or not f.active:
        return
    due = f.visit_due
    at_risk = f.cal.add_working_days(due, -rule["at_risk_working_days"])
    if f.today < at_risk:
        return
    last = f.not_seen_chain[-1]
    yield f.obligation(
        rule,
        TEAM_MANAGER,
        due,
        f"At risk: the child was not seen on {f.local_date(last.at)} and must be seen by a "
        f"qualified social worker by {due} (the deadline does not move)",
        f"{f.label(last)} on {f.local_date(last.at)}; at risk from {at_risk}",
        due,
    )


@_kind("frequency_floor")
@_kind("qualified_visitor")
@_kind("outcome_labels")
@_kind("statutory_at_home")
def _constraint(f: Facts, rule: Rule) -> Iterator[Obligation]:
    """CB-FREQ-FLOOR, HI-QUALIFIED, HI-OUTCOME, HI-AWAY: constraints on the other rules, no deadline."""
    return iter(())


missing = set(RULE_KINDS) - set(_RULES)
assert not missing, f"rule kinds without an implementation: {missing}"


def evaluate(policy: Policy, case: Case, now: datetime) -> list[Obligation]:
    """The open obligations of one child at `now`, by deadline. Met obligations are not listed."""
    facts = Facts(policy, case, now)
    out: list[Obligation] = []
    for rule in policy.rules.values():
        if facts.active or rule.kind in _WHEN_ENDED:
            out.extend(_RULES[rule.kind](facts, rule))
    tz = policy.timezone

    def ends(o: Obligation) -> tuple[datetime, str, str]:
        """By when it must be done: an instant, or the end of the local day of a date."""
        if isinstance(o.due, datetime):
            return o.due, o.rule, o.owner
        return datetime.combine(o.due + timedelta(days=1), time(), tz), o.rule, o.owner

    out.sort(key=ends)
    return out


def _contact_anchor(c: Contact) -> str:
    """What tells one contact's obligations from another's (two contacts can share an instant)."""
    return f"{c.at.isoformat()}/{c.kind}"


def outcome_label(policy: Policy, contact: Contact) -> str:
    """HI-OUTCOME's label for a contact (or a plain description where the policy sets none).

    Only a statutory visit gets a statutory label: at home, by a social worker, and (HI-QUALIFIED)
    by a qualified and registered one.
    """
    plain = "home visit" if contact.kind == "home_visit" else contact.kind.replace("_", " ")
    rule = policy.rule_of_kind("outcome_labels")
    if rule is None or contact.kind != "home_visit":
        return plain
    if contact.by not in policy.social_worker_roles:
        return f"{plain} (not a statutory visit: not by a social worker)"
    if policy.require_qualified and not contact.qualified:
        return f"{plain} (not a statutory visit: the visitor is not qualified and registered)"
    return rule["seen"] if contact.child_seen else rule["not_seen"]
