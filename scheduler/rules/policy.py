"""A council's procedure as data: loaded from a TOML mapping and validated, every key named.

Pure: the caller reads the file (see `scheduler.policies.load_policy`). A wrong policy raises
`PolicyError` whose message names the key, e.g. `rules.CB-VISIT-10WD.interval_working_days`.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.hours import TABLES as HOURS_TABLES
from scheduler.rules.hours import WorkingHours, working_hours_from
from scheduler.rules.kinds import KINDS, Kind
from scheduler.rules.model import ROLES
from scheduler.rules.params import NON_NEGATIVE, POSITIVE, spec_of


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the offending key."""


RULE_ID = re.compile(r"^[A-Z]{2,}(-[A-Z0-9]+)+$")

# The tables a policy file holds besides its top-level keys; each is read by policy_from_mapping.
TABLES = ("calendar", "visits", "reminders", "ladder", "rules", "reports")
# What every rule table holds besides its kind's parameters (scheduler/rules/kinds/).
RULE_KEYS = {"kind", "source", "summary", "deciders", "changes"}
_POSITIVE, _NON_NEGATIVE = POSITIVE, NON_NEGATIVE
# The largest number of days, hours or minutes a policy may give: 27 years of days, far beyond any
# procedure, and small enough that date arithmetic on it cannot overflow.
_MOST = 10_000

LADDER_FROM = ("prompt", "deadline")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a policy: its kind, its parameters (the kind's dataclass), who decides under
    it (RULES.md R1), where in the procedure it comes from, and its dated changes."""

    id: str
    kind: str
    params: Any  # the values first in force: an instance of KINDS[kind].params
    deciders: tuple[str, ...] = ()
    source: str = ""  # where in the procedure: "§3", "item 12"
    summary: str = ""  # one line
    changes: tuple[tuple[date, Any], ...] = ()  # (in force from, the parameters then), ascending

    def on(self, day: date) -> Any:
        """The parameters in force on `day`: an obligation is judged by the values in force on
        the day it was triggered, so a change applies from its date, never retroactively."""
        params = self.params
        if not self.changes:
            return params
        for since, values in self.changes:
            if day < since:
                break
            params = values
        return params

    def least(self, name: str) -> Any:
        """The smallest value a parameter takes in any version (a quick test before `on`)."""
        if not self.changes:
            return getattr(self.params, name)
        return min(getattr(p, name) for p in (self.params, *(values for _, values in self.changes)))


@dataclass(frozen=True, slots=True)
class Reminders:
    before_working_days: tuple[int, ...]
    before_hours: tuple[int, ...]
    morning_of: time
    late_after_minutes: int
    snooze_allowed: bool


@dataclass(frozen=True, slots=True)
class Reports:
    """[reports]: the council's target for visits on time (the report's chart draws it) and when
    the weekly timeliness post goes to each team's channel."""

    on_time_target_percent: int = 90
    weekly_post_weekday: str = "monday"
    weekly_post_at: time = time(9, 0)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class LadderStep:
    to: str  # a role, or "owner": the manager the prompt went to
    after_hours: int
    start: str  # "prompt" (when the prompt was first sent) or "deadline"


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    timezone: ZoneInfo
    calendar: WorkingCalendar
    social_worker_roles: frozenset[str]
    require_qualified: bool
    reminders: Reminders
    ladder: tuple[LadderStep, ...]
    working_hours: WorkingHours  # [working_hours] and [out_of_hours]
    rules: dict[str, Rule] = field(default_factory=dict)
    reports: Reports = field(default_factory=Reports)

    @cached_property
    def _by_kind(self) -> dict[str, list[Rule]]:
        by_kind: dict[str, list[Rule]] = {}
        for rule in self.rules.values():
            by_kind.setdefault(rule.kind, []).append(rule)
        return by_kind

    @cached_property
    def evaluators(self) -> tuple[tuple[Rule, Kind], ...]:
        """Each rule that can owe something, with its kind (its function and whether it is owed
        after the plan ends); a constraint on the other rules owes nothing of its own."""
        return tuple((rule, KINDS[rule.kind]) for rule in self.rules.values() if KINDS[rule.kind].owners)

    @cached_property
    def evaluators_after_end(self) -> tuple[tuple[Rule, Kind], ...]:
        """The evaluators of the rules still owed after the plan has ended."""
        return tuple((rule, kind) for rule, kind in self.evaluators if kind.when_ended)

    def rules_of_kind(self, kind: str) -> list[Rule]:
        return self._by_kind.get(kind, [])

    def rule_of_kind(self, kind: str) -> Rule | None:
        found = self.rules_of_kind(kind)
        return found[0] if found else None

    def max_interval(self, on: date | None = None) -> tuple[int, str] | None:
        """The longest visit interval a plan may set (on `on`; default: as last changed), and
        the rule ID that says so."""
        for rule in (*self.rules_of_kind("frequency_floor"), *self.rules_of_kind("home_visit_interval")):
            params = rule.on(on or date.max)
            if params.max_interval_working_days is not None:
                return params.max_interval_working_days, rule.id
        return None


