"""Writers of new facts. Each one validates first, then in the caller's transaction inserts the
fact, bumps the child's `facts_version` and writes an audit row; the caller commits
(`with factory.begin() as session: record_contact(session, ...)`). A bad fact raises `FactError`
naming the field before anything is written.

A `source_key` makes a retried request harmless: a second call with the same key returns the
row written by the first and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased

from scheduler.rules import model
from scheduler.rules.casefile import DECISION_OUTCOMES, CaseFileError, check_contact
from scheduler.rules.policy import RULE_ID
from storage import models, notify
from storage.audit import write_audit
from storage.models import CASE_NOTE_SOURCES


class FactError(ValueError):
    """A fact that cannot be recorded; the message names the field."""


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """The free-text parts of a visit record (RULES.md "Visit record"); all optional."""

    present: str | None = None
    spoken_with: bool | None = None
    observations: str | None = None
    family_circumstances: str | None = None
    new_adults: str | None = None
    sleeping_arrangements: str | None = None
    presentation: str | None = None
    wishes_feelings: str | None = None
    incident_or_injury: str | None = None
    contact_title: str | None = None


VISIT_RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(VisitRecord))
CONTACT_FIELDS: tuple[str, ...] = model.Contact._fields


# -- contacts ---------------------------------------------------------------------------------
def record_contact(
    session: Session,
    child: models.Child | int,
    contact: model.Contact,
    *,
    record: VisitRecord | None = None,
    by_staff: models.Staff | int | None = None,
    visit_group: uuid.UUID | None = None,
    correction_of: models.Contact | int | None = None,
    source_key: str | None = None,
    actor: models.Staff | int | str | None = None,
    now: datetime | None = None,
) -> models.Contact:
    """A visit or other contact with the child. `correction_of`: the contact this one replaces
    (the engine then sees only the new one); completing a visit's record later (`recorded_at`, the
    record's text) is such a correction, made of `latest_contact(...)`. `actor` (who wrote it, for
    the audit log) defaults to `by_staff`; a string names a part of the system, e.g. "import"."""
    child_id = _child_id(session, child)
    existing = _by_source_key(session, models.Contact, source_key, child_id)
    if existing is not None:
        return existing
    check_new_contact(contact)
    staff_id = _staff_id(session, by_staff, "by_staff")
    corrected_id = _correctable(session, correction_of, child_id)
    now = _now(now)
    record = record or VisitRecord()
    row = models.Contact(
        child_id=child_id,
        at=contact.at,
        kind=contact.kind,
        by_role=contact.by,
        by_staff_id=staff_id,
        qualified=contact.qualified,
        child_seen=contact.child_seen,
        seen_alone=contact.seen_alone,
        seen_alone_reason=contact.seen_alone_reason,
        bedroom_seen=contact.bedroom_seen,
        child_awake=contact.child_awake,
        recorded_at=contact.recorded_at,
        no_one_home=contact.no_one_home,
        note_left=contact.note_left,
        note_not_left_reason=contact.note_not_left_reason,
        risk_worsened=contact.risk_worsened,
        new_injury=contact.new_injury,
        alone_concerns=contact.alone_concerns,
        **{name: getattr(record, name) for name in VISIT_RECORD_FIELDS},
        visit_group=visit_group,
        correction_of_id=corrected_id,
        source_key=source_key,
        created_at=now,
    )
    return _store(
        session,
        row,
        child_id,
        "contact.corrected" if corrected_id else "contact.recorded",
        actor if actor is not None else staff_id,
        now,
        lambda: {
            "contact_id": row.id,
            "at": contact.at.isoformat(),
            "kind": contact.kind,
            "child_seen": contact.child_seen,
            "correction_of": corrected_id,
        },
    )


def latest_contact(session: Session, contact: models.Contact | int) -> models.Contact:
    """The version of a contact that stands now: the end of its chain of corrections."""
    row = session.get(models.Contact, contact) if isinstance(contact, int) else contact
    if row is None:
        raise FactError(f"contact: no contact {contact}")
    while True:
        newer = session.scalar(select(models.Contact).where(models.Contact.correction_of_id == row.id))
        if newer is None:
            return row
        row = newer


# A visit logged again by the same person with the same outcome, at a time this close to the one
# stored, is the same visit typed twice (a command retyped when no form opened, "now" both times).
SAME_VISIT_WITHIN = timedelta(minutes=10)
SAME_VISIT_FIELDS = ("kind", "child_seen", "no_one_home", "seen_alone", "bedroom_seen", "child_awake")


def same_visit(
    session: Session, child: models.Child | int, by_staff: models.Staff | int, contact: model.Contact
) -> models.Contact | None:
    """The contact already standing (not corrected since) for this outcome of this child, logged by
    the same person at (nearly) the same time, or None. On PostgreSQL the child's row is locked
    first, so that two such requests at once are checked one after the other (SQLite's writers are
    one at a time already); call it in the transaction that stores the contact."""
    child_id = _child_id(session, child)
    staff_id = _staff_id(session, by_staff, "by_staff")
    session.execute(select(models.Child.id).where(models.Child.id == child_id).with_for_update())
    newer = aliased(models.Contact)
    rows = session.scalars(
        select(models.Contact)
        .where(
            models.Contact.child_id == child_id,
            models.Contact.by_staff_id == staff_id,
            models.Contact.at.between(*_around(contact.at, SAME_VISIT_WITHIN)),
            ~exists().where(newer.correction_of_id == models.Contact.id),
        )
        .order_by(models.Contact.id)
    )
    for row in rows:
        if all(getattr(row, name) == getattr(contact, name) for name in SAME_VISIT_FIELDS):
            return row
    return None


def _around(at: datetime, within: timedelta) -> tuple[datetime, datetime]:
    """[at - within, at + within], kept inside the years a datetime holds."""
    low = at - within if at - datetime.min.replace(tzinfo=UTC) > within else at
    high = at + within if datetime.max.replace(tzinfo=UTC) - at > within else at
    return low, high


def check_new_contact(contact: model.Contact, where: str = "contact") -> None:
    """The checks of `record_contact`, for callers that validate before writing (e.g. a form)."""
    _aware(contact.at, f"{where}.at")
    if contact.recorded_at is not None:
        _aware(contact.recorded_at, f"{where}.recorded_at")
    _one_of(contact.kind, model.CONTACT_KINDS, f"{where}.kind")
    _one_of(contact.by, model.ROLES, f"{where}.by")
    if contact.seen_alone is not None:
        _one_of(contact.seen_alone, model.SEEN_ALONE, f"{where}.seen_alone")
    try:
        check_contact(contact, where)
    except CaseFileError as exc:
        raise FactError(str(exc)) from None


def _correctable(session: Session, correction_of: models.Contact | int | None, child_id: int) -> int | None:
    if correction_of is None:
        return None
    cid = correction_of.id if isinstance(correction_of, models.Contact) else correction_of
    old = session.get(models.Contact, cid)
    if old is None or old.child_id != child_id:
        raise FactError(f"correction_of: no contact {cid} for this child")
    newer = session.scalar(select(models.Contact.id).where(models.Contact.correction_of_id == cid).limit(1))
    if newer is not None:
        raise FactError(f"correction_of: contact {cid} was already corrected by contact {newer}")
    return cid


# -- sightings, decisions ---------------------------------------------------------------------
def record_sighting(
    session: Session,
    child: models.Child | int,
    sighting: model.AgencySighting,
    *,
    recorded_by: models.Staff | int | None = None,
    source_key: str | None = None,
    actor: models.Staff | int | str | None = None,
    now: datetime | None = None,
) -> models.AgencySighting:
    """The child seen by another agency (school, nursery, health visitor…)."""
    child_id = _child_id(session, child)
    existing = _by_source_key(session, models.AgencySighting, source_key, child_id)
    if existing is not None:
        return existing
    _aware(sighting.at, "sighting.at")
    _text(sighting.agency, "sighting.agency")
    staff_id = _staff_id(session, recorded_by, "recorded_by")
    now = _now(now)
    row = models.AgencySighting(
        child_id=child_id,
        at=sighting.at,
        agency=sighting.agency.strip(),
        recorded_by_id=staff_id,
        source_key=source_key,
        created_at=now,
    )
    return _store(
        session,
        row,
        child_id,
        "sighting.recorded",
        actor if actor is not None else staff_id,
        now,
        lambda: {"sighting_id": row.id, "at": sighting.at.isoformat(), "agency": row.agency},
    )


def record_decision(
    session: Session,
    child: models.Child | int,
    decision: model.Decision,
    *,
    by_staff: models.Staff | int | None = None,
    note: str | None = None,
    source_key: str | None = None,
    actor: models.Staff | int | str | None = None,
    now: datetime | None = None,
) -> models.Decision:
    """A manager's (or chair's, or worker's) recorded decision under a rule."""
    child_id = _child_id(session, child)
    existing = _by_source_key(session, models.Decision, source_key, child_id)
    if existing is not None:
        return existing
    check_new_decision(decision)
    staff_id = _staff_id(session, by_staff, "by_staff")
    now = _now(now)
    row = models.Decision(
        child_id=child_id,
        at=decision.at,
        rule=decision.rule,
        by_role=decision.by,
        by_staff_id=staff_id,
        outcome=decision.outcome,
        within_working_days=decision.within_working_days,
        note=note,
        source_key=source_key,
        created_at=now,
    )
    return _store(
        session,
        row,
        child_id,
        "decision.recorded",
        actor if actor is not None else staff_id,
        now,
        lambda: {
            "decision_id": row.id,
            "rule": decision.rule,
            "outcome": decision.outcome,
            "within_working_days": decision.within_working_days,
        },
    )


