"""Many rows INSERTed at once at the pace of the database driver.

`connection.execute(table.insert(), rows)` builds and converts each row's parameters one by one
in Python; for the 20,000 sweep states and thousands of outbox rows of a cold sweep of 20,000
children that cost twice what the driver then takes to write them. `insert_rows` compiles the
same statement once for the connection's dialect, converts each column's values with the column
type's own bind processor (what SQLAlchemy would apply; once per distinct instant, as a sweep's
rows share a few), and hands the driver's executemany the rows as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (each a dict of the same column keys) into `table`."""
    if not rows:
        return
    keys = list(rows[0])
    dialect = connection.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    if set(compiled.binds) != set(keys) or compiled.escaped_bind_names:
        connection.execute(table.insert(), list(rows))  # a default or an odd name: the general way
        return
    names = list(compiled.positiontup or ()) if dialect.positional else keys
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        type_ = table.c[name].type
        process = type_.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            if _is_instant(type_):
                converted = {v: process(v) for v in set(values)}
                values = [converted[v] for v in values]
            else:
                values = [process(v) for v in values]
        columns.append(values)
    params: list[Any] = list(zip(*columns, strict=True))
    if not dialect.positional:
        params = [dict(zip(names, p, strict=True)) for p in params]
    connection.exec_driver_sql(compiled.string, params)


def _is_instant(type_: Any) -> bool:
    """A date or time column, itself or under a TypeDecorator (such as `storage.types.UTCDateTime`)."""
    return isinstance(getattr(type_, "impl_instance", type_), Date | DateTime)
