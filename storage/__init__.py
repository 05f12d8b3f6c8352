"""Seen's database: facts, the outbox and the audit log (SQLAlchemy 2.x, Alembic migrations).

- `db`: the database URL, engines, sessions and `upgrade()` (apply the migrations).
- `types`: `UTCDateTime`, the column type of every instant (aware UTC in and out).
- `models`: the tables; facts and the audit log are append-only.
- `cases`: facts -> the engine's `Case` (`case_for_child`, `cases_for_children`).
- `facts`: writers of new facts (`record_contact`, `record_decision`, ...), each bumping the
  child's `facts_version` and writing its audit row; `audit`: the audit-log writer.
- `notify`: word that facts about children were stored (after the commit in this process,
  NOTIFY on PostgreSQL, a poll of a SQLite file), for the scheduler to sweep them at once.
- `importer`: a council's caseload export (CSV or JSON) into the database; `caseload` holds the
  checks and writing shared by `caseload_csv` and `caseload_json`.
- `demo`: the bundled demo caseload.
"""
