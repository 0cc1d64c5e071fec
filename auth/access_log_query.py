"""The shared part of both stores' ``for_patient`` query: one patient's page of the log, newest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sources.audit import AccessCursor


def patient_page(
    cpr: str,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    before: AccessCursor | None,
    placeholder: Literal["?", "%s"],
    time: Callable[[datetime], object],
) -> tuple[str, list[object]]:
    """The ``WHERE … ORDER BY … LIMIT …`` tail of a store's :meth:`AccessLog.for_patient` query, and its parameters.

    ``placeholder`` is the driver's parameter marker (``?`` for sqlite3, ``%s`` for psycopg) and
    ``time`` turns a datetime into the store's parameter (refusing naive ones). Every value goes in
    as a parameter; only constant column names and markers go into the SQL.
    """
    conditions: list[str] = [f"patient_cpr = {placeholder}"]
    parameters: list[object] = [cpr]
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
