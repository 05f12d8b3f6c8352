"""The Alembic migrations: they build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage import models
from storage.db import alembic_config, make_engine, upgrade

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_apply_on_an_empty_database(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(models.Base.metadata.tables) <= tables
        assert "alembic_version" in tables
        with engine.connect() as conn:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)


def test_models_and_migrations_agree(db_url: str) -> None:
    """Autogenerate finds nothing to do: every model change has its migration."""
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, models.Base.metadata) == []
    finally:
        engine.dispose()


def test_alembic_check_command(db_url: str) -> None:
    """What `alembic check` does, through the config `upgrade` builds in code."""
    upgrade(db_url)
    command.check(alembic_config(db_url))


def test_downgrade_to_base_and_back(db_url: str) -> None:
    config = alembic_config(db_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    command.upgrade(config, "head")


def test_developer_alembic_ini_from_another_directory(tmp_path: Path) -> None:
    """The top-level alembic.ini finds storage/migrations wherever alembic is run from."""
    url = f"sqlite:///{tmp_path / 'dev.sqlite'}"
    env = {**os.environ, "SEEN_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    engine = make_engine(url)
    try:
        assert "contacts" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
