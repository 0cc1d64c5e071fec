"""A PostgreSQL that stops answering (the network goes silent) costs each access-log operation a bounded time.

The store reaches the real PostgreSQL through a TCP proxy the test stalls, as a SIGSTOPped proxy would:
connections stay open, nothing is refused, nothing comes back. Every operation of the store, the
readiness probe and the migrations a store runs when it opens, fails within the acquire and statement
timeouts plus a generous margin (the fault was minutes: until TCP gave up), and works again once the
network wakes, on fresh connections: a cut one is never reused (ADR 0028).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
import pytest

from auth.access_log import AccessLog, AccessLogPolicy, PostgresAccessLog, open_access_log
from auth.access_log_deadline import AccessLogTimeout
from auth.migrate import current_revision, head_revision, migrate_or_check
from auth.operator_events import OperatorCommand, operator_event
from tests.records import HANS, access_record
from tests.tcp_proxy import Proxy, through

pytestmark = pytest.mark.postgres

POLICY = AccessLogPolicy(acquire_timeout_s=0.25, statement_timeout_s=0.5, migrate_timeout_s=1.0)
BOUND_S = POLICY.acquire_timeout_s + POLICY.statement_timeout_s + 2.0
"""Generous: what matters is that an operation ends, not how fast (the fault was ~190 s)."""
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

Operation = Callable[[AccessLog], Awaitable[object]]
OPERATIONS: dict[str, Operation] = {
    "open_writes": lambda store: store.open_writes([access_record(id="open-1")]),
    "write": lambda store: store.write([access_record(id="written-1")]),
    "log_page": lambda store: store.log_page(HANS),
    "log_count": lambda store: store.log_count(HANS),
    "for_patient": lambda store: store.for_patient(HANS),
    "purge": lambda store: store.purge(NOW - timedelta(days=730)),
    "pending_export": lambda store: store.pending_export(10),
    "mark_exported": lambda store: store.mark_exported(["written-1"], NOW),
    "set_aside": lambda store: store.set_aside({"written-1": "refused"}, NOW),
    "dead_letters": lambda store: store.dead_letters(),
    "retry_dead_letters": lambda store: store.retry_dead_letters(),
    "export_status": lambda store: store.export_status(),
    "security_events": lambda store: store.security_events(),
    "record_operator_event": lambda store: store.record_operator_event(
        operator_event(OperatorCommand.PURGE, "ops", 0, "test")
    ),
    "operator_events": lambda store: store.operator_events(),
    "take_lease": lambda store: store.take_lease("export", "me", NOW + timedelta(seconds=30), NOW),
    "release_lease": lambda store: store.release_lease("export", "me"),
    "probe": lambda store: store.probe(),
}


def test_every_operation_of_the_store_is_tried() -> None:
    operations = {name for name, _ in inspect.getmembers(AccessLog, inspect.isfunction) if not name.startswith("_")}

    assert operations - {"aclose"} == set(OPERATIONS)


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[Proxy]:
    parts = urlsplit(postgres_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    yield proxy
    proxy.resume()
    await proxy.stop()


async def timed(operation: Awaitable[object]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        await operation
    except Exception as exc:  # whatever stopped it: the test names what it expects
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


@pytest.mark.parametrize("name", sorted(OPERATIONS))
async def test_an_operation_on_a_silent_network_ends_within_its_time_and_works_once_it_wakes(
    postgres_url: str, proxy: Proxy, name: str
) -> None:
    store = open_access_log(through(postgres_url, proxy.port), POLICY)
    try:
        await store.probe()  # opened and migrated, a connection idle in the pool
        proxy.stall()

        failed, seconds = await timed(OPERATIONS[name](store))
        together = await asyncio.gather(*(timed(OPERATIONS[name](store)) for _ in range(5)))

        assert failed is not None
        assert seconds < BOUND_S, seconds
        assert all(error is not None and wait < BOUND_S for error, wait in together), together

        proxy.resume()
        again, _ = await timed(retrying(OPERATIONS[name], store))
        assert again is None, repr(again)
    finally:
        proxy.resume()
        await store.aclose()


async def retrying(operation: Operation, store: AccessLog) -> None:
    """``operation`` until it succeeds, within a few seconds: the pool replaces what it discarded."""
    deadline = time.monotonic() + 5 * BOUND_S
    while True:
        try:
            await operation(store)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_a_statement_cut_on_a_silent_network_says_so_and_its_connection_is_never_used_again(
    postgres_url: str, proxy: Proxy
) -> None:
    """The write is sent and waits on a table lock; then the network goes silent, so the server's own
    ``lock_timeout`` never reaches the client: the client's deadline ends the write."""
    policy = AccessLogPolicy(acquire_timeout_s=2.0, statement_timeout_s=0.5)  # the server's lock_timeout: 2 s
    store = PostgresAccessLog(through(postgres_url, proxy.port), policy=policy)
    try:
        await store.probe()
        connections = proxy.connections
        async with await psycopg.AsyncConnection.connect(postgres_url) as locker:
            await locker.execute("LOCK TABLE access_record IN ACCESS EXCLUSIVE MODE")
            write = asyncio.create_task(timed(store.write([access_record(id="cut")])))
            await waiting_on_a_lock(postgres_url)
            proxy.stall()
            failed, seconds = await write
        proxy.resume()
        await retrying(lambda store: store.write([access_record(id="after")]), store)

        assert isinstance(failed, AccessLogTimeout), repr(failed)
        assert seconds < policy.acquire_timeout_s + policy.statement_timeout_s + 2.0
        assert proxy.connections > connections  # the cut connection was replaced by a new one
        assert [record.id for record in await store.for_patient(HANS)] == ["after"]
    finally:
        await store.aclose()


