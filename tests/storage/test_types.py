"""Instants are stored as UTC and read back aware, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from storage import models
from storage.types import NaiveDatetimeError

from .conftest import make_child

BST = timezone(timedelta(hours=1))


def test_aware_datetimes_come_back_aware_utc(session: Session) -> None:
    session.add(
        models.LeaderLease(name="sweep", holder="a", expires_at=datetime(2027, 6, 1, 10, 0, tzinfo=BST))
    )
    session.commit()
    session.expunge_all()
    lease = session.scalars(select(models.LeaderLease)).one()
    assert lease.expires_at.tzinfo is not None
    assert lease.expires_at.utcoffset() == timedelta(0)
    assert lease.expires_at == datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(models.LeaderLease(name="sweep", holder="a", expires_at=datetime(2027, 6, 1, 10, 0)))  # noqa: DTZ001
    with pytest.raises(StatementError) as info:
        session.flush()
    assert isinstance(info.value.orig, NaiveDatetimeError)


def test_comparisons_in_sql_use_utc(session: Session) -> None:
    """An instant given with an offset finds the same rows as its UTC equivalent."""
    child, _, _ = make_child(session)
    session.add(
        models.AgencySighting(
            child_id=child.id,
            at=datetime(2026, 12, 18, 9, 0, tzinfo=UTC),
            agency="school",
            created_at=datetime(2026, 12, 18, 9, 0, tzinfo=UTC),
        )
    )
    session.commit()
    later_in_bst = datetime(2026, 12, 18, 9, 30, tzinfo=BST)  # 08:30 UTC: before the sighting
    found = session.scalars(
        select(models.AgencySighting).where(models.AgencySighting.at > later_in_bst)
    ).all()
    assert len(found) == 1
