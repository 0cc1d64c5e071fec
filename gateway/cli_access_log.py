"""The operator's access-log commands: purge, export to Min Log, dead letters, security and operator events.

Registered on the ``patientoverblik`` command by :mod:`gateway.cli`. Output never holds CPR numbers,
names or upstream text: dead letters are listed by record id, time and reason; security events by
id, time, kind, the caller's non-personal identity and how many patients they named. A failure is one
line on stderr and an exit code, never a traceback. Purging, exporting and retrying leave an operator
event each (who, when, how many: :mod:`auth.operator_events`), listed by ``operator-events``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import typer

from auth.access_log import (
    AccessLog,
    AccessLogPolicy,
    UnreadableSecurityEvent,
    check_access_log_url,
    open_access_log,
)
from auth.access_log_policy import OPERATOR_STATEMENT_TIMEOUT_S
from auth.export import ExportFailed, ExportReport, export_pending
from auth.export_lease import ExportLease
from auth.migrate import current_revision, head_revision
from auth.migrate import migrate as run_migrations
from auth.operator_events import OPERATOR_NAME, OperatorCommand, operator_event
from gateway.config import settings_or_exit
from gateway.settings import Settings
from sources.errors import SourceError

T = TypeVar("T")

DATABASE_URL_HELP = "The access log (default PATIENTOVERBLIK_DATABASE_URL)."
OPERATOR_HELP = "Who runs the command, for the operator record (default: the OS user)."
LEASE_HELD = "lease held"
"""Why a manual export sent nothing: a running gateway holds the export lease (ADR 0026)."""


def purge_access_log(
    older_than_days: int = typer.Option(730, min=1, help="Delete entries older than this many days (by law: 730)."),
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
    operator: str | None = typer.Option(None, help=OPERATOR_HELP),
) -> None:
    """Delete Min Log entries (and security events) past their retention: two years by default (domain.md §1.8).

    Leaves an operator record: who, when, how many (``patientoverblik operator-events``).
    """
    who = _operator(operator)
    cut = datetime.now(UTC) - timedelta(days=older_than_days)

    async def purge(store: AccessLog) -> int:
        deleted = await store.purge(cut)
        detail = f"older than {cut:%Y-%m-%dT%H:%MZ}"
        await store.record_operator_event(operator_event(OperatorCommand.PURGE, who, deleted, detail))
        return deleted

    deleted = _run(database_url, purge)
    typer.echo(
        f"deleted {counted(deleted, 'access-log entry', 'access-log entries')} older than {cut:%Y-%m-%d %H:%M} UTC"
    )


def export_access_log(
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
    operator: str | None = typer.Option(None, help=OPERATOR_HELP),
) -> None:
    """Send every pending access record to the national Min Log sink now; set aside what it can never take.

    Leaves an operator record: who, when, how many were sent and set aside.
    """
    who = _operator(operator)
    settings = settings_or_exit()
    if settings.minlog is None:
        typer.echo("No Min Log sink is configured (PATIENTOVERBLIK_MINLOG).", err=True)
        raise typer.Exit(2)

    async def export(store: AccessLog) -> tuple[ExportReport, str | None]:
        report, failure = await _export(store, settings)
        stopped = f"Min Log did not answer ({failure})"
        if failure == LEASE_HELD:
            stopped = "another process holds the export lease"
        detail = f"set aside {report.set_aside}" + (f"; stopped: {stopped}" if failure else "")
        await store.record_operator_event(operator_event(OperatorCommand.EXPORT, who, report.sent, detail))
        return report, failure

    report, failure = _run(database_url, export, settings)
    typer.echo(
        f"exported {counted(report.sent, 'access-log entry', 'access-log entries')} to Min Log; "
        f"set aside {report.set_aside}"
    )
    if report.set_aside:
        typer.echo("list them with `patientoverblik dead-letters`; retry with `patientoverblik retry-dead-letters`")
    if failure == LEASE_HELD:
        typer.echo("A running gateway holds the export lease and exports them; nothing was sent from here.", err=True)
        raise typer.Exit(1)
    if failure is not None:
        typer.echo(f"Min Log did not answer ({failure}); the rest stay pending for the next run.", err=True)
        raise typer.Exit(1)


async def _export(store: AccessLog, settings: Settings) -> tuple[ExportReport, str | None]:
    """Export under the export lease, as a gateway's exporter does: while a running gateway holds it, nothing."""
    from sources.registry import build_sources

    sources = build_sources(settings.source_configs(), observer=settings.minlog_observer)
    lease = ExportLease(store, ttl_s=settings.minlog_export_lease_s)
    try:
        assert sources.minlog is not None
        report = await export_pending(
            store, sources.minlog, open_grace_s=settings.minlog_open_grace_s, may_send=lease.hold
        )
        return report, None if lease.held else LEASE_HELD
    except ExportFailed as failed:
        cause = failed.cause
        return failed.report, cause.source if isinstance(cause, SourceError) else type(cause).__name__
    finally:
        await lease.release()
        await sources.aclose()


def dead_letters(
    limit: int = typer.Option(100, min=1, help="At most this many, oldest access first."),
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
) -> None:
    """List access records set aside from the Min Log export: id, time, when set aside, reason.

    Every dead letter is listed, whatever its row holds: a time that cannot be read says so.
    """
    letters = _run(database_url, lambda store: store.dead_letters(limit))
    for letter in letters:
        typer.echo(f"{letter.id}  {_when(letter.at)}  set aside {_when(letter.set_aside_at)}")
        typer.echo(f"    {letter.reason or 'no reason given'}")
    more = " (more exist: raise --limit)" if len(letters) == limit else ""
    typer.echo(f"{counted(len(letters), 'dead letter')}{more}")


