"""The SQL both stores share: one patient's page of the log, and the export queue's states.

A record's export state lives in three columns: ``exported_at`` (sent and confirmed by the sink),
``set_aside_at`` with ``set_aside_reason`` (a dead letter: the mapping or the sink refused it), or
neither (pending). Only constant column names and driver placeholders go into the SQL; every value
is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from auth.access_log_rows import COLUMNS, READABLE_ACTOR_KINDS
from sources.audit import AccessCursor

Placeholder = Literal["?", "%s"]

SELECT_RECORDS = f"SELECT {', '.join(COLUMNS)} FROM access_record"  # noqa: S608 - column names are constants
PENDING = "exported_at IS NULL AND set_aside_at IS NULL"
"""The export queue: neither exported nor set aside."""
SET_ASIDE = "set_aside_at IS NOT NULL AND exported_at IS NULL"
"""The dead letters."""
REASON_MAX = 200
"""A set-aside reason is cut to this many characters."""


def patient_page(
    cpr: str,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    before: AccessCursor | None,
    placeholder: Placeholder,
    time: Callable[[datetime], object],
) -> tuple[str, list[object]]:
    """The ``WHERE … ORDER BY … LIMIT …`` tail of a store's :meth:`AccessLog.for_patient` query, and its parameters.

    ``placeholder`` is the driver's parameter marker (``?`` for sqlite3, ``%s`` for psycopg) and
    ``time`` turns a datetime into the store's parameter (refusing naive ones). Rows whose actor kind
    is outside the vocabulary (the ``anonymous`` rows of older versions) are not part of the log.
    """
    kinds = ", ".join(placeholder for _ in READABLE_ACTOR_KINDS)
    conditions: list[str] = [f"patient_cpr = {placeholder}", f"actor_kind IN ({kinds})"]
    parameters: list[object] = [cpr, *READABLE_ACTOR_KINDS]
    if since is not None:
        conditions.append(f"at >= {placeholder}")
        parameters.append(time(since))
    if until is not None:
        conditions.append(f"at < {placeholder}")
        parameters.append(time(until))
    if before is not None:
        conditions.append(f"(at, id) < ({placeholder}, {placeholder})")
        parameters += [time(before[0]), before[1]]
    tail = f"WHERE {' AND '.join(conditions)} ORDER BY at DESC, id DESC LIMIT {placeholder}"
    return tail, [*parameters, limit]


def pending_query(placeholder: Placeholder) -> str:
    """Up to N pending records, oldest first (the order export keeps per patient)."""
    return f"{SELECT_RECORDS} WHERE {PENDING} ORDER BY at, id LIMIT {placeholder}"


def set_aside_statement(placeholder: Placeholder) -> str:
    """Set one pending record aside: parameters ``(at, reason, id)``."""
    p = placeholder
    return f"UPDATE access_record SET set_aside_at = {p}, set_aside_reason = {p} WHERE id = {p} AND {PENDING}"  # noqa: S608


def dead_letters_query(placeholder: Placeholder) -> str:
    """Up to N dead letters, oldest access first: ``id, at, set_aside_at, set_aside_reason``."""
    return (
        f"SELECT id, at, set_aside_at, set_aside_reason FROM access_record WHERE {SET_ASIDE} "  # noqa: S608
        f"ORDER BY at, id LIMIT {placeholder}"
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
