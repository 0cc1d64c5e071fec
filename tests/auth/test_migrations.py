"""The access log's schema: declared once, brought there by alembic revisions, on SQLite and PostgreSQL.

- a database migrated to the newest revision is exactly what :mod:`auth.access_log_tables` declares
  (alembic's autogenerate comparison finds nothing), so a new column there without a new revision
  fails this test;
- a deployment of the previous version (unversioned: tables its stores made) and a database at each
  earlier revision upgrade in place, keeping every row;
- processes starting together migrate once; with migrations off, a database behind is refused until
  ``patientoverblik migrate`` ran.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from auth.access_log import AccessLog, AccessLogPolicy, ExportStatus, open_access_log
from auth.access_log_tables import METADATA
from auth.migrate import AccessLogNotMigrated, alembic_config, engine_for, head_revision, migrate
from auth.operator_events import OperatorCommand, OperatorEvent
from auth.security_events import SecurityEvent, SecurityEventKind
from gateway.cli import app
from sources.audit import ActorKind
from tests.auth.stored_rows import insert_raw, make_previous_version
from tests.records import access_record

HANS = "1403723705"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RECORDS = [
    access_record(id=f"rec-{n}", at=T0 + timedelta(minutes=n), request_id=f"req-{n}", denied=("person",) * (n % 2))
    for n in range(5)
]
EVENT = SecurityEvent(
    "sec-1", T0, "req-9", SecurityEventKind.OVERRIDE_NOT_ALLOWED, ActorKind.CITIZEN, "citizen", None, 1, "f" * 64
)
OPERATOR = OperatorEvent("op-1", T0, OperatorCommand.PURGE, "drift", "root", "gw-1", 3, "older than x")


def differences(url: str, metadata: sa.MetaData = METADATA) -> list[Any]:
    """What alembic's autogenerate finds between the database and ``metadata``.

    Left out: SQLite's quirk that a text ``PRIMARY KEY`` may hold NULL unless declared ``NOT NULL``
    (every file since the first version was made so; the stores never write a NULL id).
    """
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            found = compare_metadata(MigrationContext.configure(connection), metadata)
            sqlite = connection.dialect.name == "sqlite"
    finally:
        engine.dispose()

    def quirk(diff: Any) -> bool:
        if not (sqlite and isinstance(diff, list) and len(diff) == 1 and diff[0][0] == "modify_nullable"):
            return False
        _, _, table, column, *_ = diff[0]
        return bool(metadata.tables[table].c[column].primary_key)

    return [diff for diff in found if not quirk(diff)]


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def fill(url: str) -> None:
    """Rows in every table the previous version had, written as that version wrote them."""
    for record in RECORDS:
        insert_raw(url, record)

    if url.startswith("sqlite:///"):
        _fill_sqlite_events(url)
    else:
        _fill_postgres_events(url)


def _fill_sqlite_events(url: str) -> None:
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    db.execute(
        "INSERT INTO security_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("sec-1", T0.isoformat(timespec="microseconds"), "req-9", EVENT.kind.value, "citizen", "citizen", None, 1,
         "f" * 64),
    )  # fmt: skip
    db.execute(
        "INSERT INTO operator_event VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ("op-1", T0.isoformat(timespec="microseconds"), "purge-access-log", "drift", "root", "gw-1", 3,
         "older than x"),
    )  # fmt: skip
    db.execute("UPDATE access_record SET exported_at = ? WHERE id = 'rec-0'", (T0.isoformat(timespec="microseconds"),))
    db.commit()
    db.close()


def _fill_postgres_events(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(
            "INSERT INTO security_event VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            ("sec-1", T0, "req-9", EVENT.kind.value, "citizen", "citizen", None, 1, "f" * 64),
        )
        server.execute(
            "INSERT INTO operator_event VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            ("op-1", T0, "purge-access-log", "drift", "root", "gw-1", 3, "older than x"),
        )
        server.execute("UPDATE access_record SET exported_at = %s WHERE id = 'rec-0'", (T0,))


async def assert_every_row_kept(url: str) -> None:
    store = open_access_log(url)
    try:
        assert await store.for_patient(HANS, limit=100) == list(reversed(RECORDS))
        assert await store.export_status() == ExportStatus(pending=4, exported=1, set_aside=0)
        assert await store.security_events() == [EVENT]
        assert await store.operator_events() == [OPERATOR]
    finally:
        await store.aclose()


async def test_a_new_database_is_exactly_the_declared_schema(access_log_url: str) -> None:
    await probe(open_access_log(access_log_url))  # opening migrates

    assert differences(access_log_url) == []
    assert migrate(access_log_url) == (head_revision(), head_revision())


async def probe(store: AccessLog) -> None:
    """Use ``store`` once (PostgreSQL opens, and migrates, on first use), then close it."""
    try:
        await store.probe()
    finally:
        await store.aclose()


def test_a_new_column_declared_without_a_revision_is_found(access_log_url: str) -> None:
    migrate(access_log_url)
    extended = sa.MetaData()
    for table in METADATA.tables.values():
        table.to_metadata(extended)
    extended.tables["access_record"].append_column(sa.Column("purpose_of_use", sa.Text()))

    [(kind, _, table, column)] = differences(access_log_url, extended)

    assert (kind, table, column.name) == ("add_column", "access_record", "purpose_of_use")


async def test_a_deployment_of_the_previous_version_upgrades_keeping_every_row(access_log_url: str) -> None:
    make_previous_version(access_log_url)
    fill(access_log_url)

    assert migrate(access_log_url) == (None, head_revision())

    await assert_every_row_kept(access_log_url)
    assert differences(access_log_url) == []


@pytest.mark.parametrize("revision", revisions()[:-1])
async def test_a_database_at_an_earlier_revision_upgrades_keeping_every_row(access_log_url: str, revision: str) -> None:
    migrate(access_log_url, to=revision)
    fill(access_log_url)

    assert migrate(access_log_url) == (revision, head_revision())

    await assert_every_row_kept(access_log_url)
    assert differences(access_log_url) == []


def test_processes_starting_together_migrate_once(access_log_url: str) -> None:
    make_previous_version(access_log_url)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(migrate, [access_log_url] * 2))

    head = head_revision()
    assert sorted(results, key=str) == sorted([(None, head), (head, head)], key=str)


def test_with_migrations_off_a_database_behind_is_refused_until_the_operator_migrates(access_log_url: str) -> None:
    make_previous_version(access_log_url)
    policy = AccessLogPolicy(migrate=False)

    with pytest.raises(AccessLogNotMigrated, match="run `patientoverblik migrate`"):
        asyncio.run(probe(open_access_log(access_log_url, policy)))
    runner = CliRunner()
    behind = runner.invoke(app, ["migrate", "--check", "--database-url", access_log_url])
    migrated = runner.invoke(app, ["migrate", "--database-url", access_log_url])
    again = runner.invoke(app, ["migrate", "--database-url", access_log_url])
    current = runner.invoke(app, ["migrate", "--check", "--database-url", access_log_url])

    assert (behind.exit_code, behind.stdout) == (
        1,
        f"access log at revision none; this version needs {head_revision()}\n",
    )
    assert (migrated.exit_code, migrated.stdout) == (0, f"access log at revision {head_revision()} (was none)\n")
    assert again.stdout == f"access log at revision {head_revision()} (already current)\n"
    assert current.exit_code == 0
    asyncio.run(probe(open_access_log(access_log_url, policy)))
