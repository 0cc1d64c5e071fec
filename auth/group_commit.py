"""Group commit: writes asked for while another is on its way to disk go together in the next transaction.

Every request writes its access record before its answer leaves, and with ``synchronous=FULL`` each
SQLite commit waits for the disk. One transaction per record made the access log the gateway's
bottleneck under load (writes queued behind each other's ``fsync`` until the acquire timeout refused
them) and cost a worker-thread hand-off and a commit per request. :class:`GroupCommit` keeps the
guarantee and shares the commit (ADR 0027):

- a write returns only once the transaction holding it is committed (on disk), or raises its failure;
- while one transaction is being written, the writes asked for meanwhile wait and then go together,
  in one transaction, each in a savepoint of its own: a write that fails is rolled back alone and
  raises, the others are committed;
- each write keeps its own deadline (when it was asked for plus the store's acquire timeout): a
  transaction waits for the database no longer than the earliest deadline of the writes in it, and a
  write whose deadline passed while it waited for its turn fails with ``TimeoutError`` unwritten.

The transactions run one at a time, on a worker thread, from a task of their own: a caller that stops
waiting (its request cancelled) never stops the others' writes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

W = TypeVar("W")
Commit = Callable[[float, Sequence[W]], Sequence[BaseException | None]]
"""Writes the given writes in one transaction that waits for the database until the given monotonic
time; returns each write's failure (``None``: written), or raises when the transaction as a whole failed."""


@dataclass
class _Waiting(Generic[W]):
    write: W
    until: float
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit(Generic[W]):
    """Writes on one store, committed together when they arrive together (see the module)."""

    def __init__(self, commit: Commit[W]) -> None:
        self._commit = commit
        self._waiting: list[_Waiting[W]] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0
        """Transactions run so far (the work: writes that come together share one)."""

    async def write(self, write: W, until: float) -> None:
        """Store ``write`` by the monotonic time ``until``; on disk when this returns."""
        waiting = _Waiting(write, until)
        self._waiting.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all())
        try:
            await asyncio.shield(waiting.done)
        except asyncio.CancelledError:
            waiting.done.add_done_callback(_settled)  # its outcome is nobody's now; the write still goes
            raise

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            now = time.monotonic()
            for late in (w for w in batch if w.until <= now):
                late.done.set_exception(TimeoutError("the access log was busy"))
            ready = [w for w in batch if w.until > now]
            if not ready:
                continue
            self.transactions += 1
            try:
                outcomes = await asyncio.to_thread(self._commit, min(w.until for w in ready), [w.write for w in ready])
            except BaseException as failure:  # the transaction as a whole: every write in it failed
                for waiting in ready:
                    waiting.done.set_exception(failure)
                if isinstance(failure, asyncio.CancelledError):
                    raise
                continue
            for waiting, outcome in zip(ready, outcomes, strict=True):
                if outcome is None:
                    waiting.done.set_result(None)
                else:
                    waiting.done.set_exception(outcome)


def _settled(done: asyncio.Future[None]) -> None:
    """Take a finished write's outcome that no caller waits for any more."""
    if not done.cancelled():
        done.exception()
