"""Record writes that come together share one SQLite transaction, and still each stand alone (ADR 0027).

Counted in transactions and stored rows, never timed: every write is on disk when it returns; writes
asked for together are committed in one transaction; one that fails is rolled back alone; a caller
that stops waiting does not stop its write or anyone else's.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from auth.access_log import AccessLogPolicy, SqliteAccessLog
from auth.group_commit import GroupCommit
from tests.records import access_record

WRITERS = 20
PATIENT = access_record().patient_cpr


async def stored(store: SqliteAccessLog) -> list[str]:
    return sorted(r.id for r in await store.for_patient(PATIENT))


async def test_writes_asked_for_together_share_a_transaction(tmp_path: Path) -> None:
    store = SqliteAccessLog(tmp_path / "access.db", policy=AccessLogPolicy(acquire_timeout_s=30))
    try:
        await asyncio.gather(*(store.write([access_record(id=f"rec-{i:02}")]) for i in range(WRITERS)))

        assert await stored(store) == [f"rec-{i:02}" for i in range(WRITERS)]
        assert store.write_transactions <= 2
    finally:
        await store.aclose()


async def test_a_write_that_fails_is_rolled_back_alone(tmp_path: Path) -> None:
    store = SqliteAccessLog(tmp_path / "access.db", policy=AccessLogPolicy(acquire_timeout_s=30))
    try:
        await store.write([access_record(id="rec-once")])
        before = store.write_transactions

        outcomes = await asyncio.gather(
            store.write([access_record(id="rec-a")]),
            store.write([access_record(id="rec-b"), access_record(id="rec-once")]),  # its second row exists
            store.write([access_record(id="rec-c")]),
            return_exceptions=True,
        )

        assert [type(o) for o in outcomes] == [type(None), sqlite3.IntegrityError, type(None)]
        assert await stored(store) == ["rec-a", "rec-c", "rec-once"], "rec-b went back with its write"
        assert store.write_transactions == before + 1
    finally:
        await store.aclose()


async def test_a_caller_that_stops_waiting_stops_no_write(tmp_path: Path) -> None:
    store = SqliteAccessLog(tmp_path / "access.db", policy=AccessLogPolicy(acquire_timeout_s=30))
    try:
        leaving = asyncio.ensure_future(store.write([access_record(id="rec-left")]))
        staying = asyncio.ensure_future(store.write([access_record(id="rec-stayed")]))
        await asyncio.sleep(0)
        leaving.cancel()

        await staying
        with pytest.raises(asyncio.CancelledError):
            await leaving
        await store.write([access_record(id="rec-next")])  # after the transaction that held rec-left

        assert await stored(store) == ["rec-left", "rec-next", "rec-stayed"]
    finally:
        await store.aclose()


async def test_a_write_whose_deadline_passed_while_it_waited_is_not_written() -> None:
    written: list[list[str]] = []
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def commit(until: float, writes: Sequence[str]) -> list[BaseException | None]:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        written.append(list(writes))
        return [None for _ in writes]

    group: GroupCommit[str] = GroupCommit(commit)
    first = asyncio.ensure_future(group.write("first", time.monotonic() + 60))
    await asyncio.sleep(0.05)  # the first transaction is under way, waiting for release
    late = asyncio.ensure_future(group.write("late", 0.0))  # its deadline has passed already
    on_time = asyncio.ensure_future(group.write("on time", time.monotonic() + 60))
    release.set()

    await first
    await on_time
    with pytest.raises(TimeoutError):
        await late
    assert written == [["first"], ["on time"]]
