"""The case-file contract of DESIGN.md: a JSON mapping in, a validated `Case` out.

Pure (the caller reads the file). Every error is a `CaseFileError` whose message names the field,
e.g. `contacts[2].seen_alone_reason: required when seen_alone is "no"`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from scheduler.rules.model import (
    CONTACT_KINDS,
    ROLES,
    SEEN_ALONE,
    AgencySighting,
    Case,
    Child,
    Contact,
    Decision,
    Plan,
)

DECISION_OUTCOMES: tuple[str, ...] = (
    "emergency_action",  # CB-NOTSEEN-DISCUSS/AGAIN, CB-20CD-LSW
    "further_visit",  # CB-NOTSEEN-DISCUSS/AGAIN: with within_working_days
    "risk_assessed",  # CB-20CD-LSW: not immediate; the family is to be contacted
    "family_contacted",  # CB-20CD-LSW
    "written_agreement",  # CB-20CD-LSW: parent met, written agreement, core group informed
    "core_group_meeting",  # CB-30WD-ANY: urgent core group meeting arranged / chair discussed
    "chair_notified",  # CB-30WD-ANY (cp_chair)
    "access_difficulty",  # CB-ACCESS: a manager says there is difficulty obtaining access
    "another_agency_to_see",  # CB-ACCESS
    "review_conference",  # CB-ACCESS
    "interval_changed",  # CB-FREQ-CHANGE: with within_working_days = the new interval
    "cin_arrangement_recorded",  # CB-STEPDOWN
    "reviewed",  # any manager flag: considered and recorded (e.g. in supervision)
)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Dates and instants a case can hold. Deadlines are computed in working days from them, and a
# date near year 1 or 9999 would run the calendar off the end of what `datetime` can hold.
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)
# The largest whole number a case holds (plan numbers, intervals and timeframes in working days);
# far above any real one, and far below what a database integer column holds.
MOST = 999


class CaseFileError(ValueError):
    """Bad case-file input; the message names the field."""


@dataclass(frozen=True, slots=True)
class CaseFile:
    policy: str
    as_of: datetime
    case: Case


def parse_case_json(text: str) -> CaseFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFileError(f"case file: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise CaseFileError("case file: not valid JSON (nested too deeply)") from None
    except ValueError:  # an integer of more digits than int() converts
        raise CaseFileError("case file: not valid JSON (a number has too many digits)") from None
    return parse_case_mapping(data)


# -- field readers -----------------------------------------------------------------------------
class _Reader:
    """Reads one JSON object, remembering which keys it used so unknown ones can be named."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise CaseFileError(f"{where or 'case file'}: must be a JSON object")
        self.data = data
        self.where = where
        self.used: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(
        self,
        key: str,
        parse: Callable[[Any, str], Any],
        *,
        required: bool = False,
        default: Any = None,
    ) -> Any:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise CaseFileError(f"{self._name(key)}: missing")
            return default
        return parse(self.data[key], self._name(key))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise CaseFileError(f"{self._name(field_name(unknown[0]))}: unknown field")


def field_name(key: str) -> str:
    """A key of the input as an error names it: quoted (JSON) unless it is a plain word, so that a
    key such as "" or one holding a line break still makes a one-line message."""
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else json.dumps(key)


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CaseFileError(f"{name}: must be a non-empty string")
    return value.strip()


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise CaseFileError(f"{name}: must be true or false, not {json.dumps(value)}")
    return value


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MOST:
        raise CaseFileError(f"{name}: must be a whole number from 1 to {MOST}, not {json.dumps(value)}")
    return value


def _date(value: Any, name: str) -> date:
    try:
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        raise CaseFileError(f"{name}: must be a date YYYY-MM-DD, not {json.dumps(value)}") from None
    _in_range(parsed, name, value)
    return parsed


