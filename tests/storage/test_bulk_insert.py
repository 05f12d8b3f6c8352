"""The sweep's bulk INSERT (storage/bulk_insert.py) writes exactly what SQLAlchemy's own
executemany writes, on SQLite and PostgreSQL: the outbox rows of the sweep's stages (e.g. the
reminders of CB-VISIT-10WD) and the children's sweep states, instants converted to UTC however
they were given, and a naive instant refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.outbox import pending_row
from storage.bulk_insert import insert_rows
from storage.models import ChildSweepState, Outbox
from storage.types import NaiveDatetimeError
from tests.storage.conftest import make_child

NOW = datetime(2026, 12, 22, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def _outbox_rows(prefix: str, child_id: int, staff_id: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(5):
        at = NOW if i % 2 else NOW.astimezone(LONDON) + timedelta(minutes=i)  # the same instants, or not
        rows.append(
            pending_row(
                key=f"{prefix}:C-1042:CB-VISIT-10WD:lead_social_worker:2026-12-11:remind-{i}wd:s{staff_id}",
                stage=f"remind-{i}wd",
                recipient_staff_id=staff_id if i != 3 else None,
                recipient_channel="C0TEAM" if i == 3 else None,
                text=f"*Reminder* · C-1042 (AB) · [CB-VISIT-10WD] · “{i}”\nDue Tue 29 Dec 2026",
                payload={"rule": "CB-VISIT-10WD", "stage": f"remind-{i}wd", "actions": ["Log visit"], "n": i},
                now=at,
                late=i == 4,
                child_id=child_id,
                rule="CB-VISIT-10WD",
            )
        )
    return rows


def _read(factory: sessionmaker[Session], prefix: str) -> list[dict[str, Any]]:
    """Every column but the id, and the key without its prefix."""
    with factory() as s:
        rows = s.scalars(select(Outbox).where(Outbox.key.startswith(prefix)).order_by(Outbox.key))
        return [
            {c.key: getattr(r, c.key) for c in Outbox.__table__.columns if c.key != "id"}
            | {"key": r.key.removeprefix(prefix)}
            for r in rows
        ]


def test_outbox_rows_as_sqlalchemy_writes_them_cb_visit_10wd(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        child, lead, _ = make_child(s, policy="central-bedfordshire")
    with factory.begin() as s:
        s.connection().execute(Outbox.__table__.insert(), _outbox_rows("a", child.id, lead.id))
        insert_rows(s.connection(), Outbox.__table__, _outbox_rows("b", child.id, lead.id))
    general, bulk = _read(factory, "a:"), _read(factory, "b:")
    assert len(bulk) == 5 and bulk == general
    assert {r["send_after"].tzinfo for r in bulk} == {UTC}  # read back in UTC
    assert bulk[0]["send_after"] == NOW and bulk[2]["send_after"] == NOW + timedelta(minutes=2)
    assert [r["late"] for r in bulk] == [False, False, False, False, True]
    assert bulk[3]["recipient_channel"] == "C0TEAM" and bulk[2]["payload"]["n"] == 2


def test_sweep_states_and_a_naive_instant_refused_cb_visit_10wd(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        child, _, _ = make_child(s, policy="central-bedfordshire")
    state = {
        "child_id": child.id,
        "facts_version_seen": 3,
        "next_threshold_at": None,
        "last_swept_at": NOW.replace(tzinfo=None),
        "policy_digest": "abc",
    }
    with pytest.raises(NaiveDatetimeError), factory.begin() as s:
        insert_rows(s.connection(), ChildSweepState.__table__, [state])
    with factory() as s:
        assert s.scalars(select(ChildSweepState)).all() == []
    with factory.begin() as s:
        insert_rows(s.connection(), ChildSweepState.__table__, [{**state, "last_swept_at": NOW}])
        insert_rows(s.connection(), ChildSweepState.__table__, [])  # nothing to write
    with factory() as s:
        saved = s.scalars(select(ChildSweepState)).one()
        assert saved.facts_version_seen == 3 and saved.next_threshold_at is None
        assert saved.last_swept_at == NOW and saved.policy_digest == "abc"
