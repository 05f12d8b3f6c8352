"""Seen's database: facts, the outbox and the audit log (SQLAlchemy 2.x, Alembic migrations).

- `db`: the database URL, engines, sessions and `upgrade()` (apply the migrations).
- `models`: the tables.
- `cases`: facts -> the engine's `Case` (`case_for_child`, `cases_for_children`).
- `facts`: writers of new facts (`record_contact`, `record_decision`, ...), each with its audit row.
- `importer`: a council's caseload export (CSV or JSON) into the database.
- `demo`: the bundled demo caseload.
"""
