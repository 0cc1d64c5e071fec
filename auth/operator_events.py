"""Operator events: who ran an access-log command that changes the log, when, and how many records it touched.

Purging records past their retention, exporting to Min Log by hand and putting dead letters back in
the export queue change what the access log holds or where its records went; each run leaves one
:class:`OperatorEvent` in the access-log database (table ``operator_event``), listed with
``patientoverblik operator-events``. An event holds the command, the operator (``--operator``, or the
OS user running the command), the OS user and host, how many records the command deleted, exported
or put back, and a short detail the command writes (``older than 2024-11-30T00:00Z``) — never a CPR
number, a name or upstream text. Operator events are not purged with the records they count: they
are the trace of the purge itself.

The table is declared with the others in :mod:`auth.access_log_tables`; the first migration makes it
where an earlier version had not yet made it on first use.
"""

from __future__ import annotations

import getpass
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sources.ids import new_hex_id


class OperatorCommand(StrEnum):
    """The access-log commands that leave an operator event."""

    PURGE = "purge-access-log"
    EXPORT = "export-access-log"
    RETRY_DEAD_LETTERS = "retry-dead-letters"


OPERATOR_NAME = re.compile(r"^[\w.@ -]{1,64}$")
"""What ``--operator`` accepts: a user name or an e-mail address, at most 64 characters."""


@dataclass(frozen=True, slots=True)
class OperatorEvent:
    """One run of an access-log command by an operator."""

    id: str
    at: datetime
    """When the command finished, aware UTC."""
    command: OperatorCommand
    operator: str
    """Who ran it, as they named themselves (``--operator``) or the OS user."""
    os_user: str
    host: str
    count: int
    """Records deleted (purge), exported (export) or put back in the queue (retry)."""
    detail: str
    """What the command says of the run, without personal data (the cut-off, records set aside, a failure)."""


def operator_event(command: OperatorCommand, operator: str | None, count: int, detail: str) -> OperatorEvent:
    """An event of ``command`` run now on this host; ``operator`` defaults to the OS user."""
    os_user = _os_user()
    return OperatorEvent(
        new_hex_id(), datetime.now(UTC), command, operator or os_user, os_user, socket.gethostname(), count, detail
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a container's arbitrary user)
        return "unknown"


OPERATOR_EVENT_COLUMNS = ("id", "at", "command", "operator", "os_user", "host", "count", "detail")
"""The ``operator_event`` table's columns, in :class:`OperatorEvent`'s order."""


def operator_insert_statement(placeholder: str) -> str:
    """``INSERT`` of one event with the driver's ``placeholder`` (``?`` or ``%s``)."""
    columns = ", ".join(OPERATOR_EVENT_COLUMNS)
    return f"INSERT INTO operator_event ({columns}) VALUES ({', '.join(placeholder for _ in OPERATOR_EVENT_COLUMNS)})"  # noqa: S608


def operator_select_statement(placeholder: str) -> str:
    """The newest ``limit`` events (one parameter), newest first."""
    columns = ", ".join(OPERATOR_EVENT_COLUMNS)
    return f"SELECT {columns} FROM operator_event ORDER BY at DESC, id DESC LIMIT {placeholder}"  # noqa: S608


def operator_event_values(event: OperatorEvent) -> tuple[object, ...]:
    """The event's column values in :data:`OPERATOR_EVENT_COLUMNS` order (``at`` as given)."""
    return tuple(
        value.value if isinstance(value, StrEnum) else value
        for value in (getattr(event, name) for name in OPERATOR_EVENT_COLUMNS)
    )


def operator_event_from_row(row: tuple[object, ...], at: datetime) -> OperatorEvent | None:
    """The event of one row (``at`` already parsed), or ``None`` for a command this version does not know."""
    values = dict(zip(OPERATOR_EVENT_COLUMNS, row, strict=True))
    try:
        command = OperatorCommand(str(values["command"]))
    except ValueError:
        return None
    return OperatorEvent(
        str(values["id"]),
        at,
        command,
        str(values["operator"]),
        str(values["os_user"]),
        str(values["host"]),
        int(str(values["count"])),
        str(values["detail"]),
    )
