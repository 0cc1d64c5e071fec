"""The embedded access record store: one SQLite file in WAL mode with ``synchronous=FULL``.

A write is on disk when :meth:`SqliteAccessLog.write` returns. Times are stored as fixed-width UTC
ISO 8601 text (``2024-05-01T09:30:00.000000+00:00``), so text order is time order; the category
lists are stored as JSON arrays. One connection serves the process, used from worker threads
under a lock so the event loop never waits on the disk.

Files made by the first schema (without activity, profession, acting-for, override and export
columns) are migrated in place when opened: the missing columns are added, old times are rewritten
to the fixed-width form, and ``PRAGMA user_version`` records that the migration ran.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from auth.access_log_query import patient_page
from sources.audit import AccessCursor, AccessRecord

SCHEMA_VERSION = 1
"""``PRAGMA user_version`` of a file in the current schema (0: new, or made by the first schema)."""

COLUMNS = tuple(AccessRecord.__dataclass_fields__)
_LISTS = frozenset({"requested", "returned", "denied", "withheld"})
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM access_record"  # noqa: S608 - column names are constants

_CREATE = """
CREATE TABLE IF NOT EXISTS access_record (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    activity TEXT NOT NULL DEFAULT 'read',
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT,
    profession TEXT,
    organisation_sor TEXT,
    organisation_name TEXT,
    client_id TEXT,
    acting_for_id TEXT,
    acting_for_name TEXT,
    patient_cpr TEXT NOT NULL,
    requested_cpr TEXT,
    requested TEXT NOT NULL,
    returned TEXT NOT NULL,
    denied TEXT NOT NULL,
    withheld TEXT NOT NULL,
    override_ground TEXT,
    override_reason TEXT,
    operation_hash TEXT NOT NULL,
    operation_name TEXT,
    exported_at TEXT
)
"""

_ADDED_COLUMNS = {
    "activity": "TEXT NOT NULL DEFAULT 'read'",
    "profession": "TEXT",
    "organisation_name": "TEXT",
    "acting_for_id": "TEXT",
    "acting_for_name": "TEXT",
    "requested_cpr": "TEXT",
    "override_ground": "TEXT",
    "override_reason": "TEXT",
    "exported_at": "TEXT",
}
"""Columns the first schema lacked, with their definitions for ``ALTER TABLE … ADD COLUMN``."""

_INDEXES = (
    "DROP INDEX IF EXISTS access_record_patient_at",
    "CREATE INDEX IF NOT EXISTS access_record_patient ON access_record (patient_cpr, at, id)",
    "CREATE INDEX IF NOT EXISTS access_record_pending_export ON access_record (at, id) WHERE exported_at IS NULL",
    "CREATE INDEX IF NOT EXISTS access_record_at ON access_record (at)",
)


class SqliteAccessLog:
    """Access records in an embedded SQLite database (WAL, ``synchronous=FULL``)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        with self._transaction() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
                return
            db.execute(_CREATE)
            present = {row[1] for row in db.execute("PRAGMA table_info(access_record)")}
            for name, definition in _ADDED_COLUMNS.items():
                if name not in present:
                    db.execute(f"ALTER TABLE access_record ADD COLUMN {name} {definition}")
            for record_id, at in db.execute("SELECT id, at FROM access_record").fetchall():
                fixed = _time(_parse_time(at, naive_is_utc=True))
                if fixed != at:
                    db.execute("UPDATE access_record SET at = ? WHERE id = ?", (fixed, record_id))
            for statement in _INDEXES:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, query: str, parameters: Sequence[object]) -> list[AccessRecord]:
        with self._lock:
            rows = self._db.execute(query, parameters).fetchall()
        return [_from_row(row) for row in rows]

    async def write(self, records: Sequence[AccessRecord]) -> None:
        """Store ``records`` in one transaction, on disk when this returns; none of them if it raises."""
        if records:
            rows = [_to_row(record) for record in records]
            await asyncio.to_thread(self._write, rows)

    def _write(self, rows: Sequence[Sequence[object]]) -> None:
        placeholders = ", ".join("?" for _ in COLUMNS)
        insert = f"INSERT INTO access_record ({', '.join(COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
        with self._transaction() as db:
            db.executemany(insert, rows)

    async def for_patient(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> list[AccessRecord]:
        """Records about ``cpr``, newest first, with ``since <= at < until``, strictly older than ``before``."""

        if limit < 1:
            return []
        tail, parameters = patient_page(
            cpr, since=since, until=until, limit=limit, before=before, placeholder="?", time=_time
        )
        return await asyncio.to_thread(self._read, f"{_SELECT} {tail}", parameters)

    async def purge(self, older_than: datetime) -> int:
        """Delete every record with ``at < older_than``; return how many were deleted."""
        cut = _time(older_than)
        return await asyncio.to_thread(self._purge, cut)

    def _purge(self, cut: str) -> int:
        with self._transaction() as db:
            return db.execute("DELETE FROM access_record WHERE at < ?", (cut,)).rowcount

    async def pending_export(self, limit: int) -> list[AccessRecord]:
        """Up to ``limit`` records not yet exported to the national Min Log, oldest first."""
        if limit < 1:
            return []
        query = f"{_SELECT} WHERE exported_at IS NULL ORDER BY at, id LIMIT ?"
        return await asyncio.to_thread(self._read, query, [limit])

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Note the export of records ``ids`` at ``at`` (a record already marked keeps its first time)."""
        if ids:
            exported = _time(at)
            await asyncio.to_thread(self._mark_exported, [(exported, record_id) for record_id in ids])

    def _mark_exported(self, rows: Sequence[tuple[str, str]]) -> None:
        with self._transaction() as db:
            db.executemany("UPDATE access_record SET exported_at = ? WHERE id = ? AND exported_at IS NULL", rows)

    async def aclose(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()


def _time(value: datetime) -> str:
    """``value`` as fixed-width UTC ISO 8601 text; refuses naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("access log times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_time(text: str, *, naive_is_utc: bool = False) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None and naive_is_utc:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _to_row(record: AccessRecord) -> tuple[object, ...]:
    values: list[object] = []
    for name in COLUMNS:
        value = getattr(record, name)
        if name in _LISTS:
            value = json.dumps(list(value))
        elif name == "at":
            value = _time(value)
        values.append(value)
    return tuple(values)


def _from_row(row: Sequence[object]) -> AccessRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    for name in _LISTS:
        values[name] = tuple(json.loads(str(values[name])))
    values["at"] = _parse_time(str(values["at"]))
    return AccessRecord(**values)  # type: ignore[arg-type]
