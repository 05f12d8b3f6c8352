"""`seen keys rotate`: every encrypted value re-encrypted under the newest data key.

Run it after putting a new key first in SEEN_DATA_KEY (the old ones after it); afterwards the old
keys can be removed. Values still in plaintext (written before encryption was turned on, or with
SEEN_ALLOW_PLAINTEXT=1) are encrypted too.

Each column is walked in batches by id, one transaction per batch, so a large database is not held
in one transaction and an interrupted rotation resumes where it stopped. Only values not already
under the newest key are touched (found with plain SQL on the key id in the stored value), so
running it again changes nothing. The text never changes, only its encryption: this is the one
place besides the retention purge that writes to fact rows after they were inserted, and it does
so with Core statements (the ORM refuses to update facts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Text, bindparam, func, select, type_coerce, update
from sqlalchemy.orm import Session, sessionmaker

from storage import crypto
from storage.audit import write_audit
from storage.models import Base, encrypted_columns

log = logging.getLogger("seen.keys")


@dataclass
class RotationReport:
    key: str  # the newest key's id
    reencrypted: dict[str, int] = field(default_factory=dict)  # "table.column" -> values
    encrypted_plaintext: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.reencrypted.values()) + sum(self.encrypted_plaintext.values())

    def __str__(self) -> str:
        old = sum(self.reencrypted.values())
        plain = sum(self.encrypted_plaintext.values())
        return f"{old} value(s) re-encrypted and {plain} plaintext value(s) encrypted under key {self.key}"


def rotate_keys(
    factory: sessionmaker[Session], *, batch: int = 500, now: datetime | None = None
) -> RotationReport:
    """Re-encrypt every value not under the newest key; an audit row (counts only) at the end."""
    with factory() as session:
        dialect = session.get_bind().dialect.name
    ring = crypto.keyring(dialect)
    if ring is None:
        raise crypto.DataKeyError(f"{crypto.KEY_ENV} is not set: there is no key to encrypt under")
    report = RotationReport(key=ring.ids[0])
    for table_name, column_name in encrypted_columns():
        old, plain = _rotate_column(factory, ring, table_name, column_name, batch)
        name = f"{table_name}.{column_name}"
        report.reencrypted[name] = old
        report.encrypted_plaintext[name] = plain
    with factory.begin() as session:
        write_audit(
            session,
            "keys.rotated",
            actor="keys",
            at=now,
            detail={
                "key": report.key,
                "keys": list(ring.ids),
                "reencrypted": report.reencrypted,
                "encrypted_plaintext": report.encrypted_plaintext,
            },
        )
    log.info("key rotation: %s", report)
    return report


def _rotate_column(
    factory: sessionmaker[Session], ring: crypto.Keyring, table_name: str, column_name: str, batch: int
) -> tuple[int, int]:
    table = Base.metadata.tables[table_name]
    raw = type_coerce(table.c[column_name], Text())  # the stored value, not decrypted
    prefix = ring.prefix
    change = (
        update(table)
        .where(table.c.id == bindparam("row_id"), raw == bindparam("was", type_=Text()))
        .values({column_name: bindparam("now_value", type_=Text())})
    )
    old = plain = 0
    last_id = 0
    while True:
        with factory.begin() as session:
            connection = session.connection()
            rows = connection.execute(
                select(table.c.id, raw)
                .where(
                    table.c.id > last_id,
                    raw.is_not(None),
                    func.substr(raw, 1, len(prefix)) != prefix,
                )
                .order_by(table.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return old, plain
            params = []
            for row_id, stored in rows:
                if stored.startswith(crypto.MARKER):
                    old += 1
                else:
                    plain += 1
                params.append(
                    {"row_id": row_id, "was": stored, "now_value": ring.encrypt(ring.decrypt(stored))}
                )
            connection.execute(change, params)
            last_id = rows[-1][0]


def stale_values(factory: sessionmaker[Session]) -> int:
    """Values not under the newest key (0 after a rotation)."""
    with factory() as session:
        ring = crypto.keyring(session.get_bind().dialect.name)
        total = 0
        for table_name, column_name in encrypted_columns():
            table = Base.metadata.tables[table_name]
            raw = type_coerce(table.c[column_name], Text())
            query = select(func.count()).select_from(table).where(raw.is_not(None))
            if ring is not None:
                query = query.where(func.substr(raw, 1, len(ring.prefix)) != ring.prefix)
            total += session.scalar(query) or 0
        return total
