"""Facts in the database -> the engine's `Case` (scheduler.rules.model), one child or many.

`cases_for_children` reads a batch of children with a handful of set-based queries per chunk of
ids (no per-child queries), so a sweep over 100,000 children costs a few hundred queries.

What the engine sees:
- the child's current plan: the one that started last (a child without a plan has no case);
- contacts in time order, without those replaced by a correction (`correction_of`);
- `Contact.by` from who visited when known: the child's lead social worker ->
  "lead_social_worker"; another social worker -> "duty_social_worker"; a manager or chair -> their
  role; otherwise the role stored with the contact;
- agency sightings and decisions in time order; review conferences and core group meetings as
  sorted date tuples.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from scheduler.rules import model
from storage.models import AgencySighting, Child, Contact, Decision, Plan, PlanMeeting, Staff

CHUNK = 1000  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits

_SOCIAL_WORKERS = frozenset({"social_worker", "duty_social_worker"})
_ROLE_AS_ITSELF = frozenset({"team_manager", "practice_manager", "head_of_service", "cp_chair"})


class MissingPlanError(LookupError):
    """The child has no child protection plan recorded, so there is nothing to evaluate."""


def case_for_child(session: Session, child: Child | int) -> model.Case:
    child_id = child.id if isinstance(child, Child) else child
    cases = cases_for_children(session, [child_id])
    if child_id not in cases:
        if session.get(Child, child_id) is None:
            raise LookupError(f"child: no child with id {child_id}")
        raise MissingPlanError(f"child {child_id}: has no plan")
    return cases[child_id]


def cases_for_children(
    session: Session, child_ids: Iterable[int], *, free_text: bool = True
) -> dict[int, model.Case]:
    """The case of each child (by id) that has a plan; unknown ids and children without a plan
    are left out.

    `free_text=False` (the sweep): the visit record's reasons are not decrypted, only marked as
    recorded (the engine needs to know they are there, not what they say), and contacts are read
    straight from the driver: a cold sweep reads millions of them."""
    result: dict[int, model.Case] = {}
    for chunk in _chunks(sorted(set(child_ids)), CHUNK):
        result.update(_load_chunk(session, chunk, free_text))
    return result


def contact_role(by_role: str, staff_id: int | None, staff_role: str | None, lead_id: int | None) -> str:
    """The engine's `by` for a contact (see the module docstring)."""
    if staff_id is None or staff_role is None:
        return by_role
    if staff_id == lead_id:
        return "lead_social_worker"
    if staff_role in _SOCIAL_WORKERS:
        return "duty_social_worker"
    if staff_role in _ROLE_AS_ITSELF:
        return staff_role
    return by_role


