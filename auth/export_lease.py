"""The Min Log export lease: of several gateway processes sharing one access log, one exports (ADR 0026).

Every process runs an :class:`~auth.export.Exporter`; before each run, and before each batch within
it, the exporter *holds* the lease: one row of ``export_lease`` in the access-log database, naming
its holder and when it expires. Taking it is one statement (an upsert that changes the row only
when this process holds it already or it has expired), so two processes can never both hold it; the
holder renews it on every hold, and lets it go when it stops. A holder that dies without letting go
stops renewing: its lease expires after ``ttl_s`` and the next process to ask takes over.

So nothing is sent twice in the normal course: a batch is sent only by the lease's holder. One case
is left to the sink's idempotency (each event is keyed by its record id, and Min Log stores a re-sent
record once): a holder that stalls for longer than ``ttl_s`` in the middle of one batch's send, while
another takes over and sends the same batch.

Expiry compares the clocks of the processes (their ``now``), so they must be in step (NTP) to well
within ``ttl_s``; the default 30 s leaves room for ordinary drift.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, Protocol

from auth.export import utc_now
from auth.telemetry import EXPORT_LEASE_HELD

logger = logging.getLogger(__name__)

MINLOG: Final = "minlog"
"""The name of the Min Log export's lease (the row's key)."""
DEFAULT_TTL_S: Final = 30.0
"""How long a lease lasts unless renewed."""


def take_statement(placeholder: str) -> str:
    """The upsert that takes or renews a lease: parameters name, holder, expires_at, now.

    It changes one row when the lease is free, expired or this holder's already, and none otherwise;
    the same SQL on PostgreSQL and SQLite (3.24 or later).
    """
    p = placeholder
    return (
        f"INSERT INTO export_lease (name, holder, expires_at) VALUES ({p}, {p}, {p}) "  # noqa: S608 - placeholders
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
        f"WHERE export_lease.holder = excluded.holder OR export_lease.expires_at <= {p}"
    )


def release_statement(placeholder: str) -> str:
    """Let a lease go: parameters name, holder (a lease another holds now is left alone)."""
    return f"DELETE FROM export_lease WHERE name = {placeholder} AND holder = {placeholder}"  # noqa: S608


class LeaseStore(Protocol):
    """The part of the access-record store that keeps leases."""

    async def take_lease(self, name: str, holder: str, expires_at: datetime, now: datetime) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``expires_at``; ``False`` while another holds it."""

    async def release_lease(self, name: str, holder: str) -> None:
        """Let lease ``name`` go, if ``holder`` holds it."""


def holder_name() -> str:
    """This process's name as a holder: host, process id and a random part (no personal data)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ExportLease:
    """One process's hold on the export lease ``name`` in ``store``."""

    def __init__(
        self,
        store: LeaseStore,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        holder: str | None = None,
        name: str = MINLOG,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._store = store
        self._ttl = timedelta(seconds=ttl_s)
        self.holder = holder or holder_name()
        self._name = name
        self._now = now
        self.held = False
        """Whether the last :meth:`hold` got the lease."""

    async def hold(self) -> bool:
        """Take or renew the lease for another ``ttl_s``: whether this process holds it now.

        A store that cannot be reached is "not held" (logged by class): exporting waits for it anyway.
        """
        now = self._now()
        try:
            held = await self._store.take_lease(self._name, self.holder, now + self._ttl, now)
        except Exception as exc:
            logger.warning("export lease not taken: %s", type(exc).__name__)
            held = False
        EXPORT_LEASE_HELD.set(int(held))
        if held != self.held:
            logger.debug("export lease %s", "taken: this process exports" if held else "held by another process")
        self.held = held
        return held

    async def release(self) -> None:
        """Let the lease go (when this process stops), so another takes over at once."""
        if not self.held:
            return
        self.held = False
        EXPORT_LEASE_HELD.set(0)
        try:
            await self._store.release_lease(self._name, self.holder)
        except Exception as exc:
            logger.warning("export lease not released (it expires): %s", type(exc).__name__)
