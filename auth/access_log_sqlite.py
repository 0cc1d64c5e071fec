"""The embedded access record store: one SQLite file in WAL mode with ``synchronous=FULL``.

A write is on disk when :meth:`SqliteAccessLog.write` returns. Times are stored as fixed-width UTC
ISO 8601 text (``2024-05-01T09:30:00.000000+00:00``), so text order is time order; the category
lists are stored as JSON arrays. One connection serves the process, used from worker threads
under a lock so the event loop never waits on the disk. One operation waits for the database at
most the policy's acquire timeout in all, from when it is asked for: for a worker thread, for its
turn at the connection, and for the file's write lock another process holds (SQLite's busy
timeout, set to what is left), so a held lock fails requests fast instead of stalling them
(:class:`~auth.access_log_policy.AccessLogPolicy`, ADR 0024).

Files of older schemas are migrated in place when opened (``PRAGMA user_version``):

- 0, the first schema (no activity, profession, acting-for, override or export columns): the
  missing columns are added and old times rewritten to the fixed-width form;
- 1: the ``outcome`` column (filled from the old rows' lists: returned → accessed, else denied →
  refused, else nothing), the dead-letter columns ``set_aside_at`` and ``set_aside_reason``, the
  export-queue index that leaves dead letters out, and the ``security_event`` table;
- 2: the ``is_open`` column (the record of a change, written before the change; ADR 0007) and its
  index.

A stored time the migration cannot read is left as it is: the citizen's log leaves that row out,
export sets it aside, and the operator lists it.

Rows already in a file that the vocabulary no longer has (``anonymous`` actor kinds) stay where they
are: the citizen's log does not show them and export sets them aside with their reason.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from auth.access_log_policy import AccessLogPolicy
from auth.access_log_query import (
    EXPORT_STATUS,
    RETRY_ALL,
    SELECT_RECORDS,
    PatientRange,
    dead_letters_query,
    finalise_statement,
    finalising,
    insert_statement,
    pending_query,
    reason_text,
    retry_statement,
    set_aside_statement,
)
from auth.access_log_rows import (
    COLUMNS,
    LISTS,
    NO_TIME,
    DeadLetter,
    ExportStatus,
    PendingRecord,
    RecordsOfPages,
    dead_letter_of,
    lenient_time,
    page_of,
    pending,
    to_values,
)
from auth.operator_events import SQLITE_TABLE as SQLITE_OPERATOR_TABLE
from auth.operator_events import (
    OperatorEvent,
    operator_event_from_row,
    operator_event_values,
    operator_insert_statement,
    operator_select_statement,
)
from auth.security_events import (
    SECURITY_EVENT_COLUMNS,
    ListedSecurityEvent,
    SecurityEvent,
    security_event_from_row,
    security_event_values,
)
from sources.audit import AccessCursor, AccessLogPage, AccessRecord

T = TypeVar("T")
MIGRATION_WAIT_S = 30.0
"""How long opening the file waits for another process that is creating or migrating it."""
SCHEMA_VERSION = 3
"""``PRAGMA user_version`` of a file in the current schema (0: new, or made by the first schema)."""

_CREATE = """
CREATE TABLE IF NOT EXISTS access_record (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    activity TEXT NOT NULL DEFAULT 'read',
    outcome TEXT NOT NULL DEFAULT '',
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
    exported_at TEXT,
    set_aside_at TEXT,
    set_aside_reason TEXT,
    is_open INTEGER NOT NULL DEFAULT 0
)
"""

_CREATE_SECURITY_EVENTS = """
CREATE TABLE IF NOT EXISTS security_event (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_id TEXT,
    patients INTEGER NOT NULL,
    operation_hash TEXT NOT NULL
)
"""

_ADDED_COLUMNS = {
    "activity": "TEXT NOT NULL DEFAULT 'read'",
    "outcome": "TEXT NOT NULL DEFAULT ''",
    "profession": "TEXT",
    "organisation_name": "TEXT",
    "acting_for_id": "TEXT",
    "acting_for_name": "TEXT",
    "requested_cpr": "TEXT",
    "override_ground": "TEXT",
    "override_reason": "TEXT",
    "exported_at": "TEXT",
    "set_aside_at": "TEXT",
    "set_aside_reason": "TEXT",
    "is_open": "INTEGER NOT NULL DEFAULT 0",
}
"""Columns older schemas lack, with their definitions for ``ALTER TABLE … ADD COLUMN``."""

_FILL_OUTCOME = """
UPDATE access_record SET outcome = CASE
    WHEN returned <> '[]' THEN 'accessed' WHEN denied <> '[]' THEN 'refused' ELSE 'nothing' END
