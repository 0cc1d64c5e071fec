"""Export of the local access records to the national Min Log: at least once, never lossy, never stalled.

The access log keeps every record durably; exporting is a separate, retried step. Each run takes the
oldest pending records in batches and sends a batch to the sink. What the sink confirmed is marked
exported; what can never go (a row outside the vocabulary, a record the mapping cannot express, an
entry the sink refuses) is **set aside** as a dead letter with its reason, so it never holds back the
records behind it. A transient failure (the sink down, a 5xx, a timeout) stops the run with the
batch still pending; the next run sends it again, and the sink stores a re-sent record once (its id
is the idempotency key). Dead letters stay in the store until the operator retries them
(``patientoverblik retry-dead-letters``).

Open records (ADR 0007): the record of a change is written before the change and finalised after
it. Export never sends an open record until it has been open for ``open_grace_s`` (the change's
request long over: it never finalised); then it goes as it stands, outcome "unconfirmed". Until
then it and the same patient's later records wait.

Order (ADR 0007): batches go out oldest first (``at``, then ``id``) and a batch is settled before
the next is read, so for each patient the sink gets the records in the order they were made and a
record is never marked exported while an older record of the same patient is still pending. A dead
letter is skipped, not waited for: the patient's later records still go, and the dead letter goes
when it is retried, carrying its own time (``recorded``), which is what Min Log orders by.

:class:`Exporter` runs this in the background every ``interval_s`` seconds and once more when it stops.
With several gateway processes on one access log, each runs an exporter and a :class:`Lease` decides
which one sends: only the lease's holder reads and sends a batch (:mod:`auth.export_lease`, ADR 0026).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from auth.access_log_rows import PendingRecord, UnreadableRecord
from sources.audit import AccessRecord, SinkRefusal
from sources.errors import SourceError

logger = logging.getLogger(__name__)


class AuditSink(Protocol):
    """Where access records are exported to (Min Log: :class:`sources.minlog.MinLogSink`)."""

    async def send(self, records: Sequence[AccessRecord]) -> list[SinkRefusal]:
        """Store every record it takes; return the others with the reason it never will.

        Raises on a transient failure: then nothing is known to be refused.
        """


class PendingExports(Protocol):
    """The part of the access-record store that export needs."""

    async def pending_export(self, limit: int, opened_before: datetime | None = None) -> Sequence[PendingRecord]:
        """Up to ``limit`` records neither exported nor set aside, oldest first; open records only when
        opened before ``opened_before``."""

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Record that the records ``ids`` reached the sink at ``at``."""

    async def set_aside(self, reasons: Mapping[str, str], at: datetime) -> None:
        """Move the records named in ``reasons`` (id → reason) out of the export queue."""


class Lease(Protocol):
    """Which of several processes exports (:class:`auth.export_lease.ExportLease`)."""

    async def hold(self) -> bool:
        """Take or renew the lease: whether this process may send now."""

    async def release(self) -> None:
        """Let the lease go."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What one export run did."""

    sent: int
    """Records the sink confirmed."""
    set_aside: int
    """Records moved aside as dead letters, each with its reason."""


def utc_now() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


OPEN_GRACE_S = 900.0
"""How long an open record (the record of a change, not yet finalised) waits before it is exported
as it stands ("change attempted, outcome not confirmed"): far longer than any request takes."""


class ExportFailed(Exception):
    """A transient failure stopped the run; ``report`` says what was settled before it."""

    def __init__(self, report: ExportReport, cause: Exception) -> None:
        super().__init__(f"export stopped after {report.sent} sent and {report.set_aside} set aside")
        self.report = report
        self.cause = cause


