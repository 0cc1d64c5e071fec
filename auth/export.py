"""Export of the local access records to the national Min Log, at least once and never lossy.

The access log keeps every record durably; exporting is a separate, retried step. Each run takes the
oldest pending records in batches, sends a batch to the sink, and marks it exported only after the
sink confirmed it. A failure stops the run with the records still pending, so the next run sends them
again; the sink stores a re-sent record once (its id is the idempotency key). :class:`Exporter` runs
this in the background every ``interval_s`` seconds and once more when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sources.audit import AccessRecord
from sources.errors import SourceError

logger = logging.getLogger(__name__)


class AuditSink(Protocol):
    """Where access records are exported to (Min Log: :class:`sources.minlog.MinLogSink`)."""

    async def send(self, records: Sequence[AccessRecord]) -> None:
        """Store every record, or raise; returns only when all of them are stored."""


class PendingExports(Protocol):
    """The part of the access-record store that export needs."""

    async def pending_export(self, limit: int) -> list[AccessRecord]:
        """Up to ``limit`` records not yet exported, oldest first."""

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Record that the records ``ids`` reached the sink at ``at``."""


def utc_now() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


async def export_pending(
    log: PendingExports,
    sink: AuditSink,
    *,
    batch_size: int = 100,
    now: Callable[[], datetime] = utc_now,
) -> int:
    """Send every pending record to ``sink``, batch by batch; how many were sent.

    If the sink fails, the error is re-raised and the unsent records stay pending. If marking fails
    after a send, those records are sent again next time, which the sink absorbs.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    sent: set[str] = set()
    while batch := await log.pending_export(batch_size):
        ids = [record.id for record in batch]
        if sent.intersection(ids):
            raise RuntimeError("the access log returned records it had already marked exported")
        await sink.send(batch)
        await log.mark_exported(ids, now())
        sent.update(ids)
    return len(sent)


class Exporter:
    """Exports pending records in the background every ``interval_s`` seconds.

    Create and :meth:`start` it inside the running event loop (the application's lifespan) and
    ``await`` :meth:`stop` on shutdown, which makes one last attempt. A failed attempt is logged
    (error class and source name only) and retried at the next tick.
    """

    def __init__(
        self,
        log: PendingExports,
        sink: AuditSink,
        *,
        interval_s: float = 30.0,
        batch_size: int = 100,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._log = log
        self._sink = sink
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._now = now
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background task (raises ``RuntimeError`` outside a running loop or when started)."""
        if self._task is not None:
            raise RuntimeError("exporter already started")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="minlog-export")

    async def stop(self) -> None:
        """Stop the background task, then make one last export attempt."""
        self._stopping.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.export_now()

    async def export_now(self) -> int:
        """One export attempt now; how many records went out (``0`` when it failed, which is logged)."""
        async with self._lock:
            try:
                return await export_pending(self._log, self._sink, batch_size=self._batch_size, now=self._now)
            except Exception as exc:
                source = exc.source if isinstance(exc, SourceError) else "-"
                logger.warning("access record export failed: %s from source %s", type(exc).__name__, source)
                return 0

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.export_now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval_s)
