"""Versioned migrations of the access-log database (alembic; ADR 0026).

The schema is declared once (:mod:`auth.access_log_tables`); the revisions in ``auth/migrations``
bring a database to it. :func:`migrate` runs every revision the database lacks, in one transaction
under a lock, so gateway processes starting together take turns and the second finds nothing left
to do: on PostgreSQL an advisory lock (the key the unversioned gateways took, so an old and a new
process never migrate at once either), on SQLite the file's write lock (``BEGIN IMMEDIATE``). A
failed revision leaves the database as it was (PostgreSQL's DDL is transactional; SQLite's steps
run in the same transaction).

The stores call :func:`migrate` when they open, unless told not to (``PATIENTOVERBLIK_ACCESS_LOG__
MIGRATE=false``); then :func:`check_current` refuses a database that is behind with
:class:`AccessLogNotMigrated`, and the operator runs ``patientoverblik migrate`` before the new
version starts.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from auth.access_log_deadline import Watchdog

MIGRATIONS = Path(__file__).with_name("migrations")
"""Alembic's script directory."""
LOCK = "patientoverblik.access_record"
"""The PostgreSQL advisory lock key (``hashtext``) held while migrating."""
SQLITE_WAIT_S = 30.0
"""How long opening a SQLite file waits for another process that is migrating it."""


class AccessLogNotMigrated(Exception):
    """The database is behind this version's schema and may not be migrated here: ``patientoverblik migrate``."""

    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            f"the access log's schema is at revision {current or 'none'}, this version needs {head}: "
            "run `patientoverblik migrate` first"
        )
        self.current = current
        self.head = head


def alembic_config() -> Config:
    """Alembic's configuration, without an ``alembic.ini``: the script directory is all it needs."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    """The newest revision: the schema :mod:`auth.access_log_tables` declares."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def engine_for(url: str, *, connect_timeout_s: int = 10, watchdog: Watchdog | None = None) -> sa.Engine:
    """An SQLAlchemy engine on the access log's database (``sqlite:///…`` or ``postgresql://…``), no pool.

    The PostgreSQL URL goes to psycopg verbatim (libpq options such as ``search_path`` included); each
    connection is watched by ``watchdog`` when one is given. On SQLite each transaction begins with
    ``BEGIN IMMEDIATE``: the file's write lock, waited for up to :data:`SQLITE_WAIT_S`.
    """
    if url.startswith("sqlite:///"):
        engine = sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_WAIT_S})

        @sa.event.listens_for(engine, "connect")
        def _autocommit(dbapi_connection: sqlite3.Connection, record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not the driver's

        @sa.event.listens_for(engine, "begin")
        def _write_lock(connection: sa.Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def connect() -> psycopg.Connection[Any]:
        connection = psycopg.connect(url, connect_timeout=connect_timeout_s)
        return watchdog.watch(connection) if watchdog is not None else connection

    engine = sa.create_engine("postgresql+psycopg://", creator=connect, poolclass=NullPool)
    if watchdog is not None:

        @sa.event.listens_for(engine, "close")
        def _release(dbapi_connection: psycopg.Connection[Any], record: Any) -> None:
            watchdog.release(dbapi_connection)  # before it closes: its descriptor is never cut after

    return engine


def _watched(timeout_s: float | None) -> tuple[Watchdog | None, AbstractContextManager[object]]:
    """A watchdog cutting the connections of work that runs past ``timeout_s`` (``None``: no limit), and
    the context to run the work in, connecting included."""
    watchdog = Watchdog(timeout_s) if timeout_s is not None else None
    return watchdog, watchdog if watchdog is not None else nullcontext()


def migrate(
    url: str, *, to: str = "heads", connect_timeout_s: int = 10, timeout_s: float | None = None
) -> tuple[str | None, str | None]:
    """Run the revisions the database at ``url`` lacks, up to ``to``; its revision before and after.

    With ``timeout_s``, PostgreSQL work still running that long after it began is cut
    (:class:`~auth.access_log_deadline.AccessLogTimeout`; the transaction is not committed).
    """
    watchdog, watched = _watched(timeout_s)
    engine = engine_for(url, connect_timeout_s=connect_timeout_s, watchdog=watchdog)
    try:
        with watched, engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": LOCK})
            before = _revision(connection)
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, to)
            return before, _revision(connection)
    finally:
        engine.dispose()


def current_revision(url: str, *, connect_timeout_s: int = 10, timeout_s: float | None = None) -> str | None:
    """The database's revision (``None``: never migrated, or made by an unversioned gateway); cut after
    ``timeout_s`` as :func:`migrate` is."""
    watchdog, watched = _watched(timeout_s)
    engine = engine_for(url, connect_timeout_s=connect_timeout_s, watchdog=watchdog)
    try:
        with watched, engine.connect() as connection:
            return _revision(connection)
    finally:
        engine.dispose()


def check_current(url: str, *, connect_timeout_s: int = 10) -> None:
    """Raise :class:`AccessLogNotMigrated` unless the database is at :func:`head_revision`."""
    current = current_revision(url, connect_timeout_s=connect_timeout_s)
    if current != head_revision():
        raise AccessLogNotMigrated(current, head_revision())


def migrate_or_check(
    url: str,
    *,
    migrate_on_open: bool,
    connect_timeout_s: int = 10,
    check_timeout_s: float | None = None,
    migrate_timeout_s: float | None = None,
) -> None:
    """What a store does when it opens: nothing for a current database (read within ``check_timeout_s``);
    else migrate (within ``migrate_timeout_s``), or refuse with :class:`AccessLogNotMigrated`."""
    current = current_revision(url, connect_timeout_s=connect_timeout_s, timeout_s=check_timeout_s)
    if current == head_revision():
        return
    if not migrate_on_open:
        raise AccessLogNotMigrated(current, head_revision())
    migrate(url, connect_timeout_s=connect_timeout_s, timeout_s=migrate_timeout_s)


def sqlite_is_current(path: Path) -> bool:
    """Whether the SQLite file is at :func:`head_revision` already: read without SQLAlchemy, for a fast open."""
    if not path.exists():
        return False
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return row is not None and row[0] == head_revision()


def _revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
