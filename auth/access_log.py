"""The access record: one durable entry per patient a request touches (the patient's Min Log).

Written by the consent gate after execution and before the response leaves. If the write fails the
request fails closed: no record, no data. The embedded default is SQLite in WAL mode with
``synchronous=FULL`` (the write is on disk when ``write`` returns); the store is chosen by URL.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """Who accessed which patient's data, when, and with what outcome."""

    id: str
    at: datetime
    request_id: str
    actor_kind: str
    actor_id: str
    """The actor's identifier: a citizen's CPR number or a professional's autorisations-ID."""
    actor_name: str | None
    organisation_sor: str | None
    client_id: str | None
    on_behalf_of: str | None
    patient_cpr: str
    requested: tuple[str, ...]
    returned: tuple[str, ...]
    denied: tuple[str, ...]
    withheld: tuple[str, ...]
    operation_hash: str
    operation_name: str | None


class AccessLog(Protocol):
    """A durable store of access records."""

    async def write(self, records: Sequence[AccessRecord]) -> None:
        """Store ``records`` durably, or raise."""

    async def for_patient(self, cpr: str, limit: int = 100) -> list[AccessRecord]:
        """The newest records about patient ``cpr``."""

    async def aclose(self) -> None:
        """Release the store."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS access_record (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT,
    organisation_sor TEXT,
    client_id TEXT,
    on_behalf_of TEXT,
    patient_cpr TEXT NOT NULL,
    requested TEXT NOT NULL,
    returned TEXT NOT NULL,
    denied TEXT NOT NULL,
    withheld TEXT NOT NULL,
    operation_hash TEXT NOT NULL,
    operation_name TEXT
);
CREATE INDEX IF NOT EXISTS access_record_patient_at ON access_record (patient_cpr, at);
"""

_COLUMNS = tuple(AccessRecord.__dataclass_fields__)
_LISTS = {"requested", "returned", "denied", "withheld"}


class SqliteAccessLog:
    """Access records in an embedded SQLite database (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    async def write(self, records: Sequence[AccessRecord]) -> None:
        if records:
            await asyncio.to_thread(self._write, records)

    def _write(self, records: Sequence[AccessRecord]) -> None:
        rows = [tuple(_to_column(name, getattr(r, name)) for name in _COLUMNS) for r in records]
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    f"INSERT INTO access_record ({', '.join(_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    async def for_patient(self, cpr: str, limit: int = 100) -> list[AccessRecord]:
        return await asyncio.to_thread(self._for_patient, cpr, limit)

    def _for_patient(self, cpr: str, limit: int) -> list[AccessRecord]:
        query = f"SELECT {', '.join(_COLUMNS)} FROM access_record WHERE patient_cpr = ? ORDER BY at DESC LIMIT ?"  # noqa: S608
        with self._lock:
            rows = self._db.execute(query, (cpr, limit)).fetchall()
        return [_from_row(row) for row in rows]

    async def aclose(self) -> None:
        with self._lock:
            self._db.close()


def _to_column(name: str, value: object) -> object:
    if name in _LISTS:
        return json.dumps(list(value))  # type: ignore[call-overload]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _from_row(row: Sequence[object]) -> AccessRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    for name in _LISTS:
        values[name] = tuple(json.loads(str(values[name])))
    values["at"] = datetime.fromisoformat(str(values["at"]))
    return AccessRecord(**values)  # type: ignore[arg-type]


def open_access_log(url: str) -> AccessLog:
    """The access-record store for ``url`` (``sqlite:///relative/path.db`` or ``sqlite:////abs.db``)."""
    if url.startswith("sqlite:///"):
        return SqliteAccessLog(Path(url.removeprefix("sqlite:///")))
    raise ValueError("unsupported access log URL scheme (expected sqlite:///…)")
