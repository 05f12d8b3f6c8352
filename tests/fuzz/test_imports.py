"""Fuzz: caseload imports (storage.importer), CSV and JSON, against a database holding a team, two
staff and a child. A bad file raises ImportFileError whose every problem is one line naming where
it is (`line 7: seen_alone_reason: …`, `cases[0].plan.started: …`) and writes nothing: the row
count of every table is the same after the refused import (in the same session, before any
rollback) as before. A file that is accepted leaves cases the engine can evaluate. Runs on SQLite,
and on PostgreSQL too when SEEN_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.policies import load_policy
from scheduler.policy_catalogue import bundled_catalogue
from scheduler.rules.engine import evaluate
from storage import models
from storage.cases import case_for_child
from storage.db import make_engine, session_factory, upgrade
from storage.importer import ImportFileError, import_csv, import_json
from tests.fuzz.strategies import EDGE_DATES, EDGE_INSTANTS, ODD_TEXT, WEIRD_STRINGS, long_text, mutated_json
from tests.fuzz.tally import TALLY, fuzz_settings, looks_like_traceback
from tests.storage.conftest import count_rows, postgres_database

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A session on a database with a team, its worker and manager, and a child on a plan."""
    if request.param == "sqlite":
        yield from _seeded(f"sqlite:///{tmp_path_factory.mktemp('fuzz-import') / 'seen.sqlite'}")
        return
    with postgres_database("seen_fuzz") as url:
        yield from _seeded(url)


