"""The production access record store: PostgreSQL through psycopg 3 and an async connection pool.

The pool opens on first use, inside whichever event loop uses the store (the gateway builds the
store in its lifespan), and runs the migrations the database lacks (:mod:`auth.migrate`, ADR 0026;
or, with ``policy.migrate`` off, checks that it is current). Every wait on the
database is bounded by :class:`~auth.access_log_policy.AccessLogPolicy` (ADR 0024): a database that is
gone fails an operation within the acquire timeout, one that stops answering (a silent network) within
the acquire and statement timeouts, kept by the client (:mod:`auth.access_log_deadline`, ADR 0028), and
the pool reconnects as soon as it is back. Each operation is one
transaction; a write commits with ``synchronous_commit`` on, so it is durable when
:meth:`PostgresAccessLog.write` returns. Times are ``timestamptz``; the category lists are
``text[]``. ``id`` sorts in the "C" collation so the newest-first order, and the keyset cursor that
follows it, do not depend on the server's locale.

The tables are declared in :mod:`auth.access_log_tables`; a database an older, unversioned
gateway made is adopted by the first migration.

A time Python cannot hold (``infinity``, years past 9999) is read as unreadable, never as a crash:
the citizen's log leaves the row out, export sets it aside, the operator lists it.

The connection URL may carry libpq options, e.g. ``?options=-csearch_path%3Daudit`` for a schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from auth.access_log_deadline import OPERATION_ENDS, AccessLogTimeout, deadline, ends_in
from auth.access_log_policy import MIN_CONNECT_TIMEOUT_S, AccessLogPolicy, AccessLogUnwritable
from auth.access_log_query import (
    EXPORT_STATUS,
    RETRY_ALL,
    PatientRange,
    dead_letters_query,
    finalise_statement,
    finalising,
    insert_statement,
    pending_query,
    reason_text,
    retry_statement,
    select_records,
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
from auth.migrate import migrate_or_check
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

_VALUES = ["%s::text[]" if name in LISTS else "%s" for name in COLUMNS]
_INSERT = insert_statement(_VALUES, opened=False)
_INSERT_OPEN = insert_statement(_VALUES, opened=True)
_FINALISE = finalise_statement(_VALUES)
_READABLE_TIMES = "BETWEEN '0002-01-01 00:00:00+00' AND '9998-12-31 00:00:00+00'"
"""Times Python's ``datetime`` holds in any time zone; the others (``infinity``) cannot be read back."""
TIME_READABLE = f"at {_READABLE_TIMES}"


def _read_time(column: str) -> str:
    """The time ``column`` as read: ``NULL`` (unreadable) when Python cannot hold it."""
    return f"CASE WHEN {column} {_READABLE_TIMES} THEN {column} END"


_SELECT = select_records(_read_time)
_INSERT_EVENT = (
    f"INSERT INTO security_event ({', '.join(SECURITY_EVENT_COLUMNS)}) "  # noqa: S608 - constants
    f"VALUES ({', '.join('%s' for _ in SECURITY_EVENT_COLUMNS)})"
)
Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]
T = TypeVar("T")


