"""The SQL both stores share: one patient's page of the log, the export queue's states, open records.

A record's export state lives in three columns: ``exported_at`` (sent and confirmed by the sink),
``set_aside_at`` with ``set_aside_reason`` (a dead letter: the mapping or the sink refused it), or
neither (pending). ``is_open`` marks the record of a change written *before* the change was made
(outcome ``unconfirmed``) and not yet finalised with what happened: export waits for it to be
finalised, and holds back the same patient's later records meanwhile, until it has been open for
the grace the exporter is given; then it goes as it stands ("change attempted, outcome not
confirmed"). Only constant column names and driver placeholders go into the SQL; every value is a
parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from auth.access_log_rows import COLUMNS, READABLE_ACTOR_KINDS
from sources.audit import AccessCursor

Placeholder = Literal["?", "%s"]

ReadTime = Callable[[str], str]
"""How a store selects a time column: the SQL expression of the column as its time reader takes it."""


def as_stored(column: str) -> str:
    """The column as it is stored."""
    return column


def select_records(read_time: ReadTime = as_stored) -> str:
    """``SELECT`` of every column of :data:`COLUMNS` from ``access_record``, ``at`` through ``read_time``."""
    columns = ", ".join(read_time(name) if name == "at" else name for name in COLUMNS)
    return f"SELECT {columns} FROM access_record"  # noqa: S608 - column names are constants


SELECT_RECORDS = select_records()
OPEN = "is_open"
"""The column marking an open record (the record of a change, written before the change was made)."""
PENDING = "exported_at IS NULL AND set_aside_at IS NULL"
"""The export queue: neither exported nor set aside."""
SET_ASIDE = "set_aside_at IS NOT NULL AND exported_at IS NULL"
"""The dead letters."""
REASON_MAX = 200
"""A set-aside reason is cut to this many characters."""


@dataclass(frozen=True, slots=True)
class PatientRange:
    """One patient's rows with ``since <= at < until``, as a store's SQL selects them.

    ``placeholder`` is the driver's parameter marker (``?`` for sqlite3, ``%s`` for psycopg) and
    ``time`` turns a datetime into the store's parameter (refusing naive ones). Rows whose actor kind
    is outside the vocabulary (the ``anonymous`` rows of older versions) are not part of the log, nor
    are rows whose time the store cannot read back (``time_readable``, an SQL condition on ``at``
    that holds exactly when the store's reader parses it), so every row a page reads can be a cursor.
    """

    cpr: str
    since: datetime | None
    until: datetime | None
    placeholder: Placeholder
    time: Callable[[datetime], object]
    time_readable: str

    def page(self, limit: int, before: AccessCursor | None) -> tuple[str, list[object]]:
        """The ``WHERE … ORDER BY … LIMIT …`` tail of a page query strictly after ``before``, and its parameters.

        The query asks for ``limit`` + 1 rows: the last one only tells whether more follow.
        """
        conditions, parameters = self._rows()
        if before is not None:
            conditions.append(f"(at, id) < ({self.placeholder}, {self.placeholder})")
            parameters += [self.time(before[0]), before[1]]
        tail = f"WHERE {' AND '.join(conditions)} ORDER BY at DESC, id DESC LIMIT {self.placeholder}"
        return tail, [*parameters, limit + 1]

    def count(self) -> tuple[str, list[object]]:
        """The query counting the rows every page of the range walks, and its parameters."""
        conditions, parameters = self._rows()
        return f"SELECT count(*) FROM access_record WHERE {' AND '.join(conditions)}", parameters  # noqa: S608

    def _rows(self) -> tuple[list[str], list[object]]:
        mark = self.placeholder
        kinds = ", ".join(mark for _ in READABLE_ACTOR_KINDS)
        conditions: list[str] = [f"patient_cpr = {mark}", f"actor_kind IN ({kinds})", self.time_readable]
        parameters: list[object] = [self.cpr, *READABLE_ACTOR_KINDS]
        if self.since is not None:
            conditions.append(f"at >= {mark}")
            parameters.append(self.time(self.since))
        if self.until is not None:
            conditions.append(f"at < {mark}")
            parameters.append(self.time(self.until))
        return conditions, parameters


def pending_query(placeholder: Placeholder, read_time: ReadTime = as_stored) -> str:
    """Up to N pending records, oldest first (the order export keeps per patient): parameters
    ``(opened_before, limit)``.

    An open record is pending only once it was opened before ``opened_before`` (its change was never
    finalised: it goes as "outcome not confirmed"); until then it and every later record of the same
    patient wait, so each patient's records still reach the sink in the order they were made.
    """
    p = placeholder
    waiting = (
        f"SELECT 1 FROM access_record o WHERE o.{OPEN} AND o.at >= {p} "  # noqa: S608 - constants and placeholders
        "AND o.patient_cpr = access_record.patient_cpr "
        "AND o.exported_at IS NULL AND o.set_aside_at IS NULL AND (o.at, o.id) <= (access_record.at, access_record.id)"
    )
    return f"{select_records(read_time)} WHERE {PENDING} AND NOT EXISTS ({waiting}) ORDER BY at, id LIMIT {p}"


def insert_statement(values: Sequence[str], *, opened: bool) -> str:
    """Insert one record (``values``: one SQL value expression per column of :data:`COLUMNS`).

    ``opened``: the record of a change about to be made, stored open.
    """
    columns = ", ".join(COLUMNS)
    if opened:
        return f"INSERT INTO access_record ({columns}, {OPEN}) VALUES ({', '.join(values)}, TRUE)"  # noqa: S608
    return f"INSERT INTO access_record ({columns}) VALUES ({', '.join(values)})"  # noqa: S608


def finalise_statement(values: Sequence[str]) -> str:
    """Finalise an open record with the values of the record that replaces it: parameters ``finalising(row)``.

    ``values`` are the SQL value expressions of :data:`COLUMNS`, as for :func:`insert_statement`. A
    record that is not open is left alone (the statement changes no row; the caller inserts instead).
    """
    assignments = ", ".join(f"{name} = {value}" for name, value in zip(COLUMNS, values, strict=True) if name != "id")
    return f"UPDATE access_record SET {assignments}, {OPEN} = FALSE WHERE id = {values[0]} AND {OPEN}"  # noqa: S608


def finalising(row: Sequence[object]) -> tuple[object, ...]:
    """The parameters of :func:`finalise_statement` for a row in :data:`COLUMNS` order: the values, then the id."""
    return (*row[1:], row[0])


if COLUMNS[0] != "id":
    raise RuntimeError("the record's first column must be its id")


def set_aside_statement(placeholder: Placeholder) -> str:
    """Set one pending record aside: parameters ``(at, reason, id)``."""
    p = placeholder
    return f"UPDATE access_record SET set_aside_at = {p}, set_aside_reason = {p} WHERE id = {p} AND {PENDING}"  # noqa: S608


def dead_letters_query(placeholder: Placeholder, read_time: ReadTime = as_stored) -> str:
    """Up to N dead letters, oldest access first: ``id, at, set_aside_at, set_aside_reason``."""
    return (
        f"SELECT id, {read_time('at')}, {read_time('set_aside_at')}, set_aside_reason "  # noqa: S608
        f"FROM access_record WHERE {SET_ASIDE} ORDER BY at, id LIMIT {placeholder}"
    )


RETRY_ALL = f"UPDATE access_record SET set_aside_at = NULL, set_aside_reason = NULL WHERE {SET_ASIDE}"  # noqa: S608
"""Put every dead letter back in the export queue."""


def retry_statement(placeholder: Placeholder) -> str:
    """Put one dead letter back in the export queue: parameter ``(id,)``."""
    return f"{RETRY_ALL} AND id = {placeholder}"


EXPORT_STATUS = (
    "SELECT "  # noqa: S608 - constant conditions
    f"COALESCE(SUM(CASE WHEN {PENDING} THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN exported_at IS NOT NULL THEN 1 ELSE 0 END), 0), "
    f"COALESCE(SUM(CASE WHEN {SET_ASIDE} THEN 1 ELSE 0 END), 0) "
    "FROM access_record"
)
"""How many records are pending, exported and set aside."""


def reason_text(reason: str) -> str:
    """A set-aside reason as stored: one line, at most :data:`REASON_MAX` characters."""
    return " ".join(reason.split())[:REASON_MAX] or "no reason given"
