"""Column types: every instant is stored and read back as an aware UTC datetime; free text is
encrypted at rest (`EncryptedText`, see `storage.crypto`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from storage import crypto


class NaiveDatetimeError(ValueError):
    """A datetime without a UTC offset was about to be stored."""


class UTCDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that refuses naive datetimes and always reads back aware UTC.

    PostgreSQL keeps the offset (timestamptz); SQLite stores text without one, so values are
    converted to UTC on the way in and UTC is attached on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"refusing to store a naive datetime {value.isoformat()}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the stored text: one C-level parse and the UTC attached, rather than
        # the generic parse followed by process_result_value (the sweep reads millions of these).
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                parsed = parse(value)
                return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
            return self.process_result_value(value, dialect)

        return process


class EncryptedText(TypeDecorator[str]):
    """`Text` holding a Fernet token (`storage.crypto`): code reads and writes `str`, the database
    sees `$fernet$<key id>$<token>`. Plaintext stored before encryption is read as it is.

    The column type in the schema stays TEXT, so turning encryption on needs no migration. A
    value cannot be compared or searched in SQL (each encryption of the same text differs).
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"expected a str, not {type(value).__name__}")
        return crypto.encrypt_value(value, dialect.name)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return crypto.decrypt_value(value, dialect.name)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # The sweep reads two of these columns for every contact (usually NULL): the cheapest
        # possible path for NULL and for plaintext, a decryption only for an encrypted value.
        marker, decrypt, name = crypto.MARKER, crypto.decrypt_value, dialect.name

        def process(value: Any) -> str | None:
            if value is None or not value.startswith(marker):
                return value
            return decrypt(value, name)

        return process
