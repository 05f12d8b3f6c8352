"""Shared set-ups: the demo caseload in a database, and what in it must never leak."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from scheduler.policy_catalogue import bundled_catalogue
from storage.demo import DEMO_AS_OF, demo_csv_text, load_demo

FREE_TEXT_COLUMNS = (
    "seen_alone_reason",
    "note_not_left_reason",
    "present",
    "observations",
    "presentation",
    "wishes_feelings",
    "contact_title",
    "note",
)


def load_demo_at(factory: sessionmaker[Session], now: datetime = DEMO_AS_OF) -> None:
    with factory.begin() as session:
        load_demo(session, as_of=now.date(), now=now, policies=bundled_catalogue())


def demo_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(demo_csv_text())))


def demo_staff() -> list[tuple[str, str]]:
    """(name, email) of every demo staff member."""
    return [(r["name"], r["email"]) for r in demo_rows() if r["record_type"] == "staff"]


def demo_children() -> list[tuple[str, str]]:
    """(case_ref, initials) of every demo child."""
    return [(r["case_ref"], r["initials"]) for r in demo_rows() if r["record_type"] == "child"]


def demo_free_text() -> list[str]:
    """Every free-text value of the demo caseload (visit records, reasons, decision notes)."""
    return sorted({r[c] for r in demo_rows() for c in FREE_TEXT_COLUMNS if r.get(c)})


@contextmanager
def root_logging_restored() -> Iterator[None]:
    """Around a `seen run` started in-process: the handlers it installs on the root logger, and the
    level it sets, are taken back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)
