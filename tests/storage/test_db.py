"""Where the database is and how SQLite connections are set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import DEFAULT_URL, database_url, make_engine, normalise_url


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
