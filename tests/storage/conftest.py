"""Database fixtures: every test using `db_url` runs on SQLite (a temporary file) and, when
SEEN_TEST_POSTGRES_URL is set, on PostgreSQL in a database of its own, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import models
from storage.db import make_engine, normalise_url, session_factory, upgrade

PG_ENV = "SEEN_TEST_POSTGRES_URL"


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new PostgreSQL database (`prefix` and a random suffix) on the server of
    SEEN_TEST_POSTGRES_URL, dropped afterwards; skips the test when that variable is not set."""
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(f"{PG_ENV} is not set")
    admin_url = normalise_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'seen.sqlite'}"
        return
    with postgres_database("seen_test") as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


def count_rows(session: Session) -> dict[str, int]:
    """Rows in every table."""
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in models.Base.metadata.sorted_tables
    }


def make_child(
    session: Session,
    *,
    policy: str = "hillingdon",
    case_ref: str = "C-1042",
    started: date = date(2026, 12, 17),
) -> tuple[models.Child, models.Staff, models.Staff]:
    """A team, its lead social worker and team manager, and a child on a plan (committed)."""
    team = models.Team(name=f"Team {case_ref}", policy_id=policy)
    lead = models.Staff(name=f"Lead {case_ref}", role="social_worker", qualified_registered=True, team=team)
    manager = models.Staff(
        name=f"Manager {case_ref}", role="team_manager", qualified_registered=True, team=team
    )
    child = models.Child(
        case_ref=case_ref, initials="AB", date_of_birth=date(2025, 9, 1), team=team, lead_social_worker=lead
    )
    session.add_all([team, lead, manager, child])
    session.flush()
    session.add(models.Plan(child_id=child.id, started=started))
    session.commit()
    return child, lead, manager


NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
