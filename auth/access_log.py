"""The access record store: one durable entry per patient a request touches (the patient's Min Log).

Written by the consent gate after execution and before the response leaves. If the write fails the
request fails closed: no record, no data. Read back by the patient (and their representatives) as
their Min Log, exported to the national Min Log, and purged after two years (domain.md §1.8).

The store is chosen by URL (:func:`open_access_log`): the embedded default is SQLite in WAL mode with
``synchronous=FULL`` (:mod:`auth.access_log_sqlite`); production uses PostgreSQL
(:mod:`auth.access_log_postgres`). Both keep the same contract, described by :class:`AccessLog`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from auth.access_log_postgres import PostgresAccessLog
from auth.access_log_sqlite import SqliteAccessLog
from sources.audit import AccessCursor, AccessRecord

__all__ = [
    "AccessCursor",
    "AccessLog",
    "AccessRecord",
    "PostgresAccessLog",
    "SqliteAccessLog",
    "open_access_log",
]


class AccessLog(Protocol):
    """A durable store of access records.

    Every datetime going in must be aware; every datetime coming out is aware UTC. The category lists
    (requested, returned, denied, withheld) come back as tuples in the order they were written.
    """

    async def write(self, records: Sequence[AccessRecord]) -> None:
        """Store ``records`` durably and all together, or store none of them and raise."""

    async def for_patient(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> list[AccessRecord]:
        """Up to ``limit`` records about patient ``cpr``, newest first (by ``at``, then ``id``).

        Only records with ``since <= at < until``; with ``before=(at, id)`` (the last record of the
        previous page) only records strictly after it in that order.
        """

    async def purge(self, older_than: datetime) -> int:
        """Delete every record with ``at < older_than``; return how many were deleted."""

    async def pending_export(self, limit: int) -> list[AccessRecord]:
        """Up to ``limit`` records not yet exported to the national Min Log, oldest first."""

    async def mark_exported(self, ids: Sequence[str], at: datetime) -> None:
        """Note that the records ``ids`` were exported to the national Min Log at ``at``."""

    async def aclose(self) -> None:
        """Release the store (connections, pool)."""


def open_access_log(url: str) -> AccessLog:
    """The access record store for ``url``.

    ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` open an embedded SQLite file
    (created, or migrated from an older schema, as needed); ``postgresql://…`` and ``postgres://…``
    use PostgreSQL through a connection pool that opens on first use.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise ValueError("a SQLite access log URL needs a path: sqlite:///relative.db or sqlite:////absolute.db")
        return SqliteAccessLog(Path(url.removeprefix("sqlite:///")))
    if scheme in {"postgresql", "postgres"}:
        return PostgresAccessLog(url)
    # Only the scheme is named: the rest of the URL may hold a password.
    raise ValueError(
        f"unsupported access log URL scheme {scheme!r}: expected sqlite:///path.db or postgresql://host/database"
    )