def among(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values` with one parameter however many values: `column = ANY(:values)` on
    PostgreSQL, `column IN (SELECT value FROM json_each(:values))` on SQLite. A list of thousands
    of parameters costs more to compile and bind than the query costs to run."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    each = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values))))
    )
    return column.in_(each)


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _load_chunk(session: Session, ids: list[int], free_text: bool = True) -> dict[int, model.Case]:
    # Rows are fetched at once, unpacked as tuples, and meetings grouped in one flat dict: a sweep
    # builds the cases of every child, and a row's attribute look-ups and nested dicts cost a
    # third of it.
    execute = session.connection().execute
    children = execute(
        select(Child.id, Child.case_ref, Child.date_of_birth, Child.lead_social_worker_id).where(
            among(session, Child.id, ids)
        )
    ).all()
    plans: dict[int, tuple[Any, ...]] = {}
    for plan_id, child_id, *plan in execute(
        select(
            Plan.id,
            Plan.child_id,
            Plan.started,
            Plan.plan_number,
            Plan.visit_interval_working_days,
            Plan.cp_chair_agreed_interval_on,
            Plan.exploitation_concerns,
            Plan.ended,
        )
        .where(among(session, Plan.child_id, ids))
        .order_by(Plan.child_id, Plan.started, Plan.id)
    ).all():
        plans[child_id] = (plan_id, *plan)  # the last one started wins
    meetings: dict[tuple[int, str], list[date]] = {}
    for plan_id, kind, held_on in execute(
        select(PlanMeeting.plan_id, PlanMeeting.kind, PlanMeeting.held_on)
        .where(among(session, PlanMeeting.plan_id, [p[0] for p in plans.values()]))
        .order_by(PlanMeeting.held_on)
    ).all():
        meetings.setdefault((plan_id, kind), []).append(held_on)

    lead = {child_id: lead_id for child_id, _, _, lead_id in children}
    contacts = _contacts(session, ids, lead) if free_text else _contacts_fast(session, ids, lead)
    sightings: dict[int, list[model.AgencySighting]] = defaultdict(list)
    for child_id, at, agency in execute(
        select(AgencySighting.child_id, AgencySighting.at, AgencySighting.agency)
        .where(among(session, AgencySighting.child_id, ids))
        .order_by(AgencySighting.child_id, AgencySighting.at, AgencySighting.id)
    ).all():
        sightings[child_id].append(_make_sighting((at, agency)))
    decisions: dict[int, list[model.Decision]] = defaultdict(list)
    for child_id, *decision in execute(
        select(
            Decision.child_id,
            Decision.at,
            Decision.rule,
            Decision.by_role,
            Decision.outcome,
            Decision.within_working_days,
        )
        .where(among(session, Decision.child_id, ids))
        .order_by(Decision.child_id, Decision.at, Decision.id)
    ).all():
        decisions[child_id].append(_make_decision(decision))

    cases: dict[int, model.Case] = {}
    no_meetings: list[date] = []
    for child_id, case_ref, date_of_birth, _ in children:
        plan = plans.get(child_id)
        if plan is None:
            continue
        plan_id, started, number, interval, agreed_on, exploitation, ended = plan
        cases[child_id] = model.Case(
            child=model.Child(ref=case_ref, date_of_birth=date_of_birth),
            plan=model.Plan(
                started=started,
                plan_number=number,
                visit_interval_working_days=interval,
                review_conferences=tuple(meetings.get((plan_id, "review_conference"), no_meetings)),
                core_group_meetings=tuple(meetings.get((plan_id, "core_group_meeting"), no_meetings)),
                cp_chair_agreed_interval_on=agreed_on,
                exploitation_concerns=exploitation,
                ended=ended,
            ),
            contacts=tuple(contacts.get(child_id, ())),
            agency_sightings=tuple(sightings.get(child_id, ())),
            decisions=tuple(decisions.get(child_id, ())),
        )
    return cases


def _contacts(
    session: Session, ids: list[int], lead: dict[int, int | None]
) -> dict[int, list[model.Contact]]:
    correction = aliased(Contact)
    rows = (
        session.connection()
        .execute(
            select(
                Contact.child_id,
                Contact.at,
                Contact.kind,
                Contact.by_role,
                Contact.by_staff_id,
                Staff.role.label("staff_role"),
                Contact.qualified,
                Contact.child_seen,
                Contact.seen_alone,
                Contact.seen_alone_reason,
                Contact.bedroom_seen,
                Contact.child_awake,
                Contact.recorded_at,
                Contact.no_one_home,
                Contact.note_left,
                Contact.note_not_left_reason,
                Contact.risk_worsened,
                Contact.new_injury,
                Contact.alone_concerns,
            )
            .outerjoin(Staff, Staff.id == Contact.by_staff_id)
            .where(
                among(session, Contact.child_id, ids),
                ~exists().where(correction.correction_of_id == Contact.id),
            )
            .order_by(Contact.child_id, Contact.at, Contact.id)
        )
        .all()
    )
    # The hot loop of a cold sweep (millions of rows): plain tuples from the connection, and
    # model.Contact built positionally (the select's columns from `qualified` on are in the
    # dataclass's field order).
    out: dict[int, list[model.Contact]] = defaultdict(list)
    make = model.Contact
    for r in rows:
        child_id = r[0]
        by = r[3] if r[4] is None else contact_role(r[3], r[4], r[5], lead.get(child_id))
        out[child_id].append(make(r[1], r[2], by, *r[6:]))
    return out


# -- the sweep's fast path -----------------------------------------------------------------------
RECORDED = "(recorded)"  # stands for free text the engine only needs to know is there
# A contact's yes/no facts, packed by the database into one integer, a base-3 digit each (0 no,
# 1 yes, 2 not recorded), then whether each reason is recorded, then seen-alone's answer (0 not
# recorded, then SEEN_ALONE's), then its kind (CONTACT_KINDS'; any other makes the whole NULL, and
# the chunk is read the general way): a cold sweep reads millions of contacts, and fetching and
# converting one value instead of thirteen was a third of the read. `_unpack` gives them in
# model.Contact's field order, in three parts (by and recorded_at, read on their own, come between).
_FLAGS = (
    "qualified",
    "child_seen",
    "bedroom_seen",
    "child_awake",
    "no_one_home",
    "note_left",
    "risk_worsened",
    "new_injury",
    "alone_concerns",
)
_REASONS = ("seen_alone_reason", "note_not_left_reason")
_ALONE_AT = 3 ** len(_FLAGS) * 2 ** len(_REASONS)
_KIND_AT = _ALONE_AT * (len(model.SEEN_ALONE) + 1)


def _packed(as_integer: str) -> str:
    """The packing expression; `as_integer` turns a boolean column into 0/1 (SQLite stores
    booleans as integers already, and each CAST per contact cost a twentieth of its read)."""
    return " + ".join(
        [f"{3**i} * COALESCE({as_integer.format(f'c.{name}')}, 2)" for i, name in enumerate(_FLAGS)]
        + [
            f"CASE WHEN c.{name} IS NULL THEN 0 ELSE {3 ** len(_FLAGS) * 2**i} END"
            for i, name in enumerate(_REASONS)
        ]
        + [
            f"{_ALONE_AT} * CASE c.seen_alone "
            + " ".join(f"WHEN '{answer}' THEN {i + 1}" for i, answer in enumerate(model.SEEN_ALONE))
            + " ELSE 0 END",
            f"{_KIND_AT} * CASE c.kind "
            + " ".join(f"WHEN '{kind}' THEN {i}" for i, kind in enumerate(model.CONTACT_KINDS))
            + " END",
        ]
    )


# The usual visitor's role, the lead social worker's, comes as NULL (by_role is never NULL): None
# costs the driver nothing to make, where a string a row was a tenth of the read.
# Corrected contacts are left out by a subquery the database runs once (a NOT EXISTS per contact
# cost a fifth of the read). Who visited is looked up in the staff's roles read once, not joined
# on every contact. SQLite is given the children's ids as a list of parameters; PostgreSQL as one
# array, and it then reads the index in order (no sort of it all).
_FAST_SQL = """
SELECT c.child_id, c.at, NULLIF(c.by_role, '{lead}'), c.by_staff_id, c.recorded_at, {packed}
FROM contacts c
WHERE {among}
AND c.id NOT IN (SELECT correction_of_id FROM contacts WHERE correction_of_id IS NOT NULL)
ORDER BY c.child_id, c.at, c.id
"""
_FAST_SQLITE = _FAST_SQL.format(
    packed=_packed("{}"), among="c.child_id IN ({ids})", lead=model.LEAD_SOCIAL_WORKER
)
_FAST_POSTGRESQL = _FAST_SQL.format(
    packed=_packed("CAST({} AS INTEGER)"), among="c.child_id = ANY(%s)", lead=model.LEAD_SOCIAL_WORKER
)
_ROLES_SQL = "SELECT id, role FROM staff"
_Unpacked = tuple[str, tuple[Any, ...], tuple[Any, ...]]
_unpacked: dict[int, _Unpacked] = {}


class _OtherKind(Exception):
    """A contact of a kind the model does not list (none is written so): read the chunk the
    general way."""


def _unpack(packed: int | None) -> _Unpacked:
    """The packed facts as (kind, (qualified, child_seen, seen_alone, seen_alone_reason,
    bedroom_seen, child_awake), (no_one_home, note_left, note_not_left_reason, risk_worsened,
    new_injury, alone_concerns)), the reasons as RECORDED or None. Kept: a caseload has few
    patterns."""
    if packed is None:
        raise _OtherKind
    known = _unpacked.get(packed)
    if known is None:
        flags: dict[str, Any] = {}
        rest = packed
        for name in _FLAGS:
            rest, digit = divmod(rest, 3)
            flags[name] = (False, True, None)[digit]
        for i, name in enumerate(_REASONS):
            flags[name] = RECORDED if rest & 2**i else None
        rest >>= len(_REASONS)
        rest, answer = divmod(rest, len(model.SEEN_ALONE) + 1)
        flags["seen_alone"] = model.SEEN_ALONE[answer - 1] if answer else None
        kind = model.CONTACT_KINDS[rest]
        head = ("qualified", "child_seen", "seen_alone", "seen_alone_reason", "bedroom_seen", "child_awake")
        tail = model.Contact._fields[model.Contact._fields.index("recorded_at") + 1 :]
        known = _unpacked[packed] = (kind, tuple(flags[n] for n in head), tuple(flags[n] for n in tail))
    return known


# The facts' named tuples built from a tuple of their fields, in C
_make_contact = partial(tuple.__new__, model.Contact)
_make_sighting = partial(tuple.__new__, model.AgencySighting)
_make_decision = partial(tuple.__new__, model.Decision)


def _contacts_fast(
    session: Session, ids: list[int], lead: dict[int, int | None]
) -> dict[int, list[model.Contact]]:
    """`_contacts` for the sweep: the same contacts through the DBAPI cursor, no per-value
    processing by the ORM, flags packed, reasons marked rather than decrypted."""
    connection = session.connection()
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_ROLES_SQL)
        roles = dict(cursor.fetchall())
        if connection.dialect.name == "sqlite":
            cursor.execute(_FAST_SQLITE.format(ids=", ".join(["?"] * len(ids))), ids)
        else:
            cursor.execute(_FAST_POSTGRESQL, [ids])
        rows = cursor.fetchall()
    finally:
        cursor.close()
    try:
        return _built(rows, connection.dialect.name == "sqlite", roles, lead)
    except _OtherKind:
        return {
            child_id: [
                c._replace(
                    seen_alone_reason=None if c.seen_alone_reason is None else RECORDED,
                    note_not_left_reason=None if c.note_not_left_reason is None else RECORDED,
                )
                for c in contacts
            ]
            for child_id, contacts in _contacts(session, ids, lead).items()
        }


def _built(
    rows: list[Any], text: bool, roles: dict[int, str], lead: dict[int, int | None]
) -> dict[int, list[model.Contact]]:
    """The contacts of `_FAST_SQL`'s rows. `text`: instants are SQLite's text."""
    # SQLite gives instants as UTC text without an offset; PostgreSQL's driver, aware datetimes in
    # the session's zone (UTC), made UTC here otherwise: the engine compares them with instants in
    # UTC, which is a fifth quicker between two datetimes of the same tzinfo
    parse, lead_role = datetime.fromisoformat, model.LEAD_SOCIAL_WORKER
    unpacked, unpack, make = _unpacked, _unpack, _make_contact
    out: dict[int, list[model.Contact]] = {}
    current: int | None = None
    append = [].append
    for child_id, at, by, staff_id, recorded, packed in rows:
        if child_id != current:
            current, append = child_id, out.setdefault(child_id, []).append
        if by is None:
            by = lead_role
        if staff_id is not None:
            by = contact_role(by, staff_id, roles.get(staff_id), lead.get(child_id))
        if text:
            at = parse(at + "+00:00")
            if recorded is not None:
                recorded = parse(recorded + "+00:00")
        elif at.tzinfo is not UTC:
            at = at.astimezone(UTC)
            if recorded is not None:
                recorded = recorded.astimezone(UTC)
        kind, head, tail = unpacked.get(packed) or unpack(packed)
        append(make((at, kind, by, *head, recorded, *tail)))
    return out