def check_new_decision(decision: model.Decision, where: str = "decision") -> None:
    _aware(decision.at, f"{where}.at")
    if not isinstance(decision.rule, str) or not RULE_ID.match(decision.rule):
        raise FactError(f"{where}.rule: must be a rule ID such as CB-NOTSEEN-DISCUSS, not {decision.rule!r}")
    _one_of(decision.by, model.ROLES, f"{where}.by")
    _one_of(decision.outcome, DECISION_OUTCOMES, f"{where}.outcome")
    wd = decision.within_working_days
    if wd is not None and (isinstance(wd, bool) or not isinstance(wd, int) or wd < 1):
        raise FactError(f"{where}.within_working_days: must be a whole number of at least 1")
    if decision.outcome in ("further_visit", "interval_changed") and wd is None:
        raise FactError(f'{where}.within_working_days: required when outcome is "{decision.outcome}"')


# -- case notes, acknowledgements -------------------------------------------------------------
def add_case_note(
    session: Session,
    child: models.Child | int,
    author: models.Staff | int,
    text: str,
    *,
    at: datetime,
    source: str = "command",
    thread_ref: str | None = None,
    supersedes: models.CaseNote | int | None = None,
    deleted: bool = False,
    source_key: str | None = None,
    now: datetime | None = None,
) -> models.CaseNote:
    """A case note. An edit is a new note with `supersedes` the old one; a deletion is a new note
    with `supersedes` and `deleted=True` (its text may be empty)."""
    child_id = _child_id(session, child)
    existing = _by_source_key(session, models.CaseNote, source_key, child_id)
    if existing is not None:
        return existing
    _aware(at, "case_note.at")
    author_id = _staff_id(session, author, "author")
    if author_id is None:
        raise FactError("author: missing")
    _one_of(source, CASE_NOTE_SOURCES, "case_note.source")
    if not deleted:
        _text(text, "case_note.text")
    superseded_id = None
    if supersedes is not None:
        superseded_id = supersedes.id if isinstance(supersedes, models.CaseNote) else supersedes
        old = session.get(models.CaseNote, superseded_id)
        if old is None or old.child_id != child_id:
            raise FactError(f"supersedes: no case note {superseded_id} for this child")
    elif deleted:
        raise FactError("supersedes: a deletion must name the note it deletes")
    now = _now(now)
    row = models.CaseNote(
        child_id=child_id,
        author_id=author_id,
        at=at,
        text=text or "",
        source=source,
        thread_ref=thread_ref,
        supersedes_id=superseded_id,
        deleted=deleted,
        source_key=source_key,
    )
    action = "case_note.deleted" if deleted else "case_note.edited" if superseded_id else "case_note.added"
    return _store(
        session,
        row,
        child_id,
        action,
        author_id,
        now,
        lambda: {"case_note_id": row.id, "source": source, "supersedes": superseded_id},
    )