async def waiting_on_a_lock(url: str) -> None:
    """Until a backend waits for the lock on this test's ``access_record`` (the write is on the server)."""
    waiting = (
        "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
        "WHERE NOT pg_locks.granted AND pg_class.relname = 'access_record' "
        "AND pg_class.relnamespace = current_schema()::regnamespace"
    )
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as watcher:
        for _ in range(500):
            cursor = await watcher.execute(waiting)
            row = await cursor.fetchone()
            if row is not None and row[0] > 0:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the write never reached the lock")


async def test_migrations_at_opening_on_a_database_that_stops_answering_end_and_the_store_opens_later(
    postgres_url: str,
) -> None:
    parts = urlsplit(postgres_url)
    silent = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432, silent_after_first=True)
    await silent.start()
    try:
        # One startup message: no SSL or GSS negotiation before it.
        url = through(postgres_url, silent.port) + "&sslmode=disable&gssencmode=disable"
        check, check_s = await timed(asyncio.to_thread(current_revision, url, timeout_s=POLICY.statement_timeout_s))
        opening, opening_s = await timed(
            asyncio.to_thread(
                migrate_or_check,
                url,
                migrate_on_open=True,
                check_timeout_s=POLICY.statement_timeout_s,
                migrate_timeout_s=POLICY.migrate_timeout_s,
            )
        )
        store = open_access_log(url, POLICY)
        first, first_s = await timed(store.probe())
        later, later_s = await timed(store.probe())
        await store.aclose()
    finally:
        await silent.stop()

    assert isinstance(check, AccessLogTimeout) and check_s < BOUND_S
    assert isinstance(opening, AccessLogTimeout) and opening_s < BOUND_S
    assert first is not None and first_s < POLICY.connect_timeout_s + BOUND_S
    assert later is not None and later_s < BOUND_S
    store = open_access_log(postgres_url, POLICY)  # the same database, answering: it opens
    try:
        await store.probe()
        assert await asyncio.to_thread(current_revision, postgres_url) == head_revision()
    finally:
        await store.aclose()
