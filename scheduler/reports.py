"""Timeliness measures per team and month (issue 14), counted from the obligation history
(`scheduler.rules.history`), so a report can never disagree with the reminders the sweep sent.

Pure: the caller reads the children from the database (`seen report`) and gives `as_of`. Each
measure's definition names the rule IDs it counts, by the kind of rule (so a council's own rule ID
under a kind is counted too); `definitions()` is what `seen report --explain` prints and the README
repeats.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from scheduler.rules.history import Instance, history
from scheduler.rules.kinds.registry import KINDS
from scheduler.rules.model import DECIDERS, Case
from scheduler.rules.policy import Policy

VISIT_KINDS = ("home_visit_interval", "initial_visit")
NOT_SEEN_KINDS = ("not_seen_discuss", "not_seen_again")
LAPSE_KINDS = ("unseen_by_lead", "unseen_by_anyone")
ALONE_KINDS = ("seen_alone_run", "seen_alone_each_visit")
RECORD_KINDS = ("record_within",)


@dataclass(frozen=True, slots=True)
class Child:
    """One child as a report needs it: the team and lead social worker it is counted under."""

    team: str
    worker: str
    policy: Policy
    case: Case


@dataclass(frozen=True, slots=True)
class Row:
    """One tidy row: a team (and worker, if by worker), a month (YYYY-MM), a measure, its value."""

    team: str
    worker: str
    month: str
    measure: str
    value: float | int | str | None


# (measure, definition); the rule IDs are filled in from the policies' rules of each kind.
MEASURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "visits_due",
        "statutory visits whose deadline fell in the month and had passed by the report's date "
        "(visits_on_time + visits_late + visits_overdue)",
        VISIT_KINDS,
    ),
    ("visits_on_time", "of those, met by a statutory visit by the end of the deadline day", VISIT_KINDS),
    ("visits_late", "of those, met by a statutory visit after the deadline day", VISIT_KINDS),
    ("visits_overdue", "of those, not met as of the report (still open or closed unmet)", VISIT_KINDS),
    ("visits_on_time_percent", "visits_on_time / visits_due x 100, one decimal place", VISIT_KINDS),
    (
        "median_days_late",
        "median days past the deadline (local days after the deadline day) of the late and overdue visits",
        VISIT_KINDS,
    ),
    ("worst_days_late", "most whole days past the deadline of a late or overdue visit", VISIT_KINDS),
    (
        "seen_alone_at_last_visit",
        "children of the seen-alone rule's age (4 or over in both bundled policies) at their last "
        "statutory visit of the month who were seen alone at it, of those children visited ('n/m')",
        ALONE_KINDS,
    ),
    (
        "not_seen_alone_reasons",
        "the reasons recorded at those last visits when the child was not seen alone "
        "('reason: count; ...'; 'none recorded' where the record gives none)",
        ALONE_KINDS,
    ),
    (
        "not_seen_discussions_decided_in_time",
        "manager discussions after a not-seen visit falling due in the month, decided within "
        "their window ('n/m')",
        NOT_SEEN_KINDS,
    ),
    (
        "manager_prompts_decided_in_time",
        "every other manager or chair prompt falling due in the month, decided within its window ('n/m')",
        (),
    ),
    (
        "median_hours_to_decision",
        "median hours from a prompt (of the two measures above) opening to its decision",
        (),
    ),
    (
        "records_within_window",
        "contacts by a social worker in the month recorded within the rule's hours ('n/m'; one "
        "not recorded whose hours still run at the report's date is left out)",
        RECORD_KINDS,
    ),
    (
        "lapses_raised",
        "lapses opened in the month, with how each was resolved as of the report "
        "('RULE: n (outcome: count; ...)'): met by a decision records its outcome",
        LAPSE_KINDS,
    ),
)


def _decided_kinds() -> tuple[str, ...]:
    return tuple(
        k
        for k, spec in KINDS.items()
        if spec.decided and set(spec.owners) & DECIDERS and k not in NOT_SEEN_KINDS + LAPSE_KINDS
    )


def rule_ids(policies: Iterable[Policy], kinds: tuple[str, ...]) -> list[str]:
    return sorted({r.id for p in policies for k in kinds for r in p.rules_of_kind(k)})


def definitions(policies: Iterable[Policy]) -> list[tuple[str, str]]:
    """Each measure and its definition, naming the rule IDs it counts in `policies`."""
    policies = list(policies)
    out = []
    for name, text, kinds in MEASURES:
        if name == "manager_prompts_decided_in_time":
            kinds = _decided_kinds()
        if name == "median_hours_to_decision":
            kinds = NOT_SEEN_KINDS + _decided_kinds()
        ids = rule_ids(policies, kinds)
        out.append((name, f"{text}. Rules: {', '.join(ids) or 'none in these policies'}"))
    return out


def months_between(first: str, last: str) -> list[str]:
    """The months 'YYYY-MM' from `first` to `last`, both included."""
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _month_start(month: str, policy: Policy) -> datetime:
    y, m = map(int, month.split("-"))
    return datetime.combine(date(y, m, 1), time(), policy.timezone)


def _days_late(instance: Instance, at: datetime, tz: tzinfo) -> int:
    """Days past the deadline: for a date deadline, the local days from it to `at`'s day; for
    an instant, each day started after it counts as one (0: on time)."""
    if instance.in_time(at):
        return 0
    if isinstance(instance.due, datetime):
        return (at - instance.deadline) // timedelta(days=1) + 1
    return (at.astimezone(tz).date() - instance.due).days


def _ratio(n: int, m: int) -> str:
    return f"{n}/{m}"


def measures(
    children: Iterable[Child], first: str, last: str, as_of: datetime, by_worker: bool = False
) -> list[Row]:
    """The measures for each team (and worker) and month from `first` to `last` ('YYYY-MM'),
    as known at `as_of`."""
    months = months_between(first, last)
    buckets: dict[tuple[str, str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    decided_kinds = _decided_kinds()
    for child in children:
        policy, case = child.policy, child.case
        start = _month_start(months[0], policy)
        y, m = map(int, months[-1].split("-"))
        end = min(as_of, _month_start(f"{y + (m == 12):04d}-{m % 12 + 1:02d}", policy))
        kind_of = {r.id: r.kind for r in policy.rules.values()}
        # from just before the period: what was open then opened before it (a lapse already raised
        # is not counted again), what opens at its first instant opens in it
        instances = history(policy, case, start - timedelta(microseconds=1), as_of)
        worker = child.worker if by_worker else ""
        tz = policy.timezone

        def month_of(at: datetime, tz=tz) -> str:  # type: ignore[no-untyped-def]
            return at.astimezone(tz).strftime("%Y-%m")

        for i in instances:
            kind = kind_of.get(i.rule, "")
            due_month = month_of(i.deadline - timedelta(microseconds=1))
            if due_month in months and not i.in_time(as_of):
                b = buckets[(child.team, worker, due_month)]
                if kind in VISIT_KINDS:
                    b["visits"].append(i)
                    late = _days_late(i, i.met_at or i.ended or as_of, tz)
                    if late:
                        b["days_late"].append(late)
                elif kind in NOT_SEEN_KINDS and i.owner in DECIDERS:
                    b["not_seen"].append(i)
                elif kind in decided_kinds and i.owner in DECIDERS:
                    b["prompts"].append(i)
            if kind in LAPSE_KINDS and month_of(i.opened) in months and i.opened >= start:
                buckets[(child.team, worker, month_of(i.opened))]["lapses"].append((i, case))
        for month in months:
            _alone_and_records(buckets[(child.team, worker, month)], child, month, end, as_of)
    rows: list[Row] = []
    for (team, worker, month), b in sorted(buckets.items()):
        if month not in months:
            continue
        rows.extend(Row(team, worker, month, name, value) for name, value in _values(b, as_of))
    return rows


def _alone_and_records(b: dict[str, list], child: Child, month: str, end: datetime, as_of: datetime) -> None:
    policy, case = child.policy, child.case
    start = _month_start(month, policy)
    y, m = map(int, month.split("-"))
    stop = min(end, _month_start(f"{y + (m == 12):04d}-{m % 12 + 1:02d}", policy))
    contacts = [c for c in case.contacts if start <= c.at < stop]
    roles = policy.social_worker_roles
    record = policy.rule_of_kind("record_within")
    if record is not None:
        for c in contacts:
            if c.by in roles:
                window = timedelta(hours=record.on(c.at.astimezone(policy.timezone).date()).within_hours)
                if c.recorded_at is None and c.at + window >= as_of:
                    continue  # its window still runs at the report's date
                b["records"].append(c.recorded_at is not None and c.recorded_at - c.at <= window)
    alone = [r for k in ALONE_KINDS for r in policy.rules_of_kind(k)]
    visits = [
        c
        for c in contacts
        if c.child_seen
        and c.kind == "home_visit"
        and c.by in roles
        and (c.qualified or not policy.require_qualified)
    ]
    dob = case.child.date_of_birth
    if not alone or not visits or dob is None:
        return
    last = visits[-1]
    on = last.at.astimezone(policy.timezone).date()
    p = alone[0].on(on)
    min_age = getattr(p, "min_age_years", None)
    if min_age is None:
        min_age = p.unstated_from_age_years
    if on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day)) < min_age:
        return
    b["alone"].append(last.seen_alone == "yes")
    if last.seen_alone != "yes":
        b["alone_reasons"].append(last.seen_alone_reason or "none recorded")


def _values(b: dict[str, list], as_of: datetime) -> list[tuple[str, float | int | str | None]]:
    visits: list[Instance] = b["visits"]
    on_time = [i for i in visits if i.met_at is not None and i.in_time(i.met_at)]
    late = [i for i in visits if i.met_at is not None and not i.in_time(i.met_at)]
    overdue = [i for i in visits if i.met_at is None and not i.in_time(as_of)]
    days: list[int] = b["days_late"]
    percent = round(100 * len(on_time) / len(visits), 1) if visits else None

    def in_time(items: list[Instance]) -> str:
        return _ratio(sum(1 for i in items if i.met_at is not None and i.in_time(i.met_at)), len(items))

    decided = [i for i in (*b["not_seen"], *b["prompts"]) if i.met_at is not None]
    hours = [(i.met_at - i.opened) / timedelta(hours=1) for i in decided]  # type: ignore[operator]
    records: list[bool] = b["records"]
    alone: list[bool] = b["alone"]
    reasons = Counter(b["alone_reasons"])
    return [
        ("visits_due", len(visits)),
        ("visits_on_time", len(on_time)),
        ("visits_late", len(late)),
        ("visits_overdue", len(overdue)),
        ("visits_on_time_percent", percent),
        ("median_days_late", statistics.median(days) if days else None),
        ("worst_days_late", max(days) if days else None),
        ("seen_alone_at_last_visit", _ratio(sum(alone), len(alone))),
        ("not_seen_alone_reasons", "; ".join(f"{r}: {n}" for r, n in sorted(reasons.items()))),
        ("not_seen_discussions_decided_in_time", in_time(b["not_seen"])),
        ("manager_prompts_decided_in_time", in_time(b["prompts"])),
        ("median_hours_to_decision", round(statistics.median(hours), 1) if hours else None),
        ("records_within_window", _ratio(sum(records), len(records))),
        ("lapses_raised", _lapses(b["lapses"])),
    ]


def _lapses(lapses: list[tuple[Instance, Case]]) -> str:
    """'RULE: n (outcome: count; ...)' for each lapse rule, by how each instance was resolved."""
    stages: dict[tuple[str, str], list[tuple[Instance, Case]]] = defaultdict(list)
    for i, case in lapses:  # one lapse is one (rule, since) of a child, whatever its stages and owners
        ref, since = i.key.split(":")[0], i.key.split(":")[-2]
        stages[(i.rule, f"{ref}:{since}")].append((i, case))
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for (rule, _), items in stages.items():
        if any(i.outcome == "open" for i, _ in items):
            by_rule[rule]["open"] += 1
        else:
            i, case = max(items, key=lambda x: x[0].ended)  # type: ignore[arg-type,return-value]
            by_rule[rule][_resolution(i, case)] += 1
    return "; ".join(
        f"{rule}: {sum(c.values())} ({', '.join(f'{k}: {n}' for k, n in sorted(c.items()))})"
        for rule, c in sorted(by_rule.items())
    )


def _resolution(i: Instance, case: Case) -> str:
    if i.outcome != "met":
        return i.outcome  # "open" or "closed"
    for d in case.decisions:
        if d.at == i.met_at and d.rule == i.rule:
            return d.outcome
    return "child seen"


def overdue_by_worker(children: Iterable[Child], as_of: datetime) -> dict[str, int]:
    """The obligations overdue at `as_of` (as `evaluate` has them) for each lead social worker's
    children, counted under the worker (0 for a worker whose children have none)."""
    from scheduler.rules.engine import evaluate

    counts: Counter[str] = Counter()
    for child in children:
        counts[child.worker] += sum(
            1 for o in evaluate(child.policy, child.case, as_of) if o.status == "overdue"
        )
    return dict(counts)
