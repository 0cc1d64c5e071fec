"""The production access record store: PostgreSQL through psycopg 3 and an async connection pool.

The pool opens on first use, inside whichever event loop uses the store (the gateway builds the
store in its lifespan), and creates the table and its indexes if they are missing. Each operation
is one transaction; a write commits with ``synchronous_commit`` on, so it is durable when
:meth:`PostgresAccessLog.write` returns. Times are ``timestamptz``; the category lists are
``text[]``. ``id`` sorts in the "C" collation so the newest-first order, and the keyset cursor that
follows it, do not depend on the server's locale.

The connection URL may carry libpq options, e.g. ``?options=-csearch_path%3Daudit`` for a schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from auth.access_log_query import patient_page
from sources.audit import AccessCursor, AccessRecord

COLUMNS = tuple(AccessRecord.__dataclass_fields__)
_LISTS = frozenset({"requested", "returned", "denied", "withheld"})
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM access_record"  # noqa: S608 - column names are constants
_INSERT = (
    f"INSERT INTO access_record ({', '.join(COLUMNS)}) "  # noqa: S608 - column names are constants
    f"VALUES ({', '.join('%s::text[]' if name in _LISTS else '%s' for name in COLUMNS)})"
)
_SCHEMA = """
SELECT pg_advisory_xact_lock(hashtext('patientoverblik.access_record'));
CREATE TABLE IF NOT EXISTS access_record (
    id text COLLATE "C" PRIMARY KEY,
    at timestamptz NOT NULL,
    request_id text NOT NULL,
    activity text NOT NULL DEFAULT 'read',
    actor_kind text NOT NULL,
    actor_id text NOT NULL,
    actor_name text,
    profession text,
    organisation_sor text,
    organisation_name text,
    client_id text,
    acting_for_id text,
    acting_for_name text,
    patient_cpr text NOT NULL,
    requested_cpr text,
    requested text[] NOT NULL,
    returned text[] NOT NULL,
    denied text[] NOT NULL,
    withheld text[] NOT NULL,
    override_ground text,
    override_reason text,
    operation_hash text NOT NULL,
    operation_name text,
    exported_at timestamptz
);
CREATE INDEX IF NOT EXISTS access_record_patient ON access_record (patient_cpr, at, id);
CREATE INDEX IF NOT EXISTS access_record_pending_export ON access_record (at, id) WHERE exported_at IS NULL;
CREATE INDEX IF NOT EXISTS access_record_at ON access_record (at);
"""
"""Run under an advisory lock, so gateway processes starting together do not race to create it."""

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]


class PostgresAccessLog:
    """Access records in PostgreSQL (psycopg 3, :class:`psycopg_pool.AsyncConnectionPool`)."""

    def __init__(self, url: str, *, max_connections: int = 10, connect_timeout_s: float = 10.0) -> None:
        self._url = url
        self._max_connections = max_connections
        self._connect_timeout_s = connect_timeout_s
        self._pool: Pool | None = None
        self._opening = asyncio.Lock()
        self._closed = False

    async def _ready(self) -> Pool:
        """The open pool, opened (and the table created) on first use."""
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._closed:
                raise RuntimeError("the access log is closed")
            if self._pool is None:
                pool: Pool = AsyncConnectionPool(
                    self._url,
                    open=False,
                    min_size=1,
                    max_size=self._max_connections,
                    timeout=self._connect_timeout_s,
                    check=AsyncConnectionPool.check_connection,
                    name="access-log",
                )
                try:
                    await pool.open(wait=True, timeout=self._connect_timeout_s)
                    async with pool.connection() as conn:
                        await conn.execute(_SCHEMA)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    async def write(self, records: Sequence[AccessRecord]) -> None:
        """Store ``records`` in one committed transaction; none of them if it raises."""
        if not records:
            return
        rows = [_to_row(record) for record in records]
        pool = await self._ready()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.execute("SET LOCAL synchronous_commit TO on")
            await cursor.executemany(_INSERT, rows)

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
            cpr, since=since, until=until, limit=limit, before=before, placeholder="%s", time=_aware
        )
        return await self._read(f"{_SELECT} {tail}", parameters)

    async def _read(self, query: str, parameters: Sequence[object]) -> list[AccessRecord]:
        pool = await self._ready()
        async with pool.connection() as conn:
            cursor = await conn.execute(query, parameters)
            rows = await cursor.fetchall()
        return [_from_row(row) for row in rows]

    async def purge(self, older_than: datetime) -> int:
        """Delete every record with ``at < older_than``; return how many were deleted."""
        cut = _aware(older_than)
        pool = await self._ready()
        async with pool.connection() as conn:
            cursor = await conn.execute("DELETE FROM access_record WHERE at < %s", [cut])
            return cursor.rowcount

    async def pending_export(self, limit: int) -> list[AccessRecord]:
        """Up to ``limit`` records not yet exported to the national Min Log, oldest first."""
        if limit < 1:
            return []
        return await self._read(f"{_SELECT} WHERE exported_at IS NULL ORDER BY at, id LIMIT %s", [limit])

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Note the export of records ``ids`` at ``at`` (a record already marked keeps its first time)."""
        if not ids:
            return
        exported = _aware(at)
        pool = await self._ready()
        async with pool.connection() as conn:
            await conn.execute(
                "UPDATE access_record SET exported_at = %s WHERE id = ANY(%s::text[]) AND exported_at IS NULL",
                [exported, list(ids)],
            )

    async def aclose(self) -> None:
        """Close the pool; the store cannot be used afterwards."""
        async with self._opening:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("access log times must be timezone-aware")
    return value


def _to_row(record: AccessRecord) -> tuple[object, ...]:
    _aware(record.at)
    return tuple(list(getattr(record, name)) if name in _LISTS else getattr(record, name) for name in COLUMNS)


def _from_row(row: TupleRow) -> AccessRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    for name in _LISTS:
        values[name] = tuple(values[name])
    values["at"] = values["at"].astimezone(UTC)
    return AccessRecord(**values)
