"""Database fixtures shared with the storage tests: SQLite always, PostgreSQL when
SEEN_TEST_POSTGRES_URL is set."""

from tests.storage.conftest import db_url, engine, factory  # noqa: F401
