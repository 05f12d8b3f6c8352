"""When each obligation is told to whom: reminder stages, overdue alerts, the manager ladder.

Pure, like the engine: the times come from the policy's [reminders], [ladder], [working_hours] and
[out_of_hours] tables. The sweep writes a stage to the outbox once its time has come; its key is
the obligation key + stage name.

Team managers are not on call: once a prompt has gone, its later messages (the repeat, the
overdue alert, each rung of the ladder) that fall outside working hours go at the start of the
next working hours. The deadline does not move, nor what the messages say about it. A prompt of a
rule the policy marks urgent that is raised outside working hours also goes, at once, to the
policy's out-of-hours channel (the emergency duty team), when it names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from scheduler.rules.model import DECIDERS, Obligation
from scheduler.rules.policy import Policy

MANAGER_ROLES = DECIDERS
OUT_OF_HOURS = "out_of_hours"  # the recipient role of the policy's out-of-hours channel


_TO_OTHERS = frozenset({"escalation", "out-of-hours"})  # kinds of stage not to the owner


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    at: datetime  # aware, UTC: when it is due to be sent
    to: tuple[str, ...]  # roles, resolved to people by the sweep
    kind: str  # "reminder", "overdue", "prompt", "escalation", "out-of-hours"


def is_prompt(ob: Obligation) -> bool:
    """A manager-owned obligation is a prompt: a message with buttons to acknowledge and decide."""
    return ob.owner in MANAGER_ROLES


def morning(policy: Policy, day: date) -> datetime:
    """The policy's reminder time on `day`, local, as a UTC instant."""
    return datetime.combine(day, policy.reminders.morning_of, policy.timezone).astimezone(UTC)


def in_working_hours(policy: Policy, at: datetime) -> datetime:
    """`at` when it is within the policy's working hours, else the start of the next."""
    return policy.working_hours.next_open(at, policy.timezone, policy.calendar)


def overdue_at(policy: Policy, ob: Obligation) -> datetime:
    """When an overdue alert goes: at an instant deadline, or the next working morning after a date."""
    if isinstance(ob.due, datetime):
        return ob.due.astimezone(UTC)
    return morning(policy, policy.calendar.add_working_days(ob.due, 1))


def planned_stages(
    policy: Policy,
    ob: Obligation,
    prompted_at: datetime | None,
    acknowledged: bool,
    snooze: tuple[datetime, datetime] | None = None,
) -> list[Stage]:
    """Every stage of an obligation in time order. `prompted_at`: when its prompt went (if any);
    `snooze`: (when, until) a worker snoozed its reminders: reminders falling in between are
    postponed to `until`; overdue alerts are not."""
    cal = policy.calendar
    rem = policy.reminders
    stages: list[Stage] = []
    escalate_to = ("team_manager",) if ob.owner not in MANAGER_ROLES else ()
    if is_prompt(ob):
        if prompted_at is not None:
            stages.append(Stage("prompt", prompted_at, (ob.owner,), "prompt"))
    elif isinstance(ob.due, datetime):
        for hours in rem.before_hours:
            stages.append(
                Stage(
                    f"remind-{hours}h",
                    (ob.due - timedelta(hours=hours)).astimezone(UTC),
                    (ob.owner,),
                    "reminder",
                )
            )
    else:
        for n in rem.before_working_days:
            stages.append(
                Stage(
                    f"remind-{n}wd",
                    morning(policy, cal.add_working_days(ob.due, -n)),
                    (ob.owner,),
                    "reminder",
                )
            )
        day = ob.due if cal.is_working_day(ob.due) else cal.add_working_days(ob.due, -1)
        stages.append(Stage("due-today", morning(policy, day), (ob.owner,), "reminder"))
    if snooze is not None:
        start, until = snooze
        stages = [
            Stage(s.name, until, s.to, s.kind) if s.kind == "reminder" and start <= s.at < until else s
            for s in stages
        ]
    overdue = overdue_at(policy, ob)
    if is_prompt(ob):  # the manager is told it is overdue in working hours
        overdue = in_working_hours(policy, overdue)
    stages.append(Stage("overdue", overdue, (ob.owner, *escalate_to), "overdue"))
    if is_prompt(ob) and prompted_at is not None:
        hours = policy.working_hours
        if hours.urgent_out_of_hours(ob.rule) and not hours.is_open(prompted_at, policy.timezone, cal):
            stages.append(Stage("out-of-hours", prompted_at, (OUT_OF_HOURS,), "out-of-hours"))
    if is_prompt(ob) and prompted_at is not None and not acknowledged:
        deadline = overdue_at(policy, ob)
        # The rungs keep their order even for a prompt that went late (e.g. found on import) or
        # whose rungs waited for working hours: the manager prompted always gets the repeat
        # before anyone above is told.
        gap = timedelta(hours=max((s.after_hours for s in policy.ladder if s.to == "owner"), default=1))
        floor = prompted_at
        for i, step in enumerate(policy.ladder, 1):
            to = ob.owner if step.to == "owner" else step.to
            base = prompted_at if step.start == "prompt" else deadline
            at = in_working_hours(policy, max(base + timedelta(hours=step.after_hours), floor))
            floor = at + gap
            if step.to != "owner" and to == ob.owner:
                continue
            name = "repeat" if step.to == "owner" else f"escalate-{i}-{to}"
            stages.append(Stage(name, at, (to,), "escalation"))
    # Two of the owner's own messages at the same instant: the later in the list (nearer the
    # deadline) says it all. A prompt is never dropped (it starts the ladder and says the
    # status itself), and neither is the repeat (a prompt's overdue alert that waited for the
    # same working morning as the repeat goes as the repeat, which says "overdue" too);
    # escalations and out-of-hours messages go to others and are never merged away.
    repeats = {s.at for s in stages if s.name == "repeat"}
    by_time: dict[datetime, Stage] = {}
    for s in stages:
        if s.kind in _TO_OTHERS or (s.kind == "overdue" and s.at in repeats):
            continue
        kept = by_time.get(s.at)
        if kept is None or kept.kind != "prompt":
            by_time[s.at] = s
    others = [s for s in stages if s.kind in _TO_OTHERS]
    return sorted([*by_time.values(), *others], key=lambda s: s.at)


