"""What both access-log stores share: a record as a row and back, and the rows export cannot use.

A row is read back strictly: every closed field must hold a member of its enum. A row that does not
(an ``anonymous`` actor kind written by an older version, a category a newer version added) is never
turned into an :class:`~sources.audit.AccessRecord`. The citizen's log skips it (and logs a count);
export gets it as an :class:`UnreadableRecord` and sets it aside with the reason, so it cannot stall
the export and is never lost.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from sources.audit import (
    CATEGORY_FIELDS,
    RECORD_FIELDS,
    AccessActivity,
    AccessCursor,
    AccessLogPage,
    AccessorKind,
    AccessOutcome,
    AccessRecord,
    ActorKind,
    OverrideGround,
)
from sources.categories import DataCategory

logger = logging.getLogger(__name__)

COLUMNS = RECORD_FIELDS
"""The record's columns, in the order rows are written and read."""
LISTS = frozenset(CATEGORY_FIELDS)
"""The columns holding a list of categories."""
READABLE_ACTOR_KINDS = tuple(kind.value for kind in AccessorKind)
TEXT_FIELDS = {
    f.name: f.type == "str | None" for f in dataclass_fields(AccessRecord) if f.type in ("str", "str | None")
}
"""The record's text columns, each with whether it may be null."""
"""The actor kinds a readable row has; the citizen's log asks only for these rows."""

NO_TIME = datetime(1, 1, 2, tzinfo=UTC)
"""A time before every record: "open records opened before it" are none."""

E = TypeVar("E", bound=StrEnum)


class UnreadableRow(ValueError):
    """A stored row holds a value outside the vocabulary; ``field`` names the column, never the value."""

    def __init__(self, field: str, reason: str | None = None) -> None:
        super().__init__(reason or f"stored record has a value outside the vocabulary in {field}")
        self.field = field


ANONYMOUS_ROW = "stored record of an anonymous caller (no longer kept: a security event stands for such attempts)"
"""Why a row an older version wrote for a caller without a token is set aside (ADR 0007)."""


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A pending row export cannot turn into a record: it is set aside with ``reason``."""

    id: str
    reason: str


PendingRecord = AccessRecord | UnreadableRecord
"""What export gets from the store: a record to send, or a row to set aside at once."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record set aside from export (dead letter), as the operator lists it: no CPR, no names.

    Listed whatever its row holds: a time that cannot be read is ``None``, so the operator still sees
    the letter and can retry it by id.
    """

    id: str
    at: datetime | None
    """When the access happened (aware UTC); ``None`` when the stored time cannot be read."""
    set_aside_at: datetime | None
    """When export set it aside (aware UTC); ``None`` when the stored time cannot be read."""
    reason: str


def dead_letter_of(row: Sequence[object], at: Callable[[object], datetime]) -> DeadLetter:
    """The dead letter of one ``(id, at, set_aside_at, set_aside_reason)`` row, whatever it holds."""
    record_id, accessed, set_aside_at, reason = row
    return DeadLetter(str(record_id), lenient_time(accessed, at), lenient_time(set_aside_at, at), str(reason or ""))


def lenient_time(value: object, at: Callable[[object], datetime]) -> datetime | None:
    """``value`` read by the store's time reader ``at``, or ``None`` when it cannot be read."""
    try:
        return at(value)
    except (ValueError, TypeError, OverflowError):
        return None


def page_of(rows: Sequence[Mapping[str, object]], limit: int, at: Callable[[object], datetime]) -> AccessLogPage:
    """One page of a patient's log from the ``limit`` + 1 rows its query read, newest first.

    The page is the first ``limit`` rows; the records are the readable ones among them (the others
    are skipped and counted in the log), and the cursor and "more follow" come from the rows as read,
    so paging stays exact whatever the rows hold: a page may show fewer than ``limit`` entries, never
    skips one and never shows one twice.
    """
    rows_read = rows[:limit]
    end = None
    for row in reversed(rows_read):  # the query reads only rows whose time can be read: the last one
        moment = lenient_time(row["at"], at)
        if moment is not None:
            end = (moment, str(row["id"]))
            break
    return AccessLogPage(tuple(readable(rows_read, at)), end, len(rows) > limit)


