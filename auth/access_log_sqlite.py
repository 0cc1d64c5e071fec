"""The embedded access record store: one SQLite file in WAL mode with ``synchronous=FULL``.

A write is on disk when :meth:`SqliteAccessLog.write` returns. Times are stored as fixed-width UTC
ISO 8601 text (``2024-05-01T09:30:00.000000+00:00``), so text order is time order; the category
lists are stored as JSON arrays. One connection serves the process, used from worker threads
under a lock so the event loop never waits on the disk. One operation waits for the database at
most the policy's acquire timeout in all, from when it is asked for: for a worker thread, for its
turn at the connection, and for the file's write lock another process holds (SQLite's busy
timeout, set to what is left), so a held lock fails requests fast instead of stalling them
(:class:`~auth.access_log_policy.AccessLogPolicy`, ADR 0024).

The tables are declared in :mod:`auth.access_log_tables`; opening a file runs the migrations it
lacks (:mod:`auth.migrate`, ADR 0026; with ``policy.migrate`` off, checks that it is current). A file
an older, unversioned gateway made (``PRAGMA user_version`` 0 to 3) is adopted by the first
migration; a stored time it cannot read is left as it is: the citizen's log leaves that row out,
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
from auth.export_lease import release_statement, take_statement
from auth.migrate import migrate_or_check, sqlite_is_current
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
        if not sqlite_is_current(path):
            migrate_or_check(f"sqlite:///{path}", migrate_on_open=policy is None or policy.migrate)

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
        """Store one operator event."""
        values = (event.id, _time(event.at), *operator_event_values(event)[2:])
        await self._run(self._executemany, operator_insert_statement("?"), [values])

    async def take_lease(self, name: str, holder: str, expires_at: datetime, now: datetime) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``expires_at``; ``False`` while another holds it."""
        row = (name, holder, _time(expires_at), _time(now))
        return await self._run(self._executemany, take_statement("?"), [row]) == 1

    async def release_lease(self, name: str, holder: str) -> None:
        """Let lease ``name`` go, if ``holder`` holds it."""
        await self._run(self._executemany, release_statement("?"), [(name, holder)])

    async def operator_events(self, limit: int = 100) -> list[OperatorEvent]:
        """Up to ``limit`` operator events, newest first."""
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