def _seeded(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as s:
        team = models.Team(name="North CP", policy_id="central-bedfordshire", slack_channel_id="C0NORTH")
        sw = models.Staff(
            name="Sam Worker",
            email="sam@example.org",
            role="social_worker",
            qualified_registered=True,
            team=team,
        )
        tm = models.Staff(
            name="Tina Manager",
            email="tina@example.org",
            role="team_manager",
            qualified_registered=True,
            team=team,
        )
        child = models.Child(
            case_ref="C-1042", initials="AB", date_of_birth=date(2019, 3, 1), team=team, lead_social_worker=sw
        )
        s.add_all([team, sw, tm, child])
        s.flush()
        s.add(models.Plan(child_id=child.id, started=date(2026, 11, 2)))
    with factory() as session:
        yield session
    engine.dispose()


def _evaluable(session: Session) -> None:
    """Every child's case (as the sweep loads it) evaluates under its team's policy."""
    for child in session.scalars(select(models.Child)):
        team = session.get(models.Team, child.team_id)
        assert team is not None
        evaluate(load_policy(team.policy_id), case_for_child(session, child), NOW)


def _try_import(session: Session, run: Any, test: str, where: re.Pattern[str]) -> None:
    before = count_rows(session)
    traceback = partial = False
    accepted = True
    try:
        try:
            run()
        except ImportFileError as exc:
            accepted = False
            partial = count_rows(session) != before
            assert exc.errors, "an ImportFileError without problems"
            for problem in exc.errors:
                assert "\n" not in problem and where.match(problem), problem
                assert not looks_like_traceback(problem), problem
        except Exception:
            traceback = True
            raise
        if accepted:
            try:
                _evaluable(session)
            except Exception:
                traceback = True
                raise
    finally:
        TALLY.record(test, traceback=traceback, partial_write=partial, accepted=accepted)
        session.rollback()
    assert not partial, "a refused import wrote rows"


# -- CSV ----------------------------------------------------------------------------------------
CSV_ROWS: list[dict[str, str]] = [
    {"record_type": "team", "team": "East CP", "policy": "hillingdon", "slack_channel": "C0EAST"},
    {
        "record_type": "staff",
        "name": "Erin East",
        "role": "social_worker",
        "email": "erin@example.org",
        "team": "East CP",
    },
    {
        "record_type": "child",
        "case_ref": "C-5001",
        "initials": "EE",
        "date_of_birth": "2020-05-05",
        "team": "East CP",
        "lead_social_worker": "erin@example.org",
        "plan_started": "2026-11-02",
        "review_conferences": "2027-01-20",
    },
    {
        "record_type": "visit",
        "case_ref": "C-5001",
        "at": "2026-11-05 10:30",
        "kind": "home_visit",
        "by_staff": "erin@example.org",
        "child_seen": "yes",
        "seen_alone": "no",
        "seen_alone_reason": "asleep",
        "bedroom_seen": "yes",
        "observations": "Calm",
    },
    {
        "record_type": "visit",
        "case_ref": "C-1042",
        "at": "2026-11-20T10:00:00+00:00",
        "kind": "home_visit",
        "by": "lead_social_worker",
        "child_seen": "no",
    },
    {"record_type": "sighting", "case_ref": "C-1042", "at": "21/11/2026 09:00", "agency": "school"},
    {
        "record_type": "decision",
        "case_ref": "C-1042",
        "at": "2026-11-21T12:00:00+00:00",
        "rule": "CB-NOTSEEN-DISCUSS",
        "by": "team_manager",
        "outcome": "further_visit",
        "within_working_days": "3",
        "note": "Revisit with the duty worker",
    },
]
CSV_HEADER = list(dict.fromkeys(k for row in CSV_ROWS for k in row))
CSV_TABLE = [CSV_HEADER] + [[row.get(c, "") for c in CSV_HEADER] for row in CSV_ROWS]
CELLS = st.one_of(
    ODD_TEXT,
    st.sampled_from(
        [
            "yes",
            "no",
            "maybe",
            "team",
            "staff",
            "child",
            "visit",
            "sighting",
            "decision",
            "C-1042",
            "C-5001",
            "C-9999",
            "East CP",
            "North CP",
            "Sam Worker",
            "sam@example.org",
            "erin@example.org",
            "admin",
            "cp_chair",
            "further_visit",
            "emergency_action",
            "0",
            "25",
            "99999999999999999999999",
            *EDGE_DATES,
            *EDGE_INSTANTS,
        ]
    ),
)
GARBAGE_LINES = ['"unterminated', 'a,"b"c,d', "\x00,\x00", ",,,,", "record_type", "\ufeffteam,x", '"a""b",c']


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    shape = draw(st.integers(0, 14))
    if shape == 0:
        return draw(st.text(max_size=200) | long_text(100, 5000)) + "\n"
    table = copy.deepcopy(CSV_TABLE)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "drop", "add", "row-", "row+", "header", "swap"]))
        r = draw(st.integers(0, len(table) - 1)) if table else 0
        if not table:
            break
        row = table[r]
        if op == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(CELLS)
        elif op == "drop" and row:
            del row[draw(st.integers(0, len(row) - 1))]
        elif op == "add":
            row.append(draw(CELLS))
        elif op == "row-":
            del table[r]
        elif op == "row+":
            table.insert(r, list(row))
        elif op == "header" and table[0]:
            table[0][draw(st.integers(0, len(table[0]) - 1))] = draw(
                st.sampled_from([*CSV_HEADER, "", "unknown", "RECORD_TYPE", " case_ref "]) | ODD_TEXT
            )
        elif op == "swap" and len(row) > 1:
            i, j = draw(st.integers(0, len(row) - 1)), draw(st.integers(0, len(row) - 1))
            row[i], row[j] = row[j], row[i]
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(table)
    text = out.getvalue()
    if draw(st.integers(0, 5)) == 0:
        lines = text.splitlines(keepends=True)
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(GARBAGE_LINES)) + "\n")
        text = "".join(lines)
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text if "\n" in text else text + "\n"  # a str without a line break is a path


CSV_WHERE = re.compile(r"^line \d+(: |$)")


def _csv_with(row_type: str, column: str, value: str) -> str:
    """The base CSV with one cell of the first row of `row_type` changed."""
    table = copy.deepcopy(CSV_TABLE)
    row = next(r for r in table[1:] if r[0] == row_type)
    row[CSV_HEADER.index(column)] = value
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue()


def test_the_base_csv_imports(db: Session) -> None:
    out = io.StringIO()
    csv.writer(out).writerows(CSV_TABLE)
    summary = import_csv(db, out.getvalue(), now=NOW, policies=bundled_catalogue())
    assert summary.created["visits"] == 2 and summary.created["decisions"] == 1
    _evaluable(db)
    db.rollback()


