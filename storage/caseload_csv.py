"""The caseload CSV (one file, a `record_type` column): text -> `Caseload`.

The columns are documented in `storage.importer`. Every problem is reported as
`line N: <column>: <what is wrong>` (line 1 is the header; a quoted cell may span lines and the
row is named by its first line); all problems of the file are collected before giving up.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.rules import model
from scheduler.rules.casefile import DECISION_OUTCOMES, EARLIEST, LATEST, MOST, field_name
from storage.caseload import (
    At,
    Caseload,
    ChildRecord,
    DecisionRecord,
    ImportFileError,
    SightingRecord,
    StaffRecord,
    TeamRecord,
    VisitRecordIn,
    case_ref_problem,
    initials_problem,
    text_problem,
    visit_ident,
)
from storage.facts import VISIT_RECORD_FIELDS, VisitRecord
from storage.models import STAFF_ROLES

LOCAL = ZoneInfo("Europe/London")
_UNSET_TIME = datetime(1, 1, 1, tzinfo=UTC)  # stands in for a bad cell; the file is refused anyway
VISIT_GROUP_NAMESPACE = uuid.UUID("6f1f3a52-55b8-4f0e-9a57-2b1c1e0d7a11")

_VISIT_FLAGS = (
    "qualified",
    "child_seen",
    "seen_alone",
    "seen_alone_reason",
    "bedroom_seen",
    "child_awake",
    "recorded_at",
    "no_one_home",
    "note_left",
    "note_not_left_reason",
    "risk_worsened",
    "new_injury",
    "alone_concerns",
)

# record type -> its columns (True: required)
COLUMNS: dict[str, dict[str, bool]] = {
    "team": {"team": True, "policy": True, "slack_channel": False},
    "staff": {
        "name": True,
        "role": True,
        "email": False,
        "chat_user_id": False,
        "qualified_registered": False,
        "team": False,
        "active": False,
    },
    "child": {
        "case_ref": True,
        "initials": True,
        "date_of_birth": False,
        "team": True,
        "lead_social_worker": False,
        "plan_started": True,
        "plan_number": False,
        "visit_interval_working_days": False,
        "cp_chair_agreed_interval_on": False,
        "cp_chair_agreed_by": False,
        "exploitation_concerns": False,
        "plan_ended": False,
        "review_conferences": False,
        "core_group_meetings": False,
    },
    "visit": {
        "case_ref": True,
        "visit_ref": False,
        "at": True,
        "kind": True,
        "by": False,
        "by_staff": False,
        **{name: name == "child_seen" for name in _VISIT_FLAGS},
        **dict.fromkeys(VISIT_RECORD_FIELDS, False),
        "visit_group": False,
    },
    "sighting": {"case_ref": True, "at": True, "agency": True, "recorded_by": False},
    "decision": {
        "case_ref": True,
        "at": True,
        "rule": True,
        "by": True,
        "by_staff": False,
        "outcome": True,
        "within_working_days": False,
        "note": False,
    },
}
ALL_COLUMNS: tuple[str, ...] = (
    "record_type",
    *dict.fromkeys(c for cols in COLUMNS.values() for c in cols),
)


class _Bad(ValueError):
    pass


# -- cell readers -----------------------------------------------------------------------------
def _text(v: str) -> str:
    return v


def _bool(v: str) -> bool:
    low = v.lower()
    if low in ("yes", "y", "true", "t", "1"):
        return True
    if low in ("no", "n", "false", "f", "0"):
        return False
    raise _Bad(f"must be yes or no, not {v!r}")


def _int(v: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", v) or not 1 <= int(v) <= MOST:
        raise _Bad(f"must be a whole number from 1 to {MOST}, not {v!r}")
    return int(v)


def _date(v: str) -> date:
    parsed = None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            parsed = date.fromisoformat(v)
        elif re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", v):
            d, m, y = (int(x) for x in v.split("/"))
            parsed = date(y, m, d)
    except ValueError:
        pass
    if parsed is None:
        raise _Bad(f"must be a date YYYY-MM-DD (or DD/MM/YYYY), not {v!r}")
    return _in_range(parsed, v)


def _in_range(day: date, v: str) -> date:
    """The dates a case file may hold (scheduler.rules.casefile): the engine computes working days
    from them, and near year 1 or 9999 that runs off the end of what `datetime` holds."""
    if not EARLIEST <= day <= LATEST:
        raise _Bad(f"must be between {EARLIEST} and {LATEST}, not {v!r}")
    return day


def _dates(v: str) -> tuple[date, ...]:
    return tuple(sorted({_date(part) for part in re.split(r"[;,\s]+", v) if part}))


def _instant(v: str) -> datetime:
    """ISO 8601 with an offset, or a local (Europe/London) date and time."""
    text = v.strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    parsed = None
    try:
        if m:
            d, mo, y, h, mi, s = (int(x or 0) for x in m.groups())
            parsed = datetime(y, mo, d, h, mi, s, tzinfo=LOCAL)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}.*", text):
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=LOCAL)
    except ValueError:
        pass
    if parsed is not None:
        _in_range(parsed.date(), v)
        return parsed
    raise _Bad(
        f"must be a date and time, e.g. 2026-12-21T10:30:00+00:00 or 2026-12-21 10:30 "
        f"(London time), not {v!r}"
    )


def _one_of(options: Collection[str]) -> Callable[[str], str]:
    def parse(v: str) -> str:
        if v not in options:
            raise _Bad(f"must be one of {', '.join(options)}, not {v!r}")
        return v

    return parse


def _initials(v: str) -> str:
    if problem := initials_problem(v, repr(v)):
        raise _Bad(problem)
    return v


def _case_ref(v: str) -> str:
    if problem := case_ref_problem(v):
        raise _Bad(problem)
    return v


def _rule_id(v: str) -> str:
    if not re.fullmatch(r"[A-Z]{2,}(-[A-Z0-9]+)+", v):
        raise _Bad(f"must be a rule ID such as CB-NOTSEEN-DISCUSS, not {v!r}")
    return v


def _visit_group(v: str) -> uuid.UUID:
    try:
        return uuid.UUID(v)
    except ValueError:
        return uuid.uuid5(VISIT_GROUP_NAMESPACE, v)


# -- rows -------------------------------------------------------------------------------------
class _Row:
    def __init__(self, values: dict[str, str], at: At, kind: str, problems: list[str]) -> None:
        self.values = values
        self.at = at
        self.kind = kind
        self.problems = problems
        self.ok = True

    def bad(self, column: str, message: str) -> None:
        self.problems.append(f"{self.at(column)}: {message}")
        self.ok = False

    def get(self, column: str, parse: Callable[[str], Any] = _text, default: Any = None) -> Any:
        raw = self.values.get(column)
        if raw is None:
            if COLUMNS[self.kind][column]:
                self.bad(column, f"missing (required in a {self.kind} row)")
            return default
        try:
            return parse(raw)
        except _Bad as exc:
            self.bad(column, str(exc))
            return default


def _team(r: _Row, policy_names: Collection[str]) -> TeamRecord:
    return TeamRecord(
        r.at, r.get("team"), r.get("policy", _one_of(sorted(policy_names))), r.get("slack_channel")
    )


def _staff(r: _Row) -> StaffRecord:
    return StaffRecord(
        r.at,
        name=r.get("name"),
        role=r.get("role", _one_of(STAFF_ROLES)),
        email=r.get("email"),
        chat_user_id=r.get("chat_user_id"),
        qualified_registered=r.get("qualified_registered", _bool),
        team=r.get("team"),
        active=r.get("active", _bool),
    )


def _child(r: _Row, header: set[str]) -> ChildRecord:
    started = r.get("plan_started", _date)
    ended = r.get("plan_ended", _date)
    if started and ended and ended < started:
        r.bad("plan_ended", "is before plan_started")
    plan = model.Plan(
        started=started or date.min,
        plan_number=r.get("plan_number", _int, 1),
        visit_interval_working_days=r.get("visit_interval_working_days", _int),
        review_conferences=r.get("review_conferences", _dates, ()),
        core_group_meetings=r.get("core_group_meetings", _dates, ()),
        cp_chair_agreed_interval_on=r.get("cp_chair_agreed_interval_on", _date),
        exploitation_concerns=r.get("exploitation_concerns", _bool, False),
        ended=ended,
    )
    return ChildRecord(
        r.at,
        case_ref=r.get("case_ref", _case_ref),
        initials=r.get("initials", _initials),
        plan=plan,
        date_of_birth=r.get("date_of_birth", _date),
        team=r.get("team"),
        lead_social_worker=r.get("lead_social_worker"),
        cp_chair_agreed_by=r.get("cp_chair_agreed_by"),
        meetings_stated=tuple(
            kind
            for kind, column in (
                ("review_conference", "review_conferences"),
                ("core_group_meeting", "core_group_meetings"),
            )
            if column in header
        ),
    )


def _visit(r: _Row) -> VisitRecordIn:
    at = r.get("at", _instant)
    kind = r.get("kind", _one_of(model.CONTACT_KINDS))
    by = r.get("by", _one_of(model.ROLES))
    qualified = r.get("qualified", _bool)
    contact = model.Contact(
        at=at or _UNSET_TIME,
        kind=kind or "home_visit",
        by=by or "",
        qualified=True if qualified is None else qualified,
        child_seen=r.get("child_seen", _bool, False),
        seen_alone=r.get("seen_alone", _one_of(model.SEEN_ALONE)),
        seen_alone_reason=r.get("seen_alone_reason"),
        bedroom_seen=r.get("bedroom_seen", _bool),
        child_awake=r.get("child_awake", _bool),
        recorded_at=r.get("recorded_at", _instant),
        no_one_home=r.get("no_one_home", _bool, False),
        note_left=r.get("note_left", _bool),
        note_not_left_reason=r.get("note_not_left_reason"),
        risk_worsened=r.get("risk_worsened", _bool, False),
        new_injury=r.get("new_injury", _bool, False),
        alone_concerns=r.get("alone_concerns", _bool, False),
    )
    record = VisitRecord(
        **{name: r.get(name, _bool if name == "spoken_with" else _text) for name in VISIT_RECORD_FIELDS}
    )
    visit_ref = r.get("visit_ref")
    return VisitRecordIn(
        r.at,
        case_ref=r.get("case_ref", _case_ref),
        ident=visit_ident(contact.at, contact.kind, visit_ref) if at else "",
        contact=contact,
        by_given=by is not None,
        qualified_given=qualified is not None,
        record=record,
        by_staff=r.get("by_staff"),
        visit_group=r.get("visit_group", _visit_group),
    )


def _sighting(r: _Row) -> SightingRecord:
    return SightingRecord(
        r.at,
        case_ref=r.get("case_ref", _case_ref),
        sighting=model.AgencySighting(at=r.get("at", _instant) or _UNSET_TIME, agency=r.get("agency") or ""),
        recorded_by=r.get("recorded_by"),
    )


def _decision(r: _Row) -> DecisionRecord:
    decision = model.Decision(
        at=r.get("at", _instant) or _UNSET_TIME,
        rule=r.get("rule", _rule_id) or "",
        by=r.get("by", _one_of(model.ROLES)) or "",
        outcome=r.get("outcome", _one_of(DECISION_OUTCOMES)) or "",
        within_working_days=r.get("within_working_days", _int),
    )
    needs_days = decision.outcome in ("further_visit", "interval_changed")
    if r.ok and needs_days and decision.within_working_days is None:
        r.bad("within_working_days", f'required when outcome is "{decision.outcome}"')
    return DecisionRecord(
        r.at,
        case_ref=r.get("case_ref", _case_ref),
        decision=decision,
        by_staff=r.get("by_staff"),
        note=r.get("note"),
    )


# -- the file ---------------------------------------------------------------------------------
def parse_csv(text: str, source: str = "caseload.csv", *, policy_names: Collection[str]) -> Caseload:
    """Every record of the file, or `ImportFileError` listing every bad row. A team's policy is
    one of `policy_names`."""
    problems: list[str] = []
    load = Caseload(source=source)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportFileError(["line 1: the file is empty (expected a header row)"]) from None
    except csv.Error as exc:
        raise ImportFileError([f"line 1: not readable as CSV ({exc})"]) from None
    for column in header:
        if column not in ALL_COLUMNS:
            problems.append(f"line 1: {field_name(column) if column else '(blank)'}: unknown column")
        elif header.count(column) > 1:
            problems.append(f"line 1: {column}: appears twice")
    if "record_type" not in header:
        problems.append("line 1: record_type: missing column")
    if problems:
        raise ImportFileError(sorted(set(problems), key=problems.index))
    known = set(header)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {start}: not readable as CSV ({exc})")
            break
        if not any(c.strip() for c in cells):
            continue
        at = At(f"line {start}")
        if len(cells) != len(header):
            problems.append(f"line {start}: has {len(cells)} cells, the header has {len(header)}")
            continue
        values = {h: c.strip() for h, c in zip(header, cells, strict=True) if c.strip()}
        unfit = {h: p for h, c in values.items() if (p := text_problem(c, h))}
        for column, problem in unfit.items():
            problems.append(f"{at(column)}: {problem}")
        if unfit:
            continue
        kind = values.pop("record_type", "")
        if kind not in COLUMNS:
            problems.append(f"{at('record_type')}: must be one of {', '.join(COLUMNS)}, not {kind!r}")
            continue
        row = _Row(values, at, kind, problems)
        for column in values:
            if column not in COLUMNS[kind]:
                row.bad(column, f"not used in a {kind} row")
        if kind == "team":
            load.teams.append(_team(row, policy_names))
        elif kind == "staff":
            load.staff.append(_staff(row))
        elif kind == "child":
            load.children.append(_child(row, known))
        elif kind == "visit":
            load.visits.append(_visit(row))
        elif kind == "sighting":
            load.sightings.append(_sighting(row))
        else:
            load.decisions.append(_decision(row))
    if problems:
        raise ImportFileError(problems)
    return load
