"""Leader election through the database: only the holder of the lease runs the sweep.

A lease row per name (`sweep`) with its holder and expiry. Taking it is one conditional UPDATE
(or the first INSERT), atomic on SQLite and PostgreSQL alike; the holder renews it each tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import LeaderLease

LEASE = timedelta(seconds=90)


def take_lease(factory: sessionmaker[Session], name: str, holder: str, now: datetime) -> bool:
    """True when `holder` holds the lease `name` until now + LEASE (taken, or renewed)."""
    with factory.begin() as session:
        result = session.execute(
            update(LeaderLease)
            .where(
                LeaderLease.name == name,
                or_(LeaderLease.holder == holder, LeaderLease.expires_at < now),
            )
            .values(holder=holder, expires_at=now + LEASE)
        )
        if result.rowcount:
            return True
        lease = session.get(LeaderLease, name)
        if lease is not None:  # held by another, or just inserted by another job of this holder
            return lease.holder == holder
    try:
        with factory.begin() as session:
            session.add(LeaderLease(name=name, holder=holder, expires_at=now + LEASE))
        return True
    except IntegrityError:  # another replica inserted it first, or another job of this holder
        with factory() as session:
            lease = session.get(LeaderLease, name)
            return lease is not None and lease.holder == holder


def release_lease(factory: sessionmaker[Session], name: str, holder: str) -> None:
    with factory.begin() as session:
        session.execute(
            update(LeaderLease)
            .where(LeaderLease.name == name, LeaderLease.holder == holder)
            .values(expires_at=datetime.fromtimestamp(0).astimezone())
        )
