"""The Min Log export lease: of several processes on one access log, one exports; a dead holder is replaced.

Each "process" here is a store of its own on the same database (SQLite file or PostgreSQL schema),
with an exporter and a lease of its own, on a test clock.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from auth.access_log import AccessLog, ExportStatus, open_access_log
from auth.export import Exporter, ExportReport
from auth.export_lease import ExportLease
from sources.audit import AccessRecord, SinkRefusal
from tests.records import access_record

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL_S = 30.0


class Clock:
    """A settable ``now``."""

    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


class Sink:
    """Min Log as far as counting goes: how many times each record was sent, all sends overlapping."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    async def send(self, records: Sequence[AccessRecord]) -> list[SinkRefusal]:
        await asyncio.sleep(0.05)  # a real round trip: the other exporter runs meanwhile
        self.sent.update(record.id for record in records)
        return []


@pytest.fixture
async def two_stores(access_log_url: str) -> AsyncIterator[tuple[AccessLog, AccessLog]]:
    """Two processes' stores on one database."""
    first, second = open_access_log(access_log_url), open_access_log(access_log_url)
    yield first, second
    await first.aclose()
    await second.aclose()


async def write_records(store: AccessLog, count: int, start: int = 0) -> None:
    await store.write(
        [
            access_record(id=f"rec-{n:03d}", at=T0 - timedelta(hours=1) + timedelta(seconds=n))
            for n in range(start, count)
        ]
    )


async def test_one_holder_at_a_time_and_a_dead_holders_lease_expires(two_stores: tuple[AccessLog, AccessLog]) -> None:
    clock = Clock()
    first = ExportLease(two_stores[0], ttl_s=TTL_S, holder="gw-1", now=clock)
    second = ExportLease(two_stores[1], ttl_s=TTL_S, holder="gw-2", now=clock)

    assert [await first.hold(), await second.hold()] == [True, False]
    clock.at += timedelta(seconds=TTL_S - 1)
    assert [await first.hold(), await second.hold()] == [True, False]  # renewed: 30 s from now again
    clock.at += timedelta(seconds=TTL_S - 1)
    assert await second.hold() is False
    clock.at += timedelta(seconds=1)  # first died: it renews no more, and its lease has run out
    assert [await second.hold(), await first.hold()] == [True, False]


async def test_a_released_lease_is_taken_at_once(two_stores: tuple[AccessLog, AccessLog]) -> None:
    clock = Clock()
    first = ExportLease(two_stores[0], ttl_s=TTL_S, holder="gw-1", now=clock)
    second = ExportLease(two_stores[1], ttl_s=TTL_S, holder="gw-2", now=clock)
    assert await first.hold()

    await second.release()  # not its lease: nothing happens
    assert await second.hold() is False
    await first.release()

    assert await second.hold() is True


@pytest.mark.parametrize("leased", [True, False])
async def test_two_exporters_on_one_log_send_each_record_once_only_with_the_lease(
    two_stores: tuple[AccessLog, AccessLog], leased: bool
) -> None:
    clock = Clock()
    sink = Sink()
    await write_records(two_stores[0], 30)
    exporters = [
        Exporter(store, sink, batch_size=10, now=clock, lease=ExportLease(store, now=clock) if leased else None)
        for store in two_stores
    ]

    reports = await asyncio.gather(*(exporter.export_now() for exporter in exporters))

    assert set(sink.sent) == {f"rec-{n:03d}" for n in range(30)}
    if leased:
        assert set(sink.sent.values()) == {1}
        assert sorted(reports, key=lambda r: r.sent) == [ExportReport(0, 0), ExportReport(30, 0)]
    else:  # what the lease is for: without it, both read the same pending batch and send it
        assert max(sink.sent.values()) == 2
    assert await two_stores[1].export_status() == ExportStatus(pending=0, exported=30, set_aside=0)


async def test_when_the_exporting_process_dies_another_takes_over_after_the_lease(
    two_stores: tuple[AccessLog, AccessLog],
) -> None:
    clock = Clock()
    sink = Sink()
    dying = Exporter(two_stores[0], sink, now=clock, lease=ExportLease(two_stores[0], ttl_s=TTL_S, now=clock))
    survivor = Exporter(two_stores[1], sink, now=clock, lease=ExportLease(two_stores[1], ttl_s=TTL_S, now=clock))
    await write_records(two_stores[0], 5)
    assert await dying.export_now() == ExportReport(5, 0)
    await write_records(two_stores[0], 8, start=5)  # then it dies: no stop, no release

    assert await survivor.export_now() == ExportReport(0, 0)
    clock.at += timedelta(seconds=TTL_S)

    assert await survivor.export_now() == ExportReport(3, 0)
    assert set(sink.sent.values()) == {1}


async def test_a_stopping_exporter_lets_the_lease_go(two_stores: tuple[AccessLog, AccessLog]) -> None:
    clock = Clock()
    sink = Sink()
    stopping = Exporter(two_stores[0], sink, now=clock, lease=ExportLease(two_stores[0], now=clock))
    other = Exporter(two_stores[1], sink, now=clock, lease=ExportLease(two_stores[1], now=clock))
    stopping.start()
    await write_records(two_stores[0], 2)
    await stopping.stop()  # its last run sends what is pending, then it lets go
    await write_records(two_stores[0], 4, start=2)

    assert await other.export_now() == ExportReport(2, 0)
    assert sink.sent == Counter({f"rec-{n:03d}": 1 for n in range(4)})