@given(text=csv_text())
@fuzz_settings(700)
@example(text="record_type,case_ref,at,kind,child_seen,by\nvisit,C-1042,0001-01-01 10:00,office,no,by\n")
@example(text='record_type,"case\nref"\nvisit,C-1042\n')
@example(text=_csv_with("child", "plan_started", "0001-01-01"))
@example(text=_csv_with("child", "plan_started", "31/12/9999"))
@example(text=_csv_with("visit", "at", "9999-12-31T23:59:59-12:00"))
@example(text=_csv_with("decision", "within_working_days", "99999999999999999999999"))
@example(text=_csv_with("team", "team", "x" * 300))
@example(text=_csv_with("sighting", "agency", "a\x00b"))
def test_csv_import_refuses_bad_rows_by_line_and_writes_nothing(db: Session, text: str) -> None:
    _try_import(
        db, lambda: import_csv(db, text, now=NOW, policies=bundled_catalogue()), "import/csv", CSV_WHERE
    )


# -- JSON ---------------------------------------------------------------------------------------
JSON_DOC: dict[str, Any] = {
    "teams": [{"name": "East CP", "policy": "hillingdon", "slack_channel": "C0EAST"}],
    "staff": [
        {
            "name": "Erin East",
            "role": "social_worker",
            "email": "erin@example.org",
            "chat_user_id": "U0EAST",
            "qualified_registered": True,
            "team": "East CP",
            "active": True,
        }
    ],
    "cases": [
        {
            "policy": "hillingdon",
            "as_of": "2026-11-23T09:00:00+00:00",
            "team": "East CP",
            "initials": "EE",
            "lead_social_worker": "erin@example.org",
            "child": {"ref": "C-5001", "date_of_birth": "2020-05-05"},
            "plan": {"started": "2026-11-02", "review_conferences": ["2027-01-20"]},
            "contacts": [
                {
                    "at": "2026-11-05T10:30:00+00:00",
                    "kind": "home_visit",
                    "by": "lead_social_worker",
                    "child_seen": True,
                    "seen_alone": "yes",
                    "bedroom_seen": True,
                }
            ],
            "agency_sightings": [{"at": "2026-11-18T09:00:00+00:00", "agency": "school"}],
            "decisions": [
                {
                    "at": "2026-11-21T12:00:00+00:00",
                    "rule": "HI-NOTSEEN-REVISIT",
                    "by": "team_manager",
                    "outcome": "reviewed",
                }
            ],
        }
    ],
}
JSON_EXTRA = [
    "East CP",
    "North CP",
    "hillingdon",
    "central-bedfordshire",
    "erin@example.org",
    "Sam Worker",
    "C-1042",
    "C-5001",
    "admin",
    "social_worker",
    *EDGE_DATES,
    *EDGE_INSTANTS,
    *WEIRD_STRINGS,
]


@st.composite
def json_source(draw: st.DrawFn) -> Any:
    shape = draw(st.integers(0, 11))
    if shape == 0:
        raw = draw(st.sampled_from(["{", "[" * 5000, "1" * 5000, '{"teams": NaN}', "null", "", "\ufeff{}"]))
        return raw + "\n"  # a str without a line break (or a leading { or [) is a path
    doc = draw(mutated_json(JSON_DOC, max_mutations=3, extra=JSON_EXTRA))
    if shape == 1:
        doc = doc.get("cases", doc) if isinstance(doc, dict) else doc  # a bare list of case files
    # the document itself, or its text
    return doc if draw(st.booleans()) else json.dumps(doc) + "\n"


JSON_WHERE = re.compile(r'^(teams|staff|cases|caseload(\.json)?)\b|^("[^"\n]*"|\w+): unknown field')


def test_the_base_json_imports(db: Session) -> None:
    summary = import_json(db, copy.deepcopy(JSON_DOC), now=NOW, policies=bundled_catalogue())
    assert summary.created["children"] == 1 and summary.created["visits"] == 1
    _evaluable(db)
    db.rollback()


@given(source=json_source())
@fuzz_settings(600)
def test_json_import_refuses_bad_entries_by_place_and_writes_nothing(db: Session, source: Any) -> None:
    _try_import(
        db, lambda: import_json(db, source, now=NOW, policies=bundled_catalogue()), "import/json", JSON_WHERE
    )
