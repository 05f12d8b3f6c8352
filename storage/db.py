"""Where the database is, how to connect to it, and bringing its schema up to date.

SQLite (a file, the default) for one process; PostgreSQL (`postgresql+psycopg://…`) at scale.
Callers own their transactions: `with session_factory(engine).begin() as session: ...`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import crypto
from storage.files import private_folder

log = logging.getLogger("seen.db")
DEFAULT_URL = "sqlite:///var/seen.sqlite"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
MIGRATION_LOCK_ID = 7_315_206_401  # pg_advisory_xact_lock key held while migrating


def database_url() -> str:
    """`SEEN_DATABASE_URL`, or the SQLite file `var/seen.sqlite` under the working directory."""
    return normalise_url(os.environ.get("SEEN_DATABASE_URL") or DEFAULT_URL)


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` URLs (as hosting platforms give them) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe_database(url: str | None = None) -> str:
    """`url` (default `database_url()`) fit to print: its password replaced by ***."""
    return make_url(normalise_url(url or database_url())).render_as_string(hide_password=True)


def unreachable(exc: Exception, url: str | None = None) -> str:
    """One line for a database that could not be connected to: `cannot reach the database <url,
    password hidden>: <the driver's first line, password hidden>`."""
    url = normalise_url(url or database_url())
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = lines[0][:300] if lines else type(exc).__name__
    try:
        password = make_url(url).password
    except Exception:  # not a URL SQLAlchemy reads: no password to hide
        password = None
    if password:
        reason = reason.replace(str(password), "***")
    return f"cannot reach the database {describe_database(url)}: {reason}"


def make_engine(url: str | None = None, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url` (default `database_url()`).

    SQLite: the file's folder is created; foreign keys on; WAL; a busy timeout; transactions
    begin explicitly so that savepoints work. PostgreSQL: connections are checked before use.
    `read_only`: transactions cannot write, and on SQLite they do not take the write lock, so
    readers run beside a writer instead of queueing behind it.
    Errors never carry the statement's parameters (personal data), and the data key must be
    there (`storage.crypto`: PostgreSQL without SEEN_DATA_KEY raises `DataKeyError`).
    """
    url = normalise_url(url or database_url())
    parsed = make_url(url)
    crypto.check_startup(parsed.get_backend_name())
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            owner_only_file(Path(database))
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _sqlite_setup(engine, read_only)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _postgresql_in_utc)
    return engine.execution_options(postgresql_readonly=True) if read_only else engine


def _postgresql_in_utc(dbapi_connection: Any, _record: Any) -> None:
    """Every PostgreSQL session in UTC, whatever the server's TimeZone: instants then come back
    in `datetime.UTC` itself, as Seen keeps them (a sweep reads millions: one conversion each
    less). A SET, not a startup option, which connection poolers may refuse."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def owner_only_file(path: Path) -> None:
    """The SQLite file's folder made owner-only (0700) when Seen creates it, and the file itself
    created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the database file's
    mode, so all three hold staff names, emails, case references and dates of birth for the owner
    only, whatever the umask. A database file that already exists and others can read is left as
    it is, with a warning at every start."""
    private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(name.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            log.warning("the database file %s can be read by others (mode %o): chmod 600 it", name, mode)


READ_ONLY_MMAP_BYTES = 2**30


def _sqlite_setup(engine: Engine, read_only: bool) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL; take it over
    # (the recipe of the SQLAlchemy documentation, "Serializable isolation / Savepoints").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
            # A read-only connection is a sweep's (it reads every child's facts): pages mapped
            # from the file instead of copied by a read call each, a tenth of the workers' time
            # in the system
            cursor.execute(f"PRAGMA mmap_size={READ_ONLY_MMAP_BYTES}")
        cursor.close()

    # IMMEDIATE: a transaction takes the write lock when it starts, so one that reads and then
    # writes (a delivery claim, a sweep batch) waits for another writer instead of failing with
    # "database is locked" when it tries to write. A read-only engine's transactions begin
    # DEFERRED: with WAL they read a snapshot beside the writer and never wait for it.
    begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Any:
    """An Alembic `Config` built in code: works from any directory and from an installed package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine_or_url: Engine | str | None = None, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` (default: the newest)."""
    from alembic import command

    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # replicas starting together: one migrates, the others wait and find nothing to do
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if not isinstance(engine_or_url, Engine):
            engine.dispose()
