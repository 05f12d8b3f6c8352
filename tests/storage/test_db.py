"""Where the database is and how SQLite connections are set up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from storage import models
from storage.db import DEFAULT_URL, database_url, make_engine, normalise_url, upgrade


def test_database_url_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEN_DATABASE_URL", raising=False)
    assert database_url() == DEFAULT_URL == "sqlite:///var/seen.sqlite"
    monkeypatch.setenv("SEEN_DATABASE_URL", "postgres://u:p@db.example:5432/seen")
    assert database_url() == "postgresql+psycopg://u:p@db.example:5432/seen"
    assert normalise_url("postgresql+psycopg://x/y") == "postgresql+psycopg://x/y"


def test_sqlite_default_file_folder_is_created_with_wal_and_foreign_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEN_DATABASE_URL", raising=False)
    engine = make_engine()
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert (tmp_path / "var" / "seen.sqlite").is_file()
    finally:
        engine.dispose()


def test_read_only_engine_reads_beside_a_writer_and_cannot_write(db_url: str) -> None:
    """A read-only engine (the sweep's worker processes) reads while another connection holds a
    write transaction, without waiting for it (on SQLite: DEFERRED, not IMMEDIATE), and refuses
    to write."""
    writer = make_engine(db_url)
    upgrade(writer)
    reader = make_engine(db_url, read_only=True, connect_args={"timeout": 0.5} if "sqlite" in db_url else {})
    try:
        with writer.begin() as w:
            w.execute(insert(models.Team).values(id=1, name="Team 1", policy_id="hillingdon"))
            started = time.perf_counter()
            with reader.begin() as r:
                assert r.execute(select(func.count()).select_from(models.Team)).scalar() == 0
            assert time.perf_counter() - started < 0.4  # did not wait for the busy timeout
        with reader.begin() as r:
            assert r.execute(select(models.Team.name)).scalar() == "Team 1"
        with pytest.raises(DBAPIError), reader.begin() as r:
            r.execute(insert(models.Team).values(id=2, name="Team 2", policy_id="hillingdon"))
        with writer.connect() as w:
            assert w.execute(select(func.count()).select_from(models.Team)).scalar() == 1
    finally:
        reader.dispose()
        writer.dispose()