def to_values(record: AccessRecord) -> dict[str, object]:
    """The record's column values: enums as their values, category lists as lists of strings."""
    values: dict[str, object] = {}
    for name in COLUMNS:
        value = getattr(record, name)
        if name in LISTS:
            value = [category.value for category in value]
        elif isinstance(value, StrEnum):
            value = value.value
        values[name] = value
    return values


def from_values(values: Mapping[str, object], at: datetime) -> AccessRecord:
    """The record of one row (``at`` already parsed); raises :class:`UnreadableRow` naming a bad column."""
    fields = dict(values)
    fields["at"] = at
    for name, optional in TEXT_FIELDS.items():
        value = values[name]
        if not isinstance(value, str) and not (optional and value is None):
            raise UnreadableRow(name)
    fields["activity"] = _member(AccessActivity, "activity", values["activity"])
    fields["outcome"] = _member(AccessOutcome, "outcome", values["outcome"])
    if values["actor_kind"] == ActorKind.ANONYMOUS.value:
        raise UnreadableRow("actor_kind", ANONYMOUS_ROW)
    fields["actor_kind"] = _member(AccessorKind, "actor_kind", values["actor_kind"])
    ground = values["override_ground"]
    fields["override_ground"] = None if ground is None else _member(OverrideGround, "override_ground", ground)
    for name in LISTS:
        items = values[name]
        if not isinstance(items, list | tuple):  # JSON arrays (SQLite) and text[] (PostgreSQL) alike
            raise UnreadableRow(name)
        fields[name] = tuple(_member(DataCategory, name, item) for item in items)
    try:
        return AccessRecord(**fields)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise UnreadableRow("a column") from exc


def readable(rows: Sequence[Mapping[str, object]], at: Callable[[object], datetime]) -> list[AccessRecord]:
    """The records of ``rows`` that can be read; the others are skipped and counted in the log."""
    records: list[AccessRecord] = []
    skipped = 0
    for row in rows:
        try:
            records.append(from_values(row, at(row["at"])))
        except (ValueError, TypeError, OverflowError):  # UnreadableRow, or a time that does not parse
            skipped += 1
    if skipped:
        logger.warning("access log: %d stored records outside the vocabulary were not shown", skipped)
    return records


def pending(rows: Sequence[Mapping[str, object]], at: Callable[[object], datetime]) -> list[PendingRecord]:
    """The rows of the export queue: records, or unreadable rows with the reason to set them aside."""
    found: list[PendingRecord] = []
    for row in rows:
        try:
            found.append(from_values(row, at(row["at"])))
        except (ValueError, TypeError, OverflowError) as exc:
            reason = str(exc) if isinstance(exc, UnreadableRow) else "stored record has an unreadable time"
            found.append(UnreadableRecord(str(row["id"]), reason))
    return found


def _member(enum: type[E], field: str, value: object) -> E:
    if not isinstance(value, str):
        raise UnreadableRow(field)
    try:
        return enum(value)
    except ValueError:
        raise UnreadableRow(field) from None


@dataclass(frozen=True, slots=True)
class ExportStatus:
    """How many records wait for export, went out, and were set aside."""

    pending: int
    exported: int
    set_aside: int


class RecordsOfPages(ABC):
    """What both stores share on the read side: ``for_patient`` is the readable records of ``log_page``."""

    @abstractmethod
    async def log_page(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> AccessLogPage:
        """One page of up to ``limit`` rows about ``cpr`` (see :class:`auth.access_log.AccessLog`)."""

    async def for_patient(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> list[AccessRecord]:
        """The readable records of :meth:`log_page`."""
        page = await self.log_page(cpr, since=since, until=until, limit=limit, before=before)
        return list(page.records)