class PostgresAccessLog(RecordsOfPages):
    """Access records in PostgreSQL (psycopg 3, :class:`psycopg_pool.AsyncConnectionPool`).

    Every operation waits at most ``policy.acquire_timeout_s`` for a connection (and a write as long
    for its table's lock), so a database that is gone fails a request in that time; a connection the
    pool finds broken makes it check all its idle ones at once, in the background, and a connection it
    cannot re-make is retried for ``policy.reconnect_timeout_s`` before the next operation that needs
    one connects again at once (:class:`~auth.access_log_policy.AccessLogPolicy`, ADR 0024). The first
    operation waits up to ``policy.connect_timeout_s`` for the store to open; once an opening failed, no
    longer than the acquire timeout.
    """

    def __init__(self, url: str, *, policy: AccessLogPolicy | None = None) -> None:
        self._url = url
        self._policy = policy or AccessLogPolicy()
        self._pool: Pool | None = None
        self._opened = False
        self._open_failed = False
        self._opening: asyncio.Task[Pool] | None = None
        self._checking: asyncio.Task[None] | None = None
        self._closed = False

    async def _ready(self) -> Pool:
        """The open pool; opened (and the tables created or migrated) on first use, by one task all share."""
        if self._closed:
            raise RuntimeError("the access log is closed")
        if self._opened and self._pool is not None:
            return self._pool
        if self._opening is None or self._opening.done():
            self._opening = _background(self._open())
        # The first opening may take a connection's time; once one failed, the database is known to be away.
        wait = self._policy.acquire_timeout_s if self._open_failed else self._policy.connect_timeout_s
        return await asyncio.wait_for(asyncio.shield(self._opening), wait)

    async def _open(self) -> Pool:
        if self._pool is None:
            policy = self._policy
            self._pool = AsyncConnectionPool(
                self._url,
                open=False,
                min_size=1,
                max_size=policy.max_connections,
                timeout=policy.acquire_timeout_s,
                check=self._check,
                reconnect_timeout=policy.reconnect_timeout_s,
                max_lifetime=policy.max_lifetime_s,
                kwargs=_connect_options(self._url, policy),
                name="access-log",
            )
            await self._pool.open(wait=False)
        try:
            async with self._pool.connection(timeout=self._policy.connect_timeout_s):
                await asyncio.to_thread(self._migrate)
        except BaseException:
            self._open_failed = True
            raise
        self._opened = True
        return self._pool

    def _migrate(self) -> None:
        policy = self._policy
        migrate_or_check(
            self._url,
            migrate_on_open=policy.migrate,
            connect_timeout_s=policy.connect_timeout_s,
            check_timeout_s=policy.statement_timeout_s,
            migrate_timeout_s=policy.migrate_timeout_s,
        )

    async def _check(self, conn: AsyncConnection[TupleRow]) -> None:
        """The pool's check of a connection before it hands it out, within the operation's time (or, for
        the pool's own checks, the statement timeout)."""
        ends = OPERATION_ENDS.get()
        async with deadline(conn, ends if ends is not None else ends_in(self._policy.statement_timeout_s)):
            await AsyncConnectionPool.check_connection(conn)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[TupleRow]]:
        """A connection from the pool within the acquire timeout, used until the operation's end: the acquire
        and statement timeouts from now (then it is cut and discarded, :mod:`auth.access_log_deadline`). A
        failure makes the pool check its other connections."""
        pool = await self._ready()
        ends = ends_in(self._policy.acquire_timeout_s + self._policy.statement_timeout_s)
        operation = OPERATION_ENDS.set(ends)
        try:
            async with pool.connection(timeout=self._policy.acquire_timeout_s) as conn, deadline(conn, ends):
                yield conn
        except (PoolTimeout, psycopg.OperationalError, AccessLogTimeout):
            if self._checking is None or self._checking.done():
                self._checking = _background(pool.check())
            raise
        finally:
            OPERATION_ENDS.reset(operation)

    async def probe(self) -> None:
        """Raise unless a write could be made now: a connection within the acquire timeout, to a primary
        that takes writes (:class:`~auth.access_log_policy.AccessLogUnwritable` otherwise). Writes nothing."""
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::boolean"
            )
            row = await cursor.fetchone()
        if row is None or row[0]:
            raise AccessLogUnwritable("the database takes no writes (a standby, or read-only)")

    async def open_writes(self, records: Sequence[AccessRecord]) -> None:
        """Store the records of changes about to be made, open, in one committed transaction; none if it raises."""
        if records:
            await self._insert(_INSERT_OPEN, [_to_row(record) for record in records], [])

    async def write(self, records: Sequence[AccessRecord], security_events: Sequence[SecurityEvent] = ()) -> None:
        """Store ``records`` (finalising open ones) and ``security_events`` in one committed transaction.

        None of them is stored if it raises.
        """
        if not records and not security_events:
            return
        rows = [_to_row(record) for record in records]
        events = [security_event_values(event) for event in security_events]
        for event in security_events:
            _aware(event.at)
        await self._insert(_INSERT, rows, events)

    async def _insert(self, insert: str, rows: Sequence[Sequence[object]], events: Sequence[Sequence[object]]) -> None:
        """Insert ``rows`` with ``insert`` (a row whose open record :data:`_FINALISE` closes is not inserted again)."""
        async with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.execute("SET LOCAL synchronous_commit TO on")
            # A table someone holds locked fails the write as fast as a missing connection does.
            await cursor.execute("SELECT set_config('lock_timeout', %s, true)", [_milliseconds(self._policy)])
            for row in rows:
                if insert is _INSERT:
                    await cursor.execute(_FINALISE, finalising(row))
                    if cursor.rowcount:
                        continue
                await cursor.execute(insert, row)
            if events:
                await cursor.executemany(_INSERT_EVENT, events)

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
        return page_of(await self._rows(f"{_SELECT} {tail}", parameters), limit, _utc)

    async def _fetch(self, query: str, parameters: Sequence[object]) -> list[TupleRow]:
        async with self._connection() as conn:
            cursor = await conn.execute(query, parameters)
            return await cursor.fetchall()

    async def _rows(self, query: str, parameters: Sequence[object]) -> list[dict[str, object]]:
        return [dict(zip(COLUMNS, row, strict=True)) for row in await self._fetch(query, parameters)]

    async def _execute(self, statement: str, rows: Sequence[Sequence[object]]) -> int:
        changed = 0
        async with self._connection() as conn, conn.transaction():
            for row in rows:
                changed += (await conn.execute(statement, row)).rowcount
        return changed

    async def log_count(self, cpr: str, *, since: datetime | None = None, until: datetime | None = None) -> int:
        """How many rows about ``cpr`` with ``since <= at < until`` :meth:`log_page` pages through."""
        query, parameters = _range(cpr, since, until).count()
        rows = await self._fetch(query, parameters)
        count = rows[0][0]
        if not isinstance(count, int):
            raise TypeError("count(*) gave no whole number")
        return count

    async def purge(self, older_than: datetime) -> int:
        """Delete every record (and security event) with ``at < older_than``; how many records were deleted."""
        cut = _aware(older_than)
        async with self._connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM security_event WHERE at < %s", [cut])
            cursor = await conn.execute("DELETE FROM access_record WHERE at < %s", [cut])
            return cursor.rowcount

    async def pending_export(self, limit: int, opened_before: datetime | None = None) -> list[PendingRecord]:
        """Up to ``limit`` records neither exported nor set aside, oldest first; unreadable rows as such.

        Open records count only once opened before ``opened_before`` (``None``: none of them).
        """
        if limit < 1:
            return []
        rows = await self._rows(pending_query("%s", _read_time), [_aware(opened_before or NO_TIME), limit])
        return pending(rows, _utc)

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Note the export of records ``ids`` at ``at`` (a record already marked keeps its first time)."""
        if not ids:
            return
        exported = _aware(at)
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE access_record SET exported_at = %s WHERE id = ANY(%s::text[]) AND exported_at IS NULL",
                [exported, list(ids)],
            )

    async def set_aside(self, reasons: Mapping[str, str], at: datetime) -> None:
        """Move the pending records ``reasons`` names out of the export queue, each with its reason."""
        if reasons:
            when = _aware(at)
            rows = [(when, reason_text(reason), record_id) for record_id, reason in reasons.items()]
            await self._execute(set_aside_statement("%s"), rows)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Up to ``limit`` records set aside from export, oldest access first."""
        rows = await self._fetch(dead_letters_query("%s", _read_time), [max(0, limit)])
        return [dead_letter_of(row, _utc) for row in rows]

    async def retry_dead_letters(self, ids: Sequence[str] | None = None) -> int:
        """Put dead letters back in the export queue (all of them, or those ``ids``); how many went back."""
        if ids is None:
            return await self._execute(RETRY_ALL, [()])
        return await self._execute(retry_statement("%s"), [(i,) for i in ids])

    async def export_status(self) -> ExportStatus:
        """How many records are pending, exported and set aside."""
        ((pending_, exported, set_aside),) = await self._fetch(EXPORT_STATUS, [])
        return ExportStatus(int(pending_), int(exported), int(set_aside))

    async def security_events(self, limit: int = 100) -> list[ListedSecurityEvent]:
        """Up to ``limit`` security events, newest first; a row this version cannot read is listed as such."""
        columns = ", ".join(_read_time(name) if name == "at" else name for name in SECURITY_EVENT_COLUMNS)
        select = f"SELECT {columns} FROM security_event ORDER BY at DESC, id DESC LIMIT %s"  # noqa: S608
        rows = await self._fetch(select, [max(0, limit)])
        return [security_event_from_row(tuple(row), lenient_time(row[1], _utc)) for row in rows]

    async def record_operator_event(self, event: OperatorEvent) -> None:
        """Store one operator event."""
        values = operator_event_values(event)
        _aware(event.at)
        async with self._connection() as conn:
            await conn.execute(operator_insert_statement("%s"), values)

    async def take_lease(self, name: str, holder: str, expires_at: datetime, now: datetime) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``expires_at``; ``False`` while another holds it."""
        async with self._connection() as conn:
            cursor = await conn.execute(take_statement("%s"), [name, holder, _aware(expires_at), _aware(now)])
            return cursor.rowcount == 1

    async def release_lease(self, name: str, holder: str) -> None:
        """Let lease ``name`` go, if ``holder`` holds it."""
        async with self._connection() as conn:
            await conn.execute(release_statement("%s"), [name, holder])

    async def operator_events(self, limit: int = 100) -> list[OperatorEvent]:
        """Up to ``limit`` operator events, newest first."""
        rows = await self._fetch(operator_select_statement("%s"), [max(0, limit)])
        events = [operator_event_from_row(tuple(row), _utc(row[1])) for row in rows]
        return [event for event in events if event is not None]

    async def aclose(self) -> None:
        """Close the pool; the store cannot be used afterwards."""
        self._closed = True
        for task in (self._opening, self._checking):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def _background(work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """``work`` as a task of no request (no request id, no deadline), its failure read when it ends."""
    task = asyncio.get_running_loop().create_task(work, context=contextvars.Context())
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


def _connect_options(url: str, policy: AccessLogPolicy) -> dict[str, Any]:
    """libpq options for each new connection: the connect timeout, unless the URL sets its own."""
    if "connect_timeout" in conninfo_to_dict(url):
        return {}
    return {"connect_timeout": max(MIN_CONNECT_TIMEOUT_S, policy.connect_timeout_s)}


def _milliseconds(policy: AccessLogPolicy) -> str:
    return f"{max(1, round(policy.acquire_timeout_s * 1000))}ms"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("access log times must be timezone-aware")
    return value


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError("stored time is not a timestamp")
    return value.astimezone(UTC)


def _to_row(record: AccessRecord) -> tuple[object, ...]:
    _aware(record.at)
    values = to_values(record)
    return tuple(values[name] for name in COLUMNS)


def _range(cpr: str, since: datetime | None, until: datetime | None) -> PatientRange:
    return PatientRange(cpr, since, until, placeholder="%s", time=_aware, time_readable=TIME_READABLE)