# -- loading and validation --------------------------------------------------------------------
def policy_from_toml(text: str, source: str = "policy") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    return policy_from_mapping(data)


def _name(key: str) -> str:
    """A key of the file as a message names it: quoted when it is blank, has spaces around it or
    holds a character that does not print (a line break), so that the message stays one line that
    visibly names it."""
    return key if key and key == key.strip() and key.isprintable() else json.dumps(key)


def _take(table: dict[str, Any], where: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Check `table` against `spec` (name -> type; a trailing ? marks optional)."""
    out: dict[str, Any] = {}
    names = {k.rstrip("?") for k in spec}
    unknown = sorted(set(table) - names)
    prefix = f"{where}." if where else ""
    if unknown:
        raise PolicyError(f"{prefix}{_name(unknown[0])}: unknown key")
    for raw, kind in spec.items():
        name = raw.rstrip("?")
        key = f"{prefix}{name}"
        if name not in table:
            if raw.endswith("?"):
                continue
            raise PolicyError(f"{key}: missing")
        out[name] = _check(table[name], kind, key)
    return out


def _check(value: Any, kind: Any, key: str) -> Any:
    if kind in (_POSITIVE, _NON_NEGATIVE):
        least = 1 if kind == _POSITIVE else 0
        if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= _MOST:
            raise PolicyError(f"{key}: must be a whole number from {least} to {_MOST:,}, not {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            raise PolicyError(f"{key}: must be a non-empty string")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise PolicyError(f"{key}: must be true or false, not {value!r}")
        return value
    if kind == "ladder role" and value == "owner":
        return value
    if kind in ("role", "ladder role"):
        if value not in ROLES:
            raise PolicyError(f"{key}: unknown role {value!r} (one of {', '.join(ROLES)})")
        return value
    if kind == "one line":
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise PolicyError(f"{key}: must be a non-empty string on one line")
        return value.strip()
    if kind == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            raise PolicyError(f"{key}: must be a date YYYY-MM-DD, not {value!r}") from None
    if kind is list:
        if not isinstance(value, list) or not value:
            raise PolicyError(f"{key}: must be a non-empty list")
        return value
    if kind == "roles":
        if not isinstance(value, list) or not value:
            raise PolicyError(f"{key}: must be a non-empty list of roles")
        for role in value:
            if role not in ROLES:
                raise PolicyError(f"{key}: unknown role {role!r} (one of {', '.join(ROLES)})")
        return tuple(value)
    if kind == "dates":
        # a TOML date-time is a `datetime`, itself a `date`: as a closure day it would match no day
        if not isinstance(value, list) or not all(
            isinstance(d, date | str) and not isinstance(d, datetime) for d in value
        ):
            raise PolicyError(f"{key}: must be a list of dates YYYY-MM-DD")
        try:
            return tuple(d if isinstance(d, date) else date.fromisoformat(d) for d in value)
        except ValueError:
            raise PolicyError(f"{key}: must be a list of dates YYYY-MM-DD") from None
    if kind == "working-day list":
        if not isinstance(value, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value
        ):
            raise PolicyError(f"{key}: must be a list of whole numbers of working days")
        return tuple(sorted(set(value), reverse=True))
    if kind == "clock time":
        if isinstance(value, time):
            return value
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise PolicyError(f"{key}: must be a time HH:MM, not {value!r}") from None
    if isinstance(kind, tuple):
        if value not in kind:
            raise PolicyError(f"{key}: must be one of {', '.join(kind)}, not {value!r}")
        return value
    raise AssertionError(kind)  # pragma: no cover - a schema mistake, not an input one


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PolicyError(f"{key}: missing table [{key}]")
    return value


def policy_from_mapping(data: dict[str, Any]) -> Policy:
    top = _take(
        {k: v for k, v in data.items() if not isinstance(v, dict)},
        "",
        {"id": str, "name": str, "timezone": str},
    )
    where = {k for k, v in data.items() if isinstance(v, dict)} - {*TABLES, *HOURS_TABLES}
    if where:
        raise PolicyError(f"{_name(sorted(where)[0])}: unknown table")
    try:
        tz = ZoneInfo(top["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"timezone: unknown time zone {top['timezone']!r}") from None

    cal = _take(
        _table(data, "calendar"),
        "calendar",
        {"country": str, "subdivision?": str, "closure_days": "dates"},
    )
    try:
        calendar = WorkingCalendar(cal["country"], cal.get("subdivision"), cal["closure_days"])
    except NotImplementedError:
        raise PolicyError(
            f"calendar.country: no bank holidays known for {cal['country']!r}"
            f"{' / ' + cal['subdivision'] if cal.get('subdivision') else ''}"
        ) from None

    visits = _take(
        _table(data, "visits"),
        "visits",
        {"social_worker_roles": "roles", "require_qualified": bool},
    )
    rem = _take(
        _table(data, "reminders"),
        "reminders",
        {
            "before_working_days": "working-day list",
            "before_hours": "working-day list",
            "morning_of": "clock time",
            "late_after_minutes": _POSITIVE,
            "snooze_allowed": bool,
        },
    )
    ladder_table = _take(_table(data, "ladder"), "ladder", {"steps": list})
    steps: list[LadderStep] = []
    for i, step in enumerate(ladder_table["steps"]):
        if not isinstance(step, dict):
            raise PolicyError(f"ladder.steps[{i}]: must be a table {{ to, after_hours, from }}")
        s = _take(
            step,
            f"ladder.steps[{i}]",
            {"to": "ladder role", "after_hours": _NON_NEGATIVE, "from": LADDER_FROM},
        )
        steps.append(LadderStep(s["to"], s["after_hours"], s["from"]))

    rules_table = _table(data, "rules")
    rules = {rule_id: _rule(rule_id, table) for rule_id, table in rules_table.items()}
    if not rules:
        raise PolicyError("rules: a policy needs at least one rule")
    return Policy(
        id=top["id"],
        name=top["name"],
        timezone=tz,
        calendar=calendar,
        social_worker_roles=frozenset(visits["social_worker_roles"]),
        require_qualified=visits["require_qualified"] or "qualified_visitor" in _kinds(rules),
        reminders=Reminders(
            rem["before_working_days"],
            rem["before_hours"],
            rem["morning_of"],
            rem["late_after_minutes"],
            rem["snooze_allowed"],
        ),
        ladder=tuple(steps),
        rules=rules,
        working_hours=working_hours_from(data, rules),
        reports=_reports(data),
    )


def _reports(data: dict[str, Any]) -> Reports:
    """The optional [reports] table (absent: the defaults of Reports)."""
    if "reports" not in data:
        return Reports()
    r = _take(
        _table(data, "reports"),
        "reports",
        {
            "on_time_target_percent": _POSITIVE,
            "weekly_post_weekday": WEEKDAYS,
            "weekly_post_at": "clock time",
        },
    )
    if r["on_time_target_percent"] > 100:
        raise PolicyError(f"reports.on_time_target_percent: {r['on_time_target_percent']} is above 100")
    return Reports(r["on_time_target_percent"], r["weekly_post_weekday"], r["weekly_post_at"])


def _kinds(rules: dict[str, Rule]) -> set[str]:
    return {r.kind for r in rules.values()}


def _rule(rule_id: str, table: Any) -> Rule:
    """One [rules.ID] table: its kind, source, summary, deciders, parameters and dated changes."""
    where = f"rules.{_name(rule_id)}"
    if not RULE_ID.match(rule_id):
        raise PolicyError(f"{where}: a rule ID is capitals and digits joined by '-'")
    if not isinstance(table, dict):
        raise PolicyError(f"{where}: must be a table")
    name = table.get("kind")
    if not isinstance(name, str) or name not in KINDS:
        raise PolicyError(f"{where}.kind: unknown rule kind {name!r} (one of {', '.join(KINDS)})")
    kind = KINDS[name]
    spec = spec_of(kind.params)
    common = {"source": "one line", "summary": "one line"}
    if kind.decided:
        common["deciders"] = "roles"
    rest = {k: v for k, v in table.items() if k not in ("kind", "changes")}
    values = _take(rest, where, {**common, **spec})
    head = {k: values.pop(k) for k in common}
    params = kind.params(**values)
    changes: list[tuple[date, Any]] = []
    raw_changes = table.get("changes", [])
    if not isinstance(raw_changes, list):
        raise PolicyError(f"{where}.changes: must be a list of tables [[{where}.changes]]")
    current = params
    for i, change in enumerate(raw_changes):
        at = f"{where}.changes[{i}]"
        if not isinstance(change, dict):
            raise PolicyError(f"{at}: must be a table {{ from = YYYY-MM-DD, ... }}")
        optional = {k.rstrip("?") + "?": v for k, v in spec.items()}
        new = _take(change, at, {"from": "date", **optional})
        since = new.pop("from")
        if not new:
            raise PolicyError(f"{at}: changes no parameter of {name}")
        if changes and since <= changes[-1][0]:
            raise PolicyError(f"{at}.from: must be after the change before it ({changes[-1][0]})")
        current = replace(current, **new)
        changes.append((since, current))
    return Rule(
        rule_id, name, params, head.get("deciders", ()), head["source"], head["summary"], tuple(changes)
    )
