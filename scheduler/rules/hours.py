"""Working hours, and where an urgent prompt goes outside them (a policy's [working_hours] and
[out_of_hours] tables).

Team managers are not on call: a manager prompt's repeat or climb up the ladder that falls
outside working hours waits for the start of the next working hours. Working hours are local
time on the policy's working days (its calendar: weekends, bank holidays, local closure days),
from `start` up to but not including `end`. A prompt of a rule the policy marks as urgent that
is raised outside them also goes at once to the out-of-hours channel (the council's emergency
duty team), when the policy names one.

Pure, like the calendar beside it: the time is always an argument, never the clock.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.rules.calendar import WorkingCalendar

TABLES = ("working_hours", "out_of_hours")
# A policy without [working_hours] (a council's file from before it existed) gets these.
DEFAULT_START, DEFAULT_END = "08:30", "17:30"


@dataclass(frozen=True, slots=True)
class WorkingHours:
    start: time  # local, on working days
    end: time  # local; `end` itself is outside working hours
    out_of_hours_channel: str | None = None  # where urgent prompts go out of hours; None: nowhere
    urgent_rules: frozenset[str] = frozenset()  # rule IDs whose prompts are urgent

    def is_open(self, at: datetime, tz: ZoneInfo, calendar: WorkingCalendar) -> bool:
        """Whether the aware instant `at` is within working hours."""
        local = at.astimezone(tz)
        return calendar.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_open(self, at: datetime, tz: ZoneInfo, calendar: WorkingCalendar) -> datetime:
        """`at` itself when it is within working hours, else the start of the next working hours
        (as a UTC instant)."""
        local = at.astimezone(tz)
        day = local.date()
        if calendar.is_working_day(day):
            if local.time() < self.start:
                return self._opening(day, tz)
            if local.time() < self.end:
                return at
        return self._opening(calendar.add_working_days(day, 1), tz)

    def _opening(self, day: date, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, self.start, tz).astimezone(UTC)

    def urgent_out_of_hours(self, rule: str) -> str | None:
        """The channel an urgent prompt of `rule` raised out of hours goes to (None: none)."""
        return self.out_of_hours_channel if rule in self.urgent_rules else None


def working_hours_from(data: dict[str, Any], rule_ids: Collection[str]) -> WorkingHours:
    """The [working_hours] table (without it, 08:30 to 17:30) and the [out_of_hours] table (without
    it, no destination and no urgent rules) of a policy mapping, checked; a PolicyError names the
    key."""
    from scheduler.rules.policy import PolicyError  # imported here: policy.py imports this module

    try:
        return _parse(data, rule_ids)
    except _Bad as exc:
        raise PolicyError(str(exc)) from None


class _Bad(ValueError):
    pass


def _parse(data: dict[str, Any], rule_ids: Collection[str]) -> WorkingHours:
    hours = data.get("working_hours", {"start": DEFAULT_START, "end": DEFAULT_END})
    if not isinstance(hours, dict):
        raise _Bad("working_hours: must be a table [working_hours]")
    _no_unknown(hours, "working_hours", {"start", "end"})
    start, end = _clock(hours, "working_hours.start"), _clock(hours, "working_hours.end")
    if not start < end:
        raise _Bad(f"working_hours.end: must be after start ({start:%H:%M}), not {end:%H:%M}")
    night = data.get("out_of_hours", {})
    if not isinstance(night, dict):
        raise _Bad("out_of_hours: must be a table [out_of_hours]")
    _no_unknown(night, "out_of_hours", {"channel", "urgent_rules"})
    channel = night.get("channel")
    if channel is not None and (
        not isinstance(channel, str) or not channel or channel != channel.strip() or not channel.isprintable()
    ):
        raise _Bad(f'out_of_hours.channel: must be a channel id such as "C0EDT0001", not {channel!r}')
    urgent = night.get("urgent_rules", [])
    if not isinstance(urgent, list) or not all(isinstance(r, str) for r in urgent):
        raise _Bad("out_of_hours.urgent_rules: must be a list of rule IDs")
    for rule in urgent:
        if rule not in rule_ids:
            raise _Bad(f"out_of_hours.urgent_rules: {rule!r} is not a rule of this policy")
    return WorkingHours(start, end, channel, frozenset(urgent))


def _no_unknown(table: dict[str, Any], where: str, names: set[str]) -> None:
    unknown = sorted(set(table) - names)
    if unknown:
        key = unknown[0]
        shown = key if key and key == key.strip() and key.isprintable() else json.dumps(key)
        raise _Bad(f"{where}.{shown}: unknown key")


def _clock(table: dict[str, Any], key: str) -> time:
    name = key.rsplit(".", 1)[1]
    if name not in table:
        raise _Bad(f"{key}: missing")
    value = table[name]
    parsed = value if isinstance(value, time) else None
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is not None:
        raise _Bad(f"{key}: must be a local time HH:MM, not {value!r}")
    return parsed
