"""The access log fails fast when it cannot write, and says so to a probe (ADR 0024).

SQLite: another process holding the file's write lock fails each of many concurrent writes within the
acquire timeout, instead of queueing them behind each other's busy waits; once the lock goes, writes
go through at once. PostgreSQL: a database nobody answers for fails an operation within the connect
timeout the first time and the acquire timeout after. Bounds are generous multiples of the timeout;
what matters is that waits no longer add up.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import Awaitable
from pathlib import Path

import pytest

from auth.access_log import AccessLogPolicy, open_access_log
from tests.records import access_record

POLICY = AccessLogPolicy(acquire_timeout_s=0.25)
WRITERS = 20


async def timed_failure(operation: Awaitable[object]) -> float:
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - whatever stops the write
        await operation
    return time.monotonic() - started


async def test_a_held_sqlite_lock_fails_every_writer_within_the_acquire_timeout(tmp_path: Path) -> None:
    path = tmp_path / "access.db"
    store = open_access_log(f"sqlite:///{path}", POLICY)
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # another process writes, and takes its time
        started = time.monotonic()
        waits = await asyncio.gather(
            *(timed_failure(store.write([access_record(id=f"rec-{i}")])) for i in range(WRITERS)),
            timed_failure(store.probe()),
        )
        together = time.monotonic() - started
        locker.execute("ROLLBACK")

        assert max(waits) < 4 * POLICY.acquire_timeout_s
        assert together < 4 * POLICY.acquire_timeout_s  # not 20 waits one after another
        await store.probe()
        await store.write([access_record(id="after")])
        assert [r.id for r in await store.for_patient(access_record().patient_cpr)] == ["after"]
    finally:
        locker.close()
        await store.aclose()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_postgresql_that_nobody_answers_for_fails_within_the_connect_timeout_then_the_acquire_timeout() -> None:
    store = open_access_log(f"postgresql://nobody@127.0.0.1:{closed_port()}/test", POLICY)
    try:
        first = await timed_failure(store.probe())
        later = [await timed_failure(store.write([access_record()])) for _ in range(3)]
    finally:
        await store.aclose()

    assert first < POLICY.connect_timeout_s + 1.0
    assert max(later) < 4 * POLICY.acquire_timeout_s


@pytest.mark.postgres
async def test_a_postgresql_probe_takes_a_connection_and_writes_nothing(postgres_url: str) -> None:
    store = open_access_log(postgres_url, POLICY)
    try:
        await store.probe()
        await store.probe()
        assert (await store.export_status()).pending == 0
    finally:
        await store.aclose()
