"""What the rules ask of one child's case at `now`, read once per evaluation, and the small
helpers every rule kind shares (an obligation, a manager prompt, a contact's label).

The derived facts several rules share are named properties of `Facts`, each with its own tests
(tests/rules/test_facts.py): the qualifying home visits and the last of them, the interval in
force (CB-FREQ-CHANGE), and the visit due date (CB-VISIT-10WD, HI-VISIT-20WD).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from scheduler.rules.model import (
    LEAD_SOCIAL_WORKER,
    TEAM_MANAGER,
    Case,
    Contact,
    Decision,
    Obligation,
    Status,
)

if TYPE_CHECKING:
    from scheduler.rules.policy import Policy, Rule

T = TypeVar("T")
_at = attrgetter("at")


class lazy(Generic[T]):
    """A property computed on first use and then kept on the instance: functools.cached_property
    without its lock (Python 3.11 takes one on every first access, a cost paid by every child of
    a sweep)."""

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


class CaseError(ValueError):
    """A case the policy refuses (e.g. a plan interval above the floor); names the field."""


class Facts:
    """The facts of one case at `now`: contacts in force, qualifying visits, the not-seen chain,
    the last sightings and the decisions by rule. Facts dated before the plan started, or after
    `now`, are left out: every clock starts at the ICPC at the earliest."""

    def __init__(self, policy: Policy, case: Case, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.policy = policy
        self.case = case
        self.now = now
        self.tz = policy.timezone
        self.today = local_today(now, self.tz)
        self.cal = policy.calendar
        self.plan = plan = case.plan
        self.active = plan.ended is None or plan.ended > self.today
        roles = policy.social_worker_roles
        need_qualified = policy.require_qualified

        # The contacts since the plan started that have happened by `now` (a case keeps them in
        # time order; most cases have none outside, and are not searched).
        start = day_start(plan.started, self.tz)
        contacts = case.contacts
        if contacts and (contacts[0].at < start or contacts[-1].at > now):
            contacts = contacts[bisect_left(contacts, start, key=_at) : bisect_right(contacts, now, key=_at)]
        # A year of contacts for every child of a sweep: each list in one comprehension, and the
        # latest sightings found from the end
        home = [
            c
            for c in contacts
            if c.kind == "home_visit" and c.by in roles and (c.qualified or not need_qualified)
        ]
        visits = [c for c in home if c.child_seen]  # qualifying (statutory) home visits: child seen
        i = len(home)
        while i and not home[i - 1].child_seen:
            i -= 1
        chain = home[i:]  # home visits not seeing the child since the last that did
        last_seen_lead: Contact | None = None
        last_seen_any: datetime | None = None
        for c in reversed(contacts):
            if c.child_seen:
                if last_seen_any is None:
                    last_seen_any = c.at
                if c.by == LEAD_SOCIAL_WORKER:
                    last_seen_lead = c
                    break
        self.contacts, self.visits, self.not_seen_chain = contacts, visits, chain
        self.last_seen_lead = last_seen_lead
        sightings = case.agency_sightings  # kept in time order: the last by `now` is the latest
        if sightings:
            seen = bisect_right(sightings, now, key=_at)
            if seen and (last_seen_any is None or sightings[seen - 1].at > last_seen_any):
                last_seen_any = sightings[seen - 1].at
        self.last_seen_any = last_seen_any
        self.decisions: dict[str, list[Decision]] = {}
        for d in case.decisions:
            if d.at <= now:
                self.decisions.setdefault(d.rule, []).append(d)

    # -- shared derived facts --------------------------------------------------------------------
    @property
    def last_visit(self) -> Contact | None:
        """The last qualifying home visit that saw the child (a statutory visit in Hillingdon)."""
        return self.visits[-1] if self.visits else None

    @lazy
    def interval_in_force(self) -> tuple[int | None, str]:
        """The plan's visit interval, or the latest change of it agreed by a decider of
        CB-FREQ-CHANGE (None: the policy's own interval), and the words saying why. A plan or a
        change above the policy's floor (CB-FREQ-FLOOR) is a CaseError."""
        plan, policy = self.plan, self.policy
        interval = plan.visit_interval_working_days
        basis = "the plan's visit interval" if interval else ""
        if plan.cp_chair_agreed_interval_on and interval:
            basis = f"the plan's interval, agreed by the CP Chair on {plan.cp_chair_agreed_interval_on}"
        change = policy.rule_of_kind("frequency_change")
        decisions = self.decisions.get(change.id, ()) if change is not None else ()
        if interval is None and not decisions:
            return interval, basis  # nothing to hold against the floor
        limit = policy.max_interval(self.today)
        if interval is not None and limit is not None and interval > limit[0]:
            raise CaseError(
                f"plan.visit_interval_working_days: {interval} is above the floor of {limit[0]} "
                f"working days in {policy.id} ({limit[1]})"
            )
        for d in decisions:
            if d.outcome != "interval_changed" or d.within_working_days is None:
                continue
            if limit is not None and d.within_working_days > limit[0]:
                raise CaseError(
                    f"decisions: {change.id} interval {d.within_working_days} is above the "
                    f"floor of {limit[0]} working days in {policy.id} ({limit[1]})"
                )
            if d.by in change.deciders:
                interval = d.within_working_days
                basis = (
                    f"the interval changed to {interval} working days by the "
                    f"{d.by.replace('_', ' ')} on {self.local_date(d.at)} ({change.id})"
                )
        return interval, basis

    @lazy
    def visit_rule(self) -> Rule | None:
        return self.policy.rule_of_kind("home_visit_interval")

    @lazy
    def visit_anchor(self) -> date:
        """The day the visit clock runs from: the last qualifying visit, else the plan start."""
        last = self.last_visit
        return self.local_date(last.at) if last is not None else self.plan.started

    @lazy
    def visit_due(self) -> date | None:
        """When the next qualifying home visit is due (None: no such rule, or not yet known).
        The policy's interval is the one in force on the day the clock started from."""
        rule = self.visit_rule
        if rule is None:
            return None
        p = rule.on(self.visit_anchor)
        interval = self.interval_in_force[0] or p.interval_working_days
        if self.visits or p.first_due_from == "plan_start":
            return self.cal.add_working_days(self.visit_anchor, interval)
        initial = self.policy.rule_of_kind("initial_visit")
        if initial is not None:
            return self.plan.started + timedelta(days=initial.on(self.plan.started).within_days)
        return None

    # -- helpers ---------------------------------------------------------------------------------
    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def day_start(self, day: date) -> datetime:
        """The first instant of a local day: an instant is on or after `day` if it is not before."""
        return day_start(day, self.tz)

    def visits_from(self, day: date) -> int:
        """The index in `visits` of the first qualifying visit on or after the local `day`."""
        return bisect_left(self.visits, self.day_start(day), key=_at)

    def aged_from(self, years: int) -> datetime | None:
        """When the child turns `years` (None: date of birth unknown); one born on 29 February
        turns a year older on 1 March in a year that is not a leap year, as age_years counts."""
        dob = self.case.child.date_of_birth
        if dob is None:
            return None
        try:
            birthday = dob.replace(year=dob.year + years)
        except ValueError:
            birthday = date(dob.year + years, 3, 1)
        return self.day_start(birthday)

    def decided(
        self, rule: str, since: datetime, outcomes: tuple[str, ...] = (), by: tuple[str, ...] = ()
    ) -> Decision | None:
        """The first decision under `rule` at or after `since` (with an outcome / role if given)."""
        for d in self.decisions.get(rule, ()):
            if d.at >= since and (not outcomes or d.outcome in outcomes) and (not by or d.by in by):
                return d
        return None

    def decided_on_or_after(self, rule: Rule, day: date) -> list[Decision]:
        """The decisions under `rule` recorded by its deciders (RULES.md R1) on or after `day`."""
        return [
            d
            for d in self.decisions.get(rule.id, ())
            if d.by in rule.deciders and self.local_date(d.at) >= day
        ]

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

    def obligation(
        self, rule: Rule, owner: str, due: date | datetime, summary: str, basis: str, anchor: object
    ) -> Obligation:
        if isinstance(due, datetime):
            status: Status = "overdue" if self.now > due else "due"
        else:  # RULES.md R4: a date deadline falls on a working day
            due = self.cal.next_working_day_on_or_after(due)
            status = "overdue" if self.today > due else "due"
        # built from its fields in order: by name it takes twice as long, for every obligation
        key = f"{self.case.child.ref}:{rule.id}:{owner}:{anchor}"
        return Obligation(rule.id, due, status, owner, summary, basis, key)

    def manager_prompt(
        self,
        rule: Rule,
        trigger: datetime,
        hours: int,
        summary: str,
        basis: str,
        raised: datetime | None = None,
    ) -> Iterator[Obligation]:
        """The team manager must decide under `rule` on what happened at `trigger`, within `hours`
        of it being raised (default: of the trigger); met by a decision recorded since the trigger
        by one of the rule's deciders (RULES.md R1)."""
        if rule.id in self.decisions and self.decided(rule.id, trigger, by=rule.deciders):
            return  # (most prompts have no decision under their rule to look through)
        due = hours_after(raised or trigger, hours)
        yield self.obligation(rule, TEAM_MANAGER, due, summary, basis, trigger.isoformat())


@lru_cache(maxsize=64)
def local_today(now: datetime, tz: tzinfo) -> date:
    """The local date at `now` in the zone `tz`: the same for every child of a sweep."""
    return now.astimezone(tz).date()


@lru_cache(maxsize=1 << 16)
def day_start(day: date, tz: tzinfo) -> datetime:
    """The first instant of the day `day` in the zone `tz`, in UTC, the zone contacts are kept in:
    comparing two instants of one zone skips both zones' offset look-ups, a cost paid on every
    comparison of a sweep. Kept once worked out (a sweep asks for the same few days again)."""
    return datetime.combine(day, time(), tz).astimezone(UTC)


def hours_after(instant: datetime, hours: int) -> datetime:
    return instant + _hours(hours)


@lru_cache(maxsize=256)
def _hours(n: int) -> timedelta:
    """timedelta(hours=n), made once per number: building one by keyword costs as much as the
    addition a prompt's deadline needs it for, several times a child."""
    return timedelta(hours=n)


def contact_anchor(c: Contact) -> str:
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
    labels = rule.on(contact.at.astimezone(policy.timezone).date()) if rule.changes else rule.params
    return labels.seen if contact.child_seen else labels.not_seen