def _in_range(day: date, name: str, value: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise CaseFileError(f"{name}: must be between {EARLIEST} and {LATEST}, not {json.dumps(value)}")


def _instant(value: Any, name: str) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CaseFileError(
            f"{name}: must be an ISO 8601 instant with offset, e.g. 2026-12-21T10:30:00+00:00, "
            f"not {json.dumps(value)}"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise CaseFileError(f"{name}: needs a UTC offset, e.g. {value}+00:00")
    _in_range(parsed.date(), name, value)
    return parsed


def _dates(value: Any, name: str) -> tuple[date, ...]:
    if not isinstance(value, list):
        raise CaseFileError(f"{name}: must be a list of dates YYYY-MM-DD")
    return tuple(sorted(_date(v, f"{name}[{i}]") for i, v in enumerate(value)))


def _one_of(options: tuple[str, ...]) -> Callable[[Any, str], str]:
    def parse(value: Any, name: str) -> str:
        if value not in options:
            raise CaseFileError(f"{name}: must be one of {', '.join(options)}, not {json.dumps(value)}")
        return value

    return parse


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise CaseFileError(f"{name}: must be a list")
    return value


# -- the parts ---------------------------------------------------------------------------------
def _child(data: Any) -> Child:
    r = _Reader(data, "child")
    child = Child(ref=r.get("ref", _str, required=True), date_of_birth=r.get("date_of_birth", _date))
    r.done()
    return child


def _plan(data: Any) -> Plan:
    r = _Reader(data, "plan")
    plan = Plan(
        started=r.get("started", _date, required=True),
        plan_number=r.get("plan_number", _int, default=1),
        visit_interval_working_days=r.get("visit_interval_working_days", _int),
        review_conferences=r.get("review_conferences", _dates, default=()),
        core_group_meetings=r.get("core_group_meetings", _dates, default=()),
        cp_chair_agreed_interval_on=r.get("cp_chair_agreed_interval_on", _date),
        exploitation_concerns=r.get("exploitation_concerns", _bool, default=False),
        ended=r.get("ended", _date),
    )
    r.done()
    if plan.ended is not None and plan.ended < plan.started:
        raise CaseFileError("plan.ended: is before plan.started")
    return plan


def parse_contact(data: Any, where: str) -> Contact:
    r = _Reader(data, where)
    contact = Contact(
        at=r.get("at", _instant, required=True),
        kind=r.get("kind", _one_of(CONTACT_KINDS), required=True),
        by=r.get("by", _one_of(ROLES), required=True),
        qualified=r.get("qualified", _bool, default=True),
        child_seen=r.get("child_seen", _bool, required=True),
        seen_alone=r.get("seen_alone", _one_of(SEEN_ALONE)),
        seen_alone_reason=r.get("seen_alone_reason", _str),
        bedroom_seen=r.get("bedroom_seen", _bool),
        child_awake=r.get("child_awake", _bool),
        recorded_at=r.get("recorded_at", _instant),
        no_one_home=r.get("no_one_home", _bool, default=False),
        note_left=r.get("note_left", _bool),
        note_not_left_reason=r.get("note_not_left_reason", _str),
        risk_worsened=r.get("risk_worsened", _bool, default=False),
        new_injury=r.get("new_injury", _bool, default=False),
        alone_concerns=r.get("alone_concerns", _bool, default=False),
    )
    r.done()
    check_contact(contact, where)
    if not contact.child_seen and contact.seen_alone == "not_applicable":
        contact = contact._replace(seen_alone=None)  # RULES.md R12: the same as leaving it out
    return contact


def check_contact(contact: Contact, where: str) -> None:
    """The cross-field rules of a visit record (shared by the case file, the import and the bot)."""
    if contact.seen_alone == "no" and not contact.seen_alone_reason:
        raise CaseFileError(f'{where}.seen_alone_reason: required when seen_alone is "no"')
    if not contact.child_seen and contact.seen_alone == "yes":  # RULES.md R12: not_applicable is fine
        raise CaseFileError(f"{where}.seen_alone: the child was not seen, so cannot be seen alone")
    if contact.no_one_home and contact.child_seen:
        raise CaseFileError(f"{where}.no_one_home: cannot be true when the child was seen")
    if contact.recorded_at is not None and contact.recorded_at < contact.at:
        raise CaseFileError(f"{where}.recorded_at: is before the contact's time")


def parse_sighting(data: Any, where: str) -> AgencySighting:
    r = _Reader(data, where)
    sighting = AgencySighting(
        at=r.get("at", _instant, required=True), agency=r.get("agency", _str, required=True)
    )
    r.done()
    return sighting


def parse_decision(data: Any, where: str) -> Decision:
    r = _Reader(data, where)
    decision = Decision(
        at=r.get("at", _instant, required=True),
        rule=r.get("rule", _str, required=True),
        by=r.get("by", _one_of(ROLES), required=True),
        outcome=r.get("outcome", _one_of(DECISION_OUTCOMES), required=True),
        within_working_days=r.get("within_working_days", _int),
    )
    r.done()
    if decision.outcome in ("further_visit", "interval_changed") and decision.within_working_days is None:
        raise CaseFileError(f'{where}.within_working_days: required when outcome is "{decision.outcome}"')
    return decision


def parse_case_mapping(data: Any) -> CaseFile:
    r = _Reader(data, "")
    policy = r.get("policy", _str, required=True)
    as_of = r.get("as_of", _instant, required=True)
    child = _child(r.get("child", lambda v, _n: v, required=True))
    plan = _plan(r.get("plan", lambda v, _n: v, required=True))
    contacts = [
        parse_contact(c, f"contacts[{i}]") for i, c in enumerate(r.get("contacts", _list, default=[]))
    ]
    sightings = [
        parse_sighting(s, f"agency_sightings[{i}]")
        for i, s in enumerate(r.get("agency_sightings", _list, default=[]))
    ]
    decisions = [
        parse_decision(d, f"decisions[{i}]") for i, d in enumerate(r.get("decisions", _list, default=[]))
    ]
    r.done()
    case = Case(
        child=child,
        plan=plan,
        contacts=tuple(sorted(contacts, key=lambda c: c.at)),
        agency_sightings=tuple(sorted(sightings, key=lambda s: s.at)),
        decisions=tuple(sorted(decisions, key=lambda d: d.at)),
    )
    return CaseFile(policy=policy, as_of=as_of, case=case)
