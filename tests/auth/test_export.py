"""Exporting the access log to Min Log: batches, retries after failures, and the background task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from auth.export import Exporter, export_pending
from sources.audit import AccessRecord
from sources.errors import SourceUnavailable
from tests.records import access_record

HANS = "1403723705"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
EXPORTED_AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def records(n: int, start: int = 1) -> list[AccessRecord]:
    return [
        access_record(id=f"rec-{i}", at=T0 + timedelta(minutes=i), request_id=f"req-{i}")
        for i in range(start, start + n)
    ]


class FakeLog:
    """The two store methods export needs, in memory."""

    def __init__(self, pending: list[AccessRecord]) -> None:
        self.records = list(pending)
        self.exported: dict[str, datetime] = {}

    async def pending_export(self, limit: int) -> list[AccessRecord]:
        return [r for r in self.records if r.id not in self.exported][:limit]

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        for record_id in ids:
            self.exported[record_id] = at

    def pending(self) -> list[str]:
        return [r.id for r in self.records if r.id not in self.exported]


class FakeSink:
    """Records what it received; fails while ``down`` (like Min Log answering 503)."""

    def __init__(self, *, fail_on_batch: int | None = None) -> None:
        self.batches: list[list[str]] = []
        self.down = False
        self.fail_on_batch = fail_on_batch

    async def send(self, records: Sequence[AccessRecord]) -> None:
        if self.down or self.fail_on_batch == len(self.batches) + 1:
            self.fail_on_batch = None
            raise SourceUnavailable("minlog", "status 503")
        self.batches.append([r.id for r in records])

    def sent(self) -> list[str]:
        return [record_id for batch in self.batches for record_id in batch]


async def test_everything_pending_goes_out_in_batches_oldest_first_and_is_marked():
    log, sink = FakeLog(records(5)), FakeSink()

    sent = await export_pending(log, sink, batch_size=2, now=lambda: EXPORTED_AT)

    assert sent == 5
    assert sink.batches == [["rec-1", "rec-2"], ["rec-3", "rec-4"], ["rec-5"]]
    assert log.exported == {f"rec-{i}": EXPORTED_AT for i in range(1, 6)}


async def test_nothing_pending_sends_nothing():
    sink = FakeSink()

    assert await export_pending(FakeLog([]), sink) == 0
    assert sink.batches == []


async def test_a_failing_sink_leaves_records_pending_and_a_later_run_sends_each_once():
    log, sink = FakeLog(records(5)), FakeSink(fail_on_batch=2)

    with pytest.raises(SourceUnavailable):
        await export_pending(log, sink, batch_size=2)

    assert log.pending() == ["rec-3", "rec-4", "rec-5"], "only the confirmed batch is marked"
    assert await export_pending(log, sink, batch_size=2) == 3
    assert sink.sent() == [f"rec-{i}" for i in range(1, 6)], "each record reached the sink exactly once"
    assert log.pending() == []


async def test_records_written_during_an_export_go_out_in_the_same_run():
    log = FakeLog(records(2))

    class WritingSink(FakeSink):
        async def send(self, records_: Sequence[AccessRecord]) -> None:
            await super().send(records_)
            if len(log.records) == 2:
                log.records += records(1, start=3)

    sink = WritingSink()

    assert await export_pending(log, sink, batch_size=2) == 3
    assert sink.batches == [["rec-1", "rec-2"], ["rec-3"]]


async def test_a_store_that_never_marks_records_exported_stops_the_run():
    class ForgetfulLog(FakeLog):
        async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
            return None

    sink = FakeSink()

    with pytest.raises(RuntimeError, match="already marked"):
        await export_pending(ForgetfulLog(records(2)), sink, batch_size=5)
    assert sink.batches == [["rec-1", "rec-2"]]


async def test_the_exporter_exports_in_the_background_and_once_more_when_it_stops():
    log, sink = FakeLog(records(3)), FakeSink()
    exporter = Exporter(log, sink, interval_s=3600, batch_size=2)

    exporter.start()
    await _until(lambda: not log.pending())
    log.records += records(1, start=4)
    await exporter.stop()

    assert sink.sent() == ["rec-1", "rec-2", "rec-3", "rec-4"]
    log.records += records(1, start=5)
    await asyncio.sleep(0.05)
    assert log.pending() == ["rec-5"], "nothing runs after stop"


async def test_the_exporter_logs_a_failure_without_personal_data_and_retries_next_tick(caplog):
    log, sink = FakeLog(records(2)), FakeSink()
    sink.down = True
    exporter = Exporter(log, sink, interval_s=0.01)
    caplog.set_level(logging.WARNING, logger="auth.export")

    exporter.start()
    await _until(lambda: bool(caplog.records))
    sink.down = False
    await _until(lambda: not log.pending())
    await exporter.stop()

    assert sink.sent() == ["rec-1", "rec-2"]
    messages = [r.getMessage() for r in caplog.records]
    assert "access record export failed: SourceUnavailable from source minlog" in messages
    assert not any(HANS in m or "CBDJ6" in m or "Mette" in m for m in messages)


async def test_stop_tries_a_last_time_and_does_not_raise_when_the_log_is_down(caplog):
    log, sink = FakeLog(records(1)), FakeSink()
    sink.down = True
    exporter = Exporter(log, sink, interval_s=3600)
    caplog.set_level(logging.WARNING, logger="auth.export")

    exporter.start()
    await _until(lambda: bool(caplog.records))
    await exporter.stop()

    assert log.pending() == ["rec-1"], "still pending for the next start"
    assert len(caplog.records) == 2, "the tick and the last attempt both failed and were logged"


def test_the_exporter_needs_a_running_loop():
    with pytest.raises(RuntimeError):
        Exporter(FakeLog([]), FakeSink()).start()


async def _until(condition, timeout_s: float = 2.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polls a fake's plain state, with a deadline
            await asyncio.sleep(0.005)
