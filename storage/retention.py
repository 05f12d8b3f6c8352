"""Retention: what Seen holds about a child is deleted a set time after the case was closed.

`SEEN_RETENTION_YEARS` (default 6, a whole number of years) applies to every council whatever its
visiting policy: a child whose case was closed (`children.closed_at`) longer ago than that is
purged by `seen retention purge` — the child's row and everything that refers to it: plans and
their meetings, contacts and visit records, sightings, decisions, case notes (every version),
acknowledgements, outbox messages, sweep state and the audit rows about the child.

Why 6 years: Seen is not the council's record of the case; the case-management system is, and its
own retention schedule (often to the child's 25th birthday or longer) governs the statutory record.
Seen's copy is kept for the limitation period of a claim (six years, Limitation Act 1980), the usual
default of local-government retention schedules, and a council sets its own period here.

Facts are append-only through the ORM; this module is the one place that deletes them, with
explicit Core statements, one transaction per child (a child is purged completely or not at all),
each leaving an audit row with counts only: no case reference, no id, nothing about the child.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, Table, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from storage.audit import write_audit
from storage.models import Base, Child

log = logging.getLogger("seen.retention")

RETENTION_ENV = "SEEN_RETENTION_YEARS"
DEFAULT_RETENTION_YEARS = 6


class RetentionError(ValueError):
    """A bad retention setting; the message names it."""


def retention_years() -> int:
    """`SEEN_RETENTION_YEARS`, or the default of 6."""
    text = os.environ.get(RETENTION_ENV, "").strip()
    if not text:
        return DEFAULT_RETENTION_YEARS
    try:
        years = int(text)
    except ValueError:
        raise RetentionError(f"{RETENTION_ENV}: must be a whole number of years, not {text!r}") from None
    if years < 1:
        raise RetentionError(f"{RETENTION_ENV}: must be at least 1 year, not {years}")
    return years


@dataclass
class PurgeReport:
    cutoff: datetime  # cases closed before this are purged
    years: int
    dry_run: bool
    children: int = 0
    deleted: Counter[str] = field(default_factory=Counter)  # table -> rows

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        rows = ", ".join(f"{table} {n}" for table, n in sorted(self.deleted.items()) if n) or "no rows"
        return (
            f"retention {self.years} years: {self.children} closed case(s) closed before "
            f"{self.cutoff.date().isoformat()}; {verb}: {rows}"
        )


def child_tables() -> list[tuple[Table, ColumnElement[bool]]]:
    """Every table holding rows about one child, dependents first, each with the condition that
    picks the child's rows (a bound parameter `child_id`)."""
    from sqlalchemy import bindparam

    child_id = bindparam("child_id")
    conditions: dict[str, ColumnElement[bool]] = {
        "children": Base.metadata.tables["children"].c.id == child_id
    }
    for table in Base.metadata.sorted_tables:  # parents before children
        found = []
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent is table or parent.name not in conditions:
                continue
            if parent.name == "children":
                found.append(fk.parent == child_id)
            else:
                found.append(fk.parent.in_(select(fk.column).where(conditions[parent.name])))
        if found and table.name != "children":
            conditions[table.name] = or_(*found)
    order = [t for t in reversed(Base.metadata.sorted_tables) if t.name in conditions]
    return [(t, conditions[t.name]) for t in order]


def purge_closed(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    years: int | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete every child closed more than `years` (default `retention_years()`) before `now`."""
    now = now or datetime.now(UTC)
    years = retention_years() if years is None else years
    if years < 1:
        raise RetentionError(f"retention: must be at least 1 year, not {years}")
    cutoff = now - relativedelta(years=years)
    report = PurgeReport(cutoff=cutoff, years=years, dry_run=dry_run)
    with factory() as session:
        ids = list(session.scalars(_expired(cutoff).order_by(Child.id)))
    tables = child_tables()
    for child_id in ids:
        with factory.begin() as session:
            connection = session.connection()
            locked = _expired(cutoff).where(Child.id == child_id)
            if connection.dialect.name == "postgresql":
                locked = locked.with_for_update()
            if connection.execute(locked).first() is None:
                continue  # reopened meanwhile
            counts: dict[str, int] = {}
            for table, condition in tables:
                params = {"child_id": child_id}
                if dry_run:
                    counts[table.name] = connection.execute(
                        select(func.count()).select_from(table).where(condition), params
                    ).scalar_one()
                else:
                    counts[table.name] = connection.execute(delete(table).where(condition), params).rowcount
            if not dry_run:
                write_audit(
                    session,
                    "retention.purged",
                    actor="retention",
                    at=now,
                    detail={
                        "retention_years": years,
                        "closed_before": cutoff.date().isoformat(),
                        "deleted": {t: n for t, n in counts.items() if n},
                    },
                )
        report.children += 1
        report.deleted.update(counts)
    (log.info if report.children else log.debug)("%s", report)
    return report


def _expired(cutoff: datetime):  # type: ignore[no-untyped-def]
    return select(Child.id).where(Child.closed_at.is_not(None), Child.closed_at < cutoff)
