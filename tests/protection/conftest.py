"""Database fixtures shared with the storage tests (SQLite always, PostgreSQL when
SEEN_TEST_POSTGRES_URL is set), and a clean slate for the data-key settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage import crypto
from tests.storage.conftest import db_url, engine, factory, session  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_keys() -> Iterator[None]:
    crypto.reset()
    yield
    crypto.reset()
