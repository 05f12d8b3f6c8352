"""Where the database is and how SQLite connections are set up."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, make_url, select, text
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


def test_a_new_sqlite_database_is_owner_only_whatever_the_umask(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 9 item 3: `seen run` in an empty folder with umask 022 made var/ 755 and the database
    files 644, readable by any local user. The folder is 700, the database and its -wal and -shm
    files 600."""
    import os
    import stat

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEN_DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        engine = make_engine()
        upgrade(engine)
        with engine.begin() as conn:  # a write: the -wal and -shm files exist while connected
            conn.execute(insert(models.SchedulerState).values(name="x", value="y", updated_at=func.now()))
            files = [tmp_path / "var" / f"seen.sqlite{suffix}" for suffix in ("", "-wal", "-shm")]
            assert all(f.exists() for f in files)
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
        engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert modes == {"seen.sqlite": 0o600, "seen.sqlite-wal": 0o600, "seen.sqlite-shm": 0o600}


def test_a_database_file_others_can_read_is_warned_of_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 9 item 3: an existing database file readable by others is named, with its mode, at
    every start (it is left as it is: the administrator decides); an owner-only one is not."""
    path = tmp_path / "seen.sqlite"
    path.touch()
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="seen.db"):
        make_engine(f"sqlite:///{path}").dispose()
    assert [r.getMessage() for r in caplog.records] == [
        f"the database file {path} can be read by others (mode 644): chmod 600 it"
    ]
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level("WARNING", logger="seen.db"):
        make_engine(f"sqlite:///{path}").dispose()
    assert caplog.records == []


def test_var_is_owner_only_when_the_development_key_makes_it_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 9 item 3: without SEEN_DATA_KEY the development key file is written before the
    database, and its folder (var/, the database's too) was made 755 then."""
    import os
    import stat

    from storage import crypto

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("SEEN_DATA_KEY", raising=False)
    monkeypatch.delenv("SEEN_DATA_KEY_FILE", raising=False)
    crypto.reset()
    old = os.umask(0o022)
    try:
        make_engine().dispose()
    finally:
        os.umask(old)
        crypto.reset()
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "var" / "seen-data.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "var" / "seen.sqlite").stat().st_mode) == 0o600


@pytest.mark.postgres
def test_a_postgresql_session_is_in_utc_whatever_the_servers_zone(db_url: str) -> None:
    """Instants come back in `datetime.UTC` itself, as Seen keeps them, even where the server's
    TimeZone is local (Europe/London, as a council's server may be set)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            name = make_url(db_url).database
            conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Europe/London'"))
            conn.commit()
        engine.dispose()  # new connections take the database's setting, then Seen's
        with engine.connect() as conn:
            assert conn.execute(text("SHOW TIME ZONE")).scalar() == "UTC"
            at = conn.execute(text("SELECT TIMESTAMPTZ '2026-07-01 10:00:00+01'")).scalar()
        assert at.tzinfo is UTC and at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    finally:
        engine.dispose()