def stages_to_send(
    policy: Policy,
    ob: Obligation,
    now: datetime,
    prompted_at: datetime | None,
    acknowledged: bool,
    snooze: tuple[datetime, datetime] | None = None,
) -> tuple[list[Stage], datetime | None]:
    """The stages whose time has come, and when the next one falls (None: no more).

    A prompt not yet sent goes now. Of the reminder/overdue stages already due only the latest is
    returned (after downtime nobody wants three stale reminders at once; the latest says it all),
    and likewise of the ladder.
    """
    if is_prompt(ob) and prompted_at is None:
        # A prompt goes when its obligation appears; one that appears with the date (a lapse
        # found by the midnight sweep) waits for the working morning rather than wake a manager.
        prompted_at = now
        if not isinstance(ob.due, datetime):
            today = now.astimezone(policy.timezone).date()
            prompted_at = max(now, morning(policy, policy.calendar.next_working_day_on_or_after(today)))
    stages = planned_stages(policy, ob, prompted_at, acknowledged, snooze)
    past = [s for s in stages if s.at <= now]
    if ob.status == "overdue":  # a reminder that its deadline is coming is no use after it
        past = [s for s in past if s.kind != "reminder"]
    future = [s.at for s in stages if s.at > now]
    chosen: list[Stage] = []
    for kinds in (("prompt",), ("reminder", "overdue"), ("escalation",), ("out-of-hours",)):
        latest = [s for s in past if s.kind in kinds]
        if latest:
            chosen.append(latest[-1])
    return chosen, (min(future) if future else None)


class StagesAt:
    """`stages_to_send` at one instant for a sweep's many obligations. The stages of an obligation
    that is not a prompt depend only on its policy, owner, deadline and status (and a snooze), which
    thousands of children share: each of those answers is worked out once. A prompt's depend on
    when it went and whether it was acknowledged too, and are worked out each time."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._known: dict[tuple[Any, ...], tuple[list[Stage], datetime | None]] = {}
        self._policies: dict[int, Policy] = {}  # by id: each policy kept while its id is a key

    def __call__(
        self,
        policy: Policy,
        ob: Obligation,
        prompted_at: datetime | None,
        acknowledged: bool,
        snooze: tuple[datetime, datetime] | None = None,
    ) -> tuple[list[Stage], datetime | None]:
        """`stages_to_send(policy, ob, now, ...)`; the lists returned are shared: not to be changed."""
        if is_prompt(ob):
            return stages_to_send(policy, ob, self.now, prompted_at, acknowledged, snooze)
        key = (id(policy), ob.owner, ob.due, ob.status, snooze)
        known = self._known.get(key)
        if known is None:
            self._policies.setdefault(id(policy), policy)
            known = self._known[key] = stages_to_send(policy, ob, self.now, None, False, snooze)
        return known


def snoozed_until(policy: Policy, snoozed_at: datetime) -> datetime:
    """A reminder snoozed 'until tomorrow' comes back the next working morning."""
    today = snoozed_at.astimezone(policy.timezone).date()
    return morning(policy, policy.calendar.add_working_days(today, 1))