WHERE outcome = ''
"""

_INDEXES = (
    "DROP INDEX IF EXISTS access_record_patient_at",
    "DROP INDEX IF EXISTS access_record_pending_export",
    "CREATE INDEX IF NOT EXISTS access_record_patient ON access_record (patient_cpr, at, id)",
    "CREATE INDEX IF NOT EXISTS access_record_export_queue ON access_record (at, id) "
    "WHERE exported_at IS NULL AND set_aside_at IS NULL",
    "CREATE INDEX IF NOT EXISTS access_record_set_aside ON access_record (at, id) WHERE set_aside_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS access_record_at ON access_record (at)",
    "CREATE INDEX IF NOT EXISTS access_record_open ON access_record (patient_cpr, at, id) WHERE is_open",
    "CREATE INDEX IF NOT EXISTS security_event_at ON security_event (at)",
)


_VALUES = ["?" for _ in COLUMNS]
_FINALISE = finalise_statement(_VALUES)


class SqliteAccessLog(RecordsOfPages):
    """Access records in an embedded SQLite database (WAL, ``synchronous=FULL``)."""

    def __init__(self, path: Path, *, policy: AccessLogPolicy | None = None) -> None:
        """Open (create, migrate) the file; an operation waits up to the policy's acquire timeout for the database."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._wait_s = (policy or AccessLogPolicy()).acquire_timeout_s
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.create_function(TIME_READABLE, 1, _time_readable, deterministic=True)
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        # Processes starting together take turns migrating: this one waits longer than a request would.
        with self._transaction(time.monotonic() + MIGRATION_WAIT_S) as db:
            if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
                return
            db.execute(_CREATE)
            db.execute(_CREATE_SECURITY_EVENTS)
            present = {row[1] for row in db.execute("PRAGMA table_info(access_record)")}
            for name, definition in _ADDED_COLUMNS.items():
                if name not in present:
                    db.execute(f"ALTER TABLE access_record ADD COLUMN {name} {definition}")
            for record_id, at in db.execute("SELECT id, at FROM access_record").fetchall():
                try:
                    fixed = _time(_parse_time(at, naive_is_utc=True))
                except (ValueError, TypeError, OverflowError):
                    continue  # left as it is: shown nowhere, set aside by export, listed for the operator
                if fixed != at:
                    db.execute("UPDATE access_record SET at = ? WHERE id = ?", (fixed, record_id))
            db.execute(_FILL_OUTCOME)
            for statement in _INDEXES:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    async def _run(self, work: Callable[..., T], *arguments: object) -> T:
        """``work(until, *arguments)`` on a worker thread; ``until`` ends its wait for the database."""
        return await asyncio.to_thread(work, time.monotonic() + self._wait_s, *arguments)

    @contextmanager
    def _turn(self, until: float) -> Iterator[sqlite3.Connection]:
        """The connection, once this thread's turn came before ``until``; SQLite waits for another
        process's lock only as long as is left. :class:`TimeoutError` when the turn does not come."""
        if not self._lock.acquire(timeout=max(0.0, until - time.monotonic())):
            raise TimeoutError("the access log was busy")
        try:
            left_ms = max(1, int((until - time.monotonic()) * 1000))
            self._db.execute(f"PRAGMA busy_timeout={left_ms}")
            yield self._db
        finally:
            self._lock.release()

    @contextmanager
    def _transaction(self, until: float) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._turn(until) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _rows(self, until: float, query: str, parameters: Sequence[object]) -> list[dict[str, object]]:
        with self._turn(until) as db:
            rows = db.execute(query, parameters).fetchall()
        return [_from_row(row) for row in rows]

    def _fetch(self, until: float, query: str, parameters: Sequence[object]) -> list[tuple[object, ...]]:
        with self._turn(until) as db:
            return list(db.execute(query, parameters).fetchall())

    async def probe(self) -> None:
        """Raise unless a write could be made now: take the file's write lock within the acquire timeout
        and let it go (nothing is written)."""
        await self._run(self._probe)

    def _probe(self, until: float) -> None:
        with self._transaction(until):
            pass

    async def open_writes(self, records: Sequence[AccessRecord]) -> None:
        """Store the records of changes about to be made, open, in one transaction; on disk when this returns."""
        if records:
            await self._run(self._write, [_to_row(record) for record in records], [], True)

    async def write(self, records: Sequence[AccessRecord], security_events: Sequence[SecurityEvent] = ()) -> None:
        """Store ``records`` (finalising open ones) and ``security_events`` in one transaction, on disk on return."""
        if records or security_events:
            rows = [_to_row(record) for record in records]
            events = [_event_row(event) for event in security_events]
            await self._run(self._write, rows, events, False)

    def _write(
        self, until: float, rows: Sequence[Sequence[object]], events: Sequence[Sequence[object]], opened: bool
    ) -> None:
        insert = insert_statement(_VALUES, opened=opened)
        event_placeholders = ", ".join("?" for _ in SECURITY_EVENT_COLUMNS)
        insert_event = f"INSERT INTO security_event ({', '.join(SECURITY_EVENT_COLUMNS)}) VALUES ({event_placeholders})"  # noqa: S608
        with self._transaction(until) as db:
            for row in rows:
                if opened or db.execute(_FINALISE, finalising(row)).rowcount == 0:
                    db.execute(insert, row)
            db.executemany(insert_event, events)

    async def log_page(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> AccessLogPage:
        """One page of ``cpr``'s log: the rows with ``since <= at < until`` strictly older than ``before``."""
        if limit < 1:
            return AccessLogPage((), None, False)
        tail, parameters = _range(cpr, since, until).page(limit, before)
        rows = await self._run(self._rows, f"{SELECT_RECORDS} {tail}", parameters)
        return page_of(rows, limit, _parse_stored)

    async def log_count(self, cpr: str, *, since: datetime | None = None, until: datetime | None = None) -> int:
        """How many rows about ``cpr`` with ``since <= at < until`` :meth:`log_page` pages through."""
        query, parameters = _range(cpr, since, until).count()
        rows = await self._run(self._fetch, query, parameters)
        count = rows[0][0]
        if not isinstance(count, int):
            raise TypeError("count(*) gave no whole number")
        return count

    async def purge(self, older_than: datetime) -> int:
        """Delete every record (and security event) with ``at < older_than``; how many records were deleted."""
        cut = _time(older_than)
        return await self._run(self._purge, cut)

    def _purge(self, until: float, cut: str) -> int:
        with self._transaction(until) as db:
            db.execute("DELETE FROM security_event WHERE at < ?", (cut,))
            return db.execute("DELETE FROM access_record WHERE at < ?", (cut,)).rowcount

    async def pending_export(self, limit: int, opened_before: datetime | None = None) -> list[PendingRecord]:
        """Up to ``limit`` records neither exported nor set aside, oldest first; unreadable rows as such.

        Open records count only once opened before ``opened_before`` (``None``: none of them).
        """
        if limit < 1:
            return []
        rows = await self._run(self._rows, pending_query("?"), [_time(opened_before or NO_TIME), limit])
        return pending(rows, _parse_stored)

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Note the export of records ``ids`` at ``at`` (a record already marked keeps its first time)."""
        if ids:
            exported = _time(at)
            await self._run(self._mark_exported, [(exported, record_id) for record_id in ids])

    def _mark_exported(self, until: float, rows: Sequence[tuple[str, str]]) -> None:
        with self._transaction(until) as db:
            db.executemany("UPDATE access_record SET exported_at = ? WHERE id = ? AND exported_at IS NULL", rows)

    async def set_aside(self, reasons: Mapping[str, str], at: datetime) -> None:
        """Move the pending records ``reasons`` names out of the export queue, each with its reason."""
        if reasons:
            when = _time(at)
            rows = [(when, reason_text(reason), record_id) for record_id, reason in reasons.items()]
            await self._run(self._executemany, set_aside_statement("?"), rows)

    def _executemany(self, until: float, statement: str, rows: Sequence[Sequence[object]]) -> int:
        with self._transaction(until) as db:
            return sum(db.execute(statement, row).rowcount for row in rows)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Up to ``limit`` records set aside from export, oldest access first."""
        rows = await self._run(self._fetch, dead_letters_query("?"), [max(0, limit)])
        return [dead_letter_of(row, _parse_stored) for row in rows]

    async def retry_dead_letters(self, ids: Sequence[str] | None = None) -> int:
        """Put dead letters back in the export queue (all of them, or those ``ids``); how many went back."""
        if ids is None:
            return await self._run(self._executemany, RETRY_ALL, [()])
        return await self._run(self._executemany, retry_statement("?"), [(i,) for i in ids])

    async def export_status(self) -> ExportStatus:
        """How many records are pending, exported and set aside."""
        ((pending_, exported, set_aside),) = await self._run(self._fetch, EXPORT_STATUS, [])
        return ExportStatus(int(str(pending_)), int(str(exported)), int(str(set_aside)))

    async def security_events(self, limit: int = 100) -> list[ListedSecurityEvent]:
        """Up to ``limit`` security events, newest first; a row this version cannot read is listed as such."""
        select = f"SELECT {', '.join(SECURITY_EVENT_COLUMNS)} FROM security_event ORDER BY at DESC, id DESC LIMIT ?"  # noqa: S608
        rows = await self._run(self._fetch, select, [max(0, limit)])
        return [security_event_from_row(row, lenient_time(row[1], _parse_stored)) for row in rows]

    async def record_operator_event(self, event: OperatorEvent) -> None:
        """Store one operator event (the table is made on first use)."""
        values = (event.id, _time(event.at), *operator_event_values(event)[2:])
        await self._run(self._record_operator_event, values)

    def _record_operator_event(self, until: float, values: Sequence[object]) -> None:
        with self._transaction(until) as db:
            db.execute(SQLITE_OPERATOR_TABLE)
            db.execute(operator_insert_statement("?"), values)

    async def operator_events(self, limit: int = 100) -> list[OperatorEvent]:
        """Up to ``limit`` operator events, newest first."""
        if not await self._run(self._fetch, "SELECT 1 FROM sqlite_master WHERE name = 'operator_event'", []):
            return []
        rows = await self._run(self._fetch, operator_select_statement("?"), [max(0, limit)])
        events = [operator_event_from_row(tuple(row), _parse_stored(row[1])) for row in rows]
        return [event for event in events if event is not None]

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


def _parse_stored(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("stored time is not text")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("stored time is naive")
    return parsed.astimezone(UTC)


TIME_READABLE = "stored_time_readable"
"""The SQL function (registered on the connection) that holds for a time in the form this store writes."""


def _time_readable(value: object) -> bool:
    """Whether ``value`` is a time exactly as :func:`_time` writes it (so it reads back and is a cursor)."""
    try:
        return _time(_parse_stored(value)) == value
    except (ValueError, TypeError, OverflowError):
        return False


def _to_row(record: AccessRecord) -> tuple[object, ...]:
    values = to_values(record)
    values["at"] = _time(record.at)
    for name in LISTS:
        values[name] = json.dumps(values[name])
    return tuple(values[name] for name in COLUMNS)


def _from_row(row: Sequence[object]) -> dict[str, object]:
    values = dict(zip(COLUMNS, row, strict=True))
    for name in LISTS:
        try:
            values[name] = json.loads(str(values[name]))
        except (ValueError, RecursionError):
            values[name] = None  # not a list: the row is unreadable
    return values


def _event_row(event: SecurityEvent) -> tuple[object, ...]:
    values = list(security_event_values(event))
    values[SECURITY_EVENT_COLUMNS.index("at")] = _time(event.at)
    return tuple(values)


def _range(cpr: str, since: datetime | None, until: datetime | None) -> PatientRange:
    return PatientRange(cpr, since, until, placeholder="?", time=_time, time_readable=f"{TIME_READABLE}(at)")