async def export_pending(
    log: PendingExports,
    sink: AuditSink,
    *,
    batch_size: int = 100,
    now: Callable[[], datetime] = utc_now,
    open_grace_s: float = OPEN_GRACE_S,
    may_send: Callable[[], Awaitable[bool]] | None = None,
) -> ExportReport:
    """Send every pending record to ``sink``, batch by batch, setting aside what can never go.

    An open record goes only once it has been open for ``open_grace_s`` seconds. With ``may_send``
    (a lease's :meth:`~Lease.hold`), each batch is read only when it answers ``True``; else the run
    stops there, with what it settled.

    If the sink fails transiently, :class:`ExportFailed` is raised (its ``cause`` the sink's error)
    with the batch still pending. If marking fails after a send, those records are sent again next
    time, which the sink absorbs.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    sent: set[str] = set()
    set_aside = 0
    opened_before = now() - timedelta(seconds=open_grace_s)
    while (may_send is None or await may_send()) and (batch := await log.pending_export(batch_size, opened_before)):
        ids = [item.id for item in batch]
        if sent.intersection(ids):
            raise RuntimeError("the access log returned records it had already marked exported")
        reasons = {item.id: item.reason for item in batch if isinstance(item, UnreadableRecord)}
        records = [item for item in batch if isinstance(item, AccessRecord)]
        try:
            refusals = await sink.send(records)
        except Exception as exc:
            raise ExportFailed(ExportReport(len(sent), set_aside), exc) from exc
        known = {record.id for record in records}
        reasons |= {r.record_id: r.reason for r in refusals if r.record_id in known}
        await log.set_aside(reasons, now())
        confirmed = [record.id for record in records if record.id not in reasons]
        await log.mark_exported(confirmed, now())
        set_aside += len(reasons)
        sent.update(confirmed)
        sent.update(reasons)  # settled: never returned again by this run
    return ExportReport(len(sent) - set_aside, set_aside)


class Exporter:
    """Exports pending records in the background every ``interval_s`` seconds.

    Create and :meth:`start` it inside the running event loop (the application's lifespan) and
    ``await`` :meth:`stop` on shutdown, which makes one last attempt. A failed attempt is logged
    (error class and source name only) and retried at the next tick; records set aside are logged
    as a count. With a ``lease``, only the process holding it sends (the others' runs do nothing).
    """

    def __init__(
        self,
        log: PendingExports,
        sink: AuditSink,
        *,
        interval_s: float = 30.0,
        batch_size: int = 100,
        now: Callable[[], datetime] = utc_now,
        open_grace_s: float = OPEN_GRACE_S,
        lease: Lease | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._open_grace_s = open_grace_s
        self._log = log
        self._sink = sink
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._now = now
        self._lease = lease
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.set_aside_total = 0
        """Records this exporter has set aside since it was made."""

    def start(self) -> None:
        """Start the background task (raises ``RuntimeError`` outside a running loop or when started)."""
        if self._task is not None:
            raise RuntimeError("exporter already started")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="minlog-export")

    async def stop(self) -> None:
        """Stop the background task, make one last export attempt (if it holds the lease), let the lease go."""
        self._stopping.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.export_now()
        if self._lease is not None:
            await self._lease.release()

    async def export_now(self) -> ExportReport:
        """One export attempt now: what was sent and set aside (a failure is logged, not raised)."""
        async with self._lock:
            try:
                report = await export_pending(
                    self._log,
                    self._sink,
                    batch_size=self._batch_size,
                    now=self._now,
                    open_grace_s=self._open_grace_s,
                    may_send=None if self._lease is None else self._lease.hold,
                )
            except ExportFailed as failed:
                exc, report = failed.cause, failed.report
                source = exc.source if isinstance(exc, SourceError) else "-"
                logger.warning("access record export failed: %s from source %s", type(exc).__name__, source)
            except Exception as exc:
                logger.warning("access record export failed: %s", type(exc).__name__)
                return ExportReport(0, 0)
            if report.set_aside:
                self.set_aside_total += report.set_aside
                logger.warning(
                    "access record export set %d records aside (list them: patientoverblik dead-letters)",
                    report.set_aside,
                )
            return report

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.export_now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval_s)