def acknowledge(
    session: Session,
    child: models.Child | int,
    staff: models.Staff | int,
    key: str,
    *,
    at: datetime,
    now: datetime | None = None,
) -> models.Acknowledgement:
    """`staff` acknowledged the message or obligation `key` of `child`. Acknowledging twice is one
    fact. A key that is not of this child (every obligation and message key begins with the
    child's case reference) is refused: stored, it would show another child's reference in this
    child's record and subject-access export."""
    child_id = _child_id(session, child)
    staff_id = _staff_id(session, staff, "staff")
    if staff_id is None:
        raise FactError("staff: missing")
    _text(key, "key")
    case_ref = (
        child.case_ref if isinstance(child, models.Child) else session.get(models.Child, child_id).case_ref
    )
    if key.split(":", 1)[0] != case_ref:
        raise FactError(f"key: not an obligation or message of {case_ref}")
    _aware(at, "acknowledgement.at")
    existing = session.scalar(
        select(models.Acknowledgement).where(
            models.Acknowledgement.key == key, models.Acknowledgement.staff_id == staff_id
        )
    )
    if existing is not None:
        return existing
    now = _now(now)
    row = models.Acknowledgement(key=key, child_id=child_id, staff_id=staff_id, at=at)
    return _store(session, row, child_id, "acknowledged", staff_id, now, lambda: {"key": key})


