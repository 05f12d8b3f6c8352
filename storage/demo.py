"""The bundled demo caseload (scheduler/demo/caseload.csv): two teams, one per policy
(central-bedfordshire and hillingdon), seven staff and twelve children with a variety of visits:
up to date, due, overdue, a home visit where the child was not seen, a baby not seen awake, a
visit by an unqualified worker, a record not written, siblings seen at one visit.

The file is written as of `DEMO_AS_OF` (Tuesday 22 December 2026, plans starting in November and
December 2026). `load_demo` moves every date by whole weeks so that the demo's week is the week
of `as_of` (default today), so the demo always shows work that is due and overdue now.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.caseload import ImportSummary, PolicyCatalogue
from storage.importer import import_csv
from storage.models import Child

DEMO_AS_OF = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def demo_csv_text() -> str:
    """The demo caseload as written (dates as of DEMO_AS_OF)."""
    return files("scheduler").joinpath("demo/caseload.csv").read_text(encoding="utf-8")


def demo_shift(as_of: date) -> timedelta:
    """Whole weeks from the demo's week to the week of `as_of`."""

    def monday(d: date) -> date:
        return d - timedelta(days=d.weekday())

    return monday(as_of) - monday(DEMO_AS_OF.date())


def shifted_demo_csv(as_of: date | None = None) -> str:
    """The demo caseload with its dates moved to the week of `as_of` (default: as written)."""
    text = demo_csv_text()
    if as_of is None:
        return text
    shift = demo_shift(as_of)

    def move(m: re.Match[str]) -> str:
        return (date(int(m[1]), int(m[2]), int(m[3])) + shift).isoformat()

    return _DATE.sub(move, text)


def demo_case_refs() -> list[str]:
    rows = csv.DictReader(io.StringIO(demo_csv_text()))
    return sorted(row["case_ref"] for row in rows if row["record_type"] == "child")


def load_demo(
    session: Session, *, policies: PolicyCatalogue, as_of: date | None = None, now: datetime | None = None
) -> ImportSummary:
    """Import the demo caseload once, its week moved to the week of `as_of` (default: today in
    London). When its children are already in the database, nothing is written."""
    if session.scalar(select(Child.id).where(Child.case_ref.in_(demo_case_refs())).limit(1)):
        return ImportSummary()
    if as_of is None:
        as_of = datetime.now(ZoneInfo("Europe/London")).date()
    return import_csv(session, shifted_demo_csv(as_of), policies=policies, now=now)
