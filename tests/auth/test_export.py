"""Exporting the access log to Min Log: batches, retries after failures, dead letters, the background task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from auth.access_log_rows import PendingRecord, UnreadableRecord
from auth.export import Exporter, ExportFailed, ExportReport, export_pending
from sources.audit import AccessRecord, SinkRefusal
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
    """The three store methods export needs, in memory."""

    def __init__(self, pending: Sequence[PendingRecord]) -> None:
        self.records = list(pending)
        self.exported: dict[str, datetime] = {}
        self.set_aside_reasons: dict[str, str] = {}

    async def pending_export(self, limit: int, opened_before: datetime | None = None) -> list[PendingRecord]:
        return [r for r in self.records if r.id not in self.exported and r.id not in self.set_aside_reasons][:limit]

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        for record_id in ids:
            self.exported[record_id] = at

    async def set_aside(self, reasons: Mapping[str, str], at: datetime) -> None:
        self.set_aside_reasons.update(reasons)

    def pending(self) -> list[str]:
        return [r.id for r in self.records if r.id not in self.exported and r.id not in self.set_aside_reasons]


class FakeSink:
    """Records what it received; fails while ``down`` (like Min Log answering 503); refuses ``refuse``."""

    def __init__(self, *, fail_on_batch: int | None = None, refuse: frozenset[str] = frozenset()) -> None:
        self.batches: list[list[str]] = []
        self.down = False
        self.fail_on_batch = fail_on_batch
        self.refuse = refuse

    async def send(self, records: Sequence[AccessRecord]) -> list[SinkRefusal]:
        if self.down or self.fail_on_batch == len(self.batches) + 1:
            self.fail_on_batch = None
            raise SourceUnavailable("minlog", "status 503")
        self.batches.append([r.id for r in records if r.id not in self.refuse])
        return [SinkRefusal(r.id, "Min Log refused the entry (status 400)") for r in records if r.id in self.refuse]

    def sent(self) -> list[str]:
        return [record_id for batch in self.batches for record_id in batch]


async def test_everything_pending_goes_out_in_batches_oldest_first_and_is_marked():
    log, sink = FakeLog(records(5)), FakeSink()

    report = await export_pending(log, sink, batch_size=2, now=lambda: EXPORTED_AT)

    assert report == ExportReport(sent=5, set_aside=0)
    assert sink.batches == [["rec-1", "rec-2"], ["rec-3", "rec-4"], ["rec-5"]]
    assert log.exported == {f"rec-{i}": EXPORTED_AT for i in range(1, 6)}


async def test_nothing_pending_sends_nothing():
    sink = FakeSink()

    assert await export_pending(FakeLog([]), sink) == ExportReport(0, 0)
    assert sink.batches == []


async def test_a_failing_sink_leaves_records_pending_and_a_later_run_sends_each_once():
    log, sink = FakeLog(records(5)), FakeSink(fail_on_batch=2)

    with pytest.raises(ExportFailed) as stopped:
        await export_pending(log, sink, batch_size=2)

    assert stopped.value.report == ExportReport(sent=2, set_aside=0)
    assert isinstance(stopped.value.cause, SourceUnavailable)
    assert log.pending() == ["rec-3", "rec-4", "rec-5"], "only the confirmed batch is marked"
    assert await export_pending(log, sink, batch_size=2) == ExportReport(3, 0)
    assert sink.sent() == [f"rec-{i}" for i in range(1, 6)], "each record reached the sink exactly once"
    assert log.pending() == []


async def test_records_written_during_an_export_go_out_in_the_same_run():
    log = FakeLog(records(2))

    class WritingSink(FakeSink):
        async def send(self, records_: Sequence[AccessRecord]) -> list[SinkRefusal]:
            refused = await super().send(records_)
            if len(log.records) == 2:
                log.records += records(1, start=3)
            return refused

    sink = WritingSink()

    assert await export_pending(log, sink, batch_size=2) == ExportReport(3, 0)
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


async def test_records_the_sink_refuses_are_set_aside_with_their_reason_and_the_rest_go_on():
    log, sink = FakeLog(records(5)), FakeSink(refuse=frozenset({"rec-2"}))

    report = await export_pending(log, sink, batch_size=2)

    assert report == ExportReport(sent=4, set_aside=1)
    assert log.set_aside_reasons == {"rec-2": "Min Log refused the entry (status 400)"}
    assert sink.sent() == ["rec-1", "rec-3", "rec-4", "rec-5"]
    assert log.pending() == []


async def test_a_stored_row_outside_the_vocabulary_is_set_aside_without_asking_the_sink():
    unreadable = UnreadableRecord("old-anonymous", "stored record has a value outside the vocabulary in actor_kind")
    log, sink = FakeLog([unreadable, *records(2)]), FakeSink()

    report = await export_pending(log, sink, batch_size=2)

    assert report == ExportReport(sent=2, set_aside=1)
    assert log.set_aside_reasons == {"old-anonymous": unreadable.reason}
    assert sink.sent() == ["rec-1", "rec-2"]


async def test_the_exporter_logs_how_many_it_set_aside_and_nothing_personal(caplog):
    log, sink = FakeLog(records(3)), FakeSink(refuse=frozenset({"rec-1", "rec-3"}))
    exporter = Exporter(log, sink, interval_s=3600)
    caplog.set_level(logging.WARNING, logger="auth.export")

    report = await exporter.export_now()

    assert report == ExportReport(sent=1, set_aside=2) and exporter.set_aside_total == 2
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("access record export set 2 records aside")
    assert HANS not in message and "rec-1" not in message


def test_the_exporter_needs_a_running_loop():
    with pytest.raises(RuntimeError):
        Exporter(FakeLog([]), FakeSink()).start()


async def _until(condition, timeout_s: float = 30.0) -> None:  # a bound under load, not a timing
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polls a fake's plain state, with a deadline
            await asyncio.sleep(0.005)
