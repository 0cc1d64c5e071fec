"""The access record store: one durable entry per patient a request touches (the patient's Min Log).

Written by the consent gate after execution and before the response leaves. If the write fails the
request fails closed: no record, no data. The record of a change is written before the change is
made (open, outcome ``unconfirmed``) and finalised after it: no record, no change (ADR 0007). Read
back by the patient (and their representatives) as their Min Log, exported to the national Min Log,
and purged after two years (domain.md §1.8).

The store is chosen by URL (:func:`open_access_log`): the embedded default is SQLite in WAL mode with
``synchronous=FULL`` (:mod:`auth.access_log_sqlite`); production uses PostgreSQL
(:mod:`auth.access_log_postgres`). Both keep the same contract, described by :class:`AccessLog`, on
the tables :mod:`auth.access_log_tables` declares, which the migrations of :mod:`auth.migrate` make.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from auth.access_log_policy import AccessLogPolicy, AccessLogUnwritable
from auth.access_log_postgres import PostgresAccessLog
from auth.access_log_rows import DeadLetter, ExportStatus, PendingRecord, UnreadableRecord
from auth.access_log_sqlite import SqliteAccessLog
from auth.operator_events import OperatorEvent
from auth.security_events import ListedSecurityEvent, SecurityEvent, UnreadableSecurityEvent
from sources.audit import AccessCursor, AccessLogPage, AccessRecord

__all__ = [
    "AccessCursor",
    "AccessLog",
    "AccessLogPage",
    "AccessLogPolicy",
    "AccessLogUnwritable",
    "AccessRecord",
    "DeadLetter",
    "ExportStatus",
    "ListedSecurityEvent",
    "OperatorEvent",
    "PendingRecord",
    "PostgresAccessLog",
    "SecurityEvent",
    "SqliteAccessLog",
    "UnreadableRecord",
    "UnreadableSecurityEvent",
    "check_access_log_url",
    "open_access_log",
]


class AccessLog(Protocol):
    """A durable store of access records and security events.

    Every datetime going in must be aware; every datetime coming out is aware UTC. The category lists
    (requested, returned, denied, withheld) come back as tuples in the order they were written. A
    stored row outside the vocabulary (see :mod:`auth.access_log_rows`) never crashes a read: the
    patient's log leaves it out, and export gets it as an :class:`UnreadableRecord`.

    Each record is in one export state: pending, exported, or set aside (a dead letter, with its
    reason) until the operator retries it.
    """

    async def open_writes(self, records: Sequence[AccessRecord]) -> None:
        """Store the records of changes about to be made, *open*, durably and all together, or none and raise.

        An open record is finalised by a later :meth:`write` of a record with the same id. Until then
        export holds it (and the same patient's later records) back, for at most the exporter's grace.
        """

    async def write(self, records: Sequence[AccessRecord], security_events: Sequence[SecurityEvent] = ()) -> None:
        """Store ``records`` and ``security_events`` durably and all together, or none of them and raise.

        A record whose id is stored open replaces it and closes it (finalised), unless it was exported
        meanwhile; then the stored record stays as it went out.
        """

    async def log_page(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> AccessLogPage:
        """One page of up to ``limit`` rows about patient ``cpr``, newest first (by ``at``, then ``id``).

        Only rows with ``since <= at < until``; with ``before=(at, id)`` (the previous page's ``end``)
        only rows strictly after it in that order. Rows outside the vocabulary take their place in the
        page but are not among its records, so paging is exact whatever the rows hold.
        """

    async def log_count(self, cpr: str, *, since: datetime | None = None, until: datetime | None = None) -> int:
        """How many rows about patient ``cpr`` with ``since <= at < until`` the pages of :meth:`log_page` walk
        (readable or not: each takes its place in a page)."""

    async def for_patient(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> list[AccessRecord]:
        """The readable records of :meth:`log_page` with the same arguments."""

    async def purge(self, older_than: datetime) -> int:
        """Delete every record and security event with ``at < older_than``; return how many records were deleted."""

    async def pending_export(self, limit: int, opened_before: datetime | None = None) -> list[PendingRecord]:
        """Up to ``limit`` records neither exported nor set aside, oldest first (by ``at``, then ``id``).

        An open record counts only once it was opened before ``opened_before`` (``None``: none
        counts); until then it and the same patient's later records wait.
        """

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Note that the records ``ids`` were exported to the national Min Log at ``at``."""

    async def set_aside(self, reasons: Mapping[str, str], at: datetime) -> None:
        """Move the pending records named in ``reasons`` (id → reason) out of the export queue."""

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Up to ``limit`` records set aside from export, oldest access first, whatever their rows hold."""

    async def retry_dead_letters(self, ids: Sequence[str] | None = None) -> int:
        """Put dead letters back in the export queue (``None``: all of them); how many went back."""

    async def export_status(self) -> ExportStatus:
        """How many records are pending, exported and set aside."""

    async def security_events(self, limit: int = 100) -> list[ListedSecurityEvent]:
        """Up to ``limit`` security events, newest first; a row this version cannot read is listed as such."""

    async def record_operator_event(self, event: OperatorEvent) -> None:
        """Store one operator event: who ran an access-log command, when, how many (:mod:`auth.operator_events`)."""

    async def operator_events(self, limit: int = 100) -> list[OperatorEvent]:
        """Up to ``limit`` operator events, newest first."""

    async def take_lease(self, name: str, holder: str, expires_at: datetime, now: datetime) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``expires_at`` if it is free, expired or ``holder``'s
        already: whether ``holder`` holds it now (:mod:`auth.export_lease`)."""

    async def release_lease(self, name: str, holder: str) -> None:
        """Let lease ``name`` go, if ``holder`` holds it."""

    async def probe(self) -> None:
        """Raise unless a write could be made now, within the acquire timeout; writes nothing (readiness)."""

    async def aclose(self) -> None:
        """Release the store (connections, pool)."""


def open_access_log(url: str, policy: AccessLogPolicy | None = None) -> AccessLog:
    """The access record store for ``url``, waiting for its database as ``policy`` bounds (ADR 0024).

    ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` open an embedded SQLite file
    (created, or migrated from an older schema, as needed); ``postgresql://…`` and ``postgres://…``
    use PostgreSQL through a connection pool that opens on first use. Raises ``ValueError`` as
    :func:`check_access_log_url` does.
    """
    if urlsplit(check_access_log_url(url)).scheme.lower() == "sqlite":
        return SqliteAccessLog(Path(url.removeprefix("sqlite:///")), policy=policy)
    return PostgresAccessLog(url, policy=policy)


def check_access_log_url(url: str) -> str:
    """``url`` when it names an access log :func:`open_access_log` can open; ``ValueError`` (no password) otherwise."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise ValueError("a SQLite access log URL needs a path: sqlite:///relative.db or sqlite:////absolute.db")
        return url
    if scheme in {"postgresql", "postgres"}:
        return url
    # Only the scheme is named: the rest of the URL may hold a password.
    raise ValueError(
        f"unsupported access log URL scheme {scheme!r}: expected sqlite:///path.db or postgresql://host/database"
    )