def retry_dead_letters(
    record_id: list[str] = typer.Option(  # noqa: B008 - typer's declaration style
        [], "--id", help="A dead letter's record id (repeatable)."
    ),
    all_: bool = typer.Option(False, "--all", help="Every dead letter."),
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
    operator: str | None = typer.Option(None, help=OPERATOR_HELP),
) -> None:
    """Put dead letters back in the export queue, all of them or by id; the next export sends them.

    Leaves an operator record: who, when, how many went back.
    """
    if all_ == bool(record_id):
        typer.echo("Give either --all or one or more --id.", err=True)
        raise typer.Exit(2)
    who = _operator(operator)
    ids = None if all_ else record_id

    async def retry(store: AccessLog) -> int:
        retried = await store.retry_dead_letters(ids)
        detail = "all" if ids is None else f"{len(ids)} ids asked for"
        await store.record_operator_event(operator_event(OperatorCommand.RETRY_DEAD_LETTERS, who, retried, detail))
        return retried

    retried = _run(database_url, retry)
    typer.echo(f"{counted(retried, 'dead letter')} back in the export queue")


def security_events(
    limit: int = typer.Option(100, min=1, help="At most this many, newest first."),
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
) -> None:
    """List security events (anonymous or refused attempts): id, time, kind, caller, patients named.

    A stored event this version cannot read is listed with why, never skipped.
    """
    events = _run(database_url, lambda store: store.security_events(limit))
    for event in events:
        if isinstance(event, UnreadableSecurityEvent):
            typer.echo(f"{event.id}  {_when(event.at)}  unreadable: {event.reason}")
            continue
        client = f"  client {event.client_id}" if event.client_id else ""
        typer.echo(
            f"{event.id}  {_when(event.at)}  {event.kind.value}  {event.actor}{client}  "
            f"patients {event.patients}  request {event.request_id}"
        )
    typer.echo(counted(len(events), "security event"))


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, plural unless the count is one: "1 dead letter", "2 dead letters"."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}" if moment is not None else "(unreadable time)"


def operator_events(
    limit: int = typer.Option(100, min=1, help="At most this many, newest first."),
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
) -> None:
    """List operator records: who purged, exported or retried, when, on which host, how many records."""
    events = _run(database_url, lambda store: store.operator_events(limit))
    for event in events:
        typer.echo(
            f"{event.id}  {_when(event.at)}  {event.command.value}  {event.operator} "
            f"({event.os_user}@{event.host})  {event.count}  {event.detail}"
        )
    typer.echo(counted(len(events), "operator event"))


def migrate(
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
    check: bool = typer.Option(False, "--check", help="Only say whether it is current: exit 1 if it is behind."),
) -> None:
    """Bring the access log's database to this version's schema (alembic revisions, ADR 0026).

    Safe to run while other gateway processes serve and start: one process migrates at a time, in one
    transaction. The gateway also migrates when it opens the database, unless
    PATIENTOVERBLIK_ACCESS_LOG__MIGRATE=false.
    """
    url = database_url or settings_or_exit().database_url
    try:
        check_access_log_url(url)
        if check:
            current = current_revision(url)
        else:
            before, current = run_migrations(url)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--database-url") from None
    except Exception as exc:  # one line for the operator; the class only (a message may hold a URL)
        typer.echo(f"The access log could not be migrated ({type(exc).__name__}).", err=True)
        raise typer.Exit(1) from None
    head = head_revision()
    if check:
        typer.echo(f"access log at revision {current or 'none'}; this version needs {head}")
        if current != head:
            raise typer.Exit(1)
        return
    moved = "already current" if before == current else f"was {before or 'none'}"
    typer.echo(f"access log at revision {current} ({moved})")


def _operator(value: str | None) -> str | None:
    """``--operator`` as given, when it is a user name or an e-mail address (:data:`OPERATOR_NAME`)."""
    if value is not None and not OPERATOR_NAME.fullmatch(value):
        raise typer.BadParameter("a user name or e-mail address of at most 64 characters", param_hint="--operator")
    return value


COMMANDS: dict[str, Callable[..., None]] = {
    "purge-access-log": purge_access_log,
    "export-access-log": export_access_log,
    "dead-letters": dead_letters,
    "retry-dead-letters": retry_dead_letters,
    "security-events": security_events,
    "operator-events": operator_events,
    "migrate": migrate,
}
"""The commands :mod:`gateway.cli` registers, by name."""


def _run(database_url: str | None, use: Callable[[AccessLog], Awaitable[T]], settings: Settings | None = None) -> T:
    """Open the store, run ``use`` on it, close it; a store that cannot be used is one line and exit 1."""
    url = database_url or (settings or settings_or_exit()).database_url
    try:
        # An operator's command may take minutes (a purge of two years); a silent network still ends it.
        store = open_access_log(url, AccessLogPolicy(statement_timeout_s=OPERATOR_STATEMENT_TIMEOUT_S))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--database-url") from None

    async def run() -> T:
        try:
            return await use(store)
        finally:
            await store.aclose()

    try:
        return asyncio.run(run())
    except Exception as exc:  # one line for the operator; the class only (a message may hold a URL)
        typer.echo(f"The access log could not be used ({type(exc).__name__}).", err=True)
        raise typer.Exit(1) from None
