"""A client-side time limit on every access-log operation on PostgreSQL: at its end the connection is cut.

The server's own limits (``statement_timeout``, ``lock_timeout``) reach a client only over a network
that still carries packets: when it goes silent (a stalled proxy, a partition; the kernel may even go
on acknowledging what is sent), a statement, a commit or the pool's check of an idle connection waits
until TCP gives up, minutes later. Cancelling the waiting task is no better: psycopg answers a
cancellation by sending the server a cancel request and waiting up to 10 s for it, over the same
silent network.

So the limit is enforced on the socket. At an operation's end (:class:`Deadline`) the connection's
socket is shut down both ways (:func:`cut`): whatever waits on it (the statement, the commit, the
rollback on the way out, the pool's check) fails at once with :class:`psycopg.OperationalError`, which
is re-raised as :class:`AccessLogTimeout`; the connection is closed, and the pool discards it and makes
a new one. A thread's blocking connection (the migrations a store runs when it opens) is cut the same
way by a :class:`Watchdog`.

What a cut commit leaves is unknown to the gateway: the request fails closed (no record, no data),
but the server may have committed the record when the network wakes. A record of an answer that
never left can exist; an answer that left without its record cannot (ADR 0028).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any

import psycopg

OPERATION_ENDS: ContextVar[float | None] = ContextVar("patientoverblik_access_log_operation_ends", default=None)
"""When the running operation must end (the event loop's clock): the pool's check of a connection it
hands to the operation keeps to it too."""


class AccessLogTimeout(Exception):
    """An access-log operation did not end within its time; its connection was cut and discarded."""


def cut(fd: int) -> None:
    """Shut the socket ``fd`` down both ways: reads on it see the end at once, writes fail. Never raises."""
    with contextlib.suppress(OSError):
        duplicate = socket.socket(fileno=os.dup(fd))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()  # the duplicate only: the connection's own descriptor stays open


def ends_in(seconds: float) -> float:
    """The event loop's time ``seconds`` from now."""
    return asyncio.get_running_loop().time() + seconds


@asynccontextmanager
async def deadline(connection: psycopg.AsyncConnection[Any], ends: float) -> AsyncIterator[None]:
    """Within the block, ``connection`` is cut at ``ends`` (the event loop's clock), then closed.

    A block the cut stopped raises :class:`AccessLogTimeout` (from the driver's error).
    """
    try:
        fd = connection.pgconn.socket
    except psycopg.OperationalError:  # already closed: the block's own use of it fails
        yield
        return
    fired = False

    def fire() -> None:
        nonlocal fired
        fired = True
        cut(fd)

    handle = asyncio.get_running_loop().call_at(ends, fire)
    try:
        yield
    except psycopg.Error as exc:
        if fired:
            raise AccessLogTimeout("the access log's database did not answer in time") from exc
        raise
    finally:
        handle.cancel()  # before the connection can close: the descriptor is never cut after it is reused
        if fired:
            await connection.close()


class Watchdog:
    """Cuts every connection :meth:`watch` is given once ``seconds`` have passed since the watchdog was made.

    :meth:`release` a connection before it closes (under a lock: a descriptor is never cut after it
    closed, when its number may be another's). Used as a context manager around the work, leaving it
    releases every connection, and work it cut raises :class:`AccessLogTimeout` from its error.
    """

    def __init__(self, seconds: float) -> None:
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._timers: dict[int, threading.Timer] = {}
        self._sockets: dict[int, int] = {}
        self.fired = False

    def watch(self, connection: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """``connection``, to be cut when the time is up."""
        timer = threading.Timer(max(0.0, self._ends - time.monotonic()), self._fire, [id(connection)])
        timer.daemon = True
        with self._lock:
            self._timers[id(connection)] = timer
            self._sockets[id(connection)] = connection.pgconn.socket
            timer.start()
        return connection

    def release(self, connection: object) -> None:
        """Never cut ``connection`` (it is about to close)."""
        with self._lock:
            timer = self._timers.pop(id(connection), None)
            self._sockets.pop(id(connection), None)
        if timer is not None:
            timer.cancel()

    def _fire(self, key: int) -> None:
        with self._lock:
            fd = self._sockets.get(key)
            if fd is not None:
                self.fired = True
                cut(fd)

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        with self._lock:
            timers = list(self._timers.values())
            self._timers.clear()
            self._sockets.clear()
        for timer in timers:
            timer.cancel()
        if self.fired and isinstance(error, Exception):
            raise AccessLogTimeout("the access log's database did not answer in time") from error