# -- shared -----------------------------------------------------------------------------------
_Fact = TypeVar("_Fact", bound=models.Base)


def _store(
    session: Session,
    row: _Fact,
    child_id: int,
    action: str,
    actor: models.Staff | int | str | None,
    now: datetime,
    detail: Callable[[], dict[str, Any]],
) -> _Fact:
    """Insert the fact `row`, bump the child's `facts_version` and write the audit row `action`.
    `detail` is called after the insert is flushed, so that it can name `row.id`."""
    session.add(row)
    session.flush()
    bump_facts_version(session, child_id)
    write_audit(session, action, child_id=child_id, actor=actor, at=now, detail=detail())
    session.flush()
    return row


def bump_facts_version(session: Session, child_id: int) -> None:
    """Tell the sweep that something new is known about the child (same transaction)."""
    session.execute(
        update(models.Child)
        .where(models.Child.id == child_id)
        .values(facts_version=models.Child.facts_version + 1)
    )
    notify.changed(session, child_id)  # the scheduler is woken for this child once it commits


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    _aware(now, "now")
    return now


def _child_id(session: Session, child: models.Child | int) -> int:
    if isinstance(child, models.Child):
        return child.id
    if session.get(models.Child, child) is None:
        raise FactError(f"child: no child with id {child}")
    return child


def _staff_id(session: Session, staff: models.Staff | int | None, name: str) -> int | None:
    if staff is None or isinstance(staff, models.Staff):
        return None if staff is None else staff.id
    if session.get(models.Staff, staff) is None:
        raise FactError(f"{name}: no staff member with id {staff}")
    return staff


def _by_source_key(session: Session, table: Any, source_key: str | None, child_id: int) -> Any:
    if source_key is None:
        return None
    row = session.scalar(select(table).where(table.source_key == source_key))
    if row is not None and row.child_id != child_id:
        raise FactError(f"source_key: {source_key!r} was already used for another child")
    return row


def _aware(value: Any, name: str) -> None:
    if not isinstance(value, datetime):
        raise FactError(f"{name}: must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise FactError(f"{name}: needs a UTC offset (naive datetimes are refused)")


def _one_of(value: Any, options: tuple[str, ...], name: str) -> None:
    if value not in options:
        raise FactError(f"{name}: must be one of {', '.join(options)}, not {value!r}")


def _text(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise FactError(f"{name}: must be a non-empty string")
