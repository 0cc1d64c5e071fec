"""The operator's access-log commands: purge, export to Min Log, dead letters and security events.

Registered on the ``patientoverblik`` command by :mod:`gateway.cli`. Output never holds CPR numbers,
names or upstream text: dead letters are listed by record id, time and reason; security events by
id, time, kind, the caller's non-personal identity and how many patients they named. A failure is one
line on stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import typer

from auth.access_log import AccessLog, UnreadableSecurityEvent, open_access_log
from auth.export import ExportFailed, ExportReport, export_pending
from gateway.settings import Settings
from sources.errors import SourceError

T = TypeVar("T")

DATABASE_URL_HELP = "The access log (default PATIENTOVERBLIK_DATABASE_URL)."


def purge_access_log(
    older_than_days: int = typer.Option(730, min=1, help="Delete entries older than this many days (by law: 730)."),
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
) -> None:
    """Delete Min Log entries (and security events) past their retention: two years by default (domain.md §1.8)."""
    cut = datetime.now(UTC) - timedelta(days=older_than_days)
    deleted = _run(database_url, lambda store: store.purge(cut))
    typer.echo(
        f"deleted {counted(deleted, 'access-log entry', 'access-log entries')} older than {cut:%Y-%m-%d %H:%M} UTC"
    )


def export_access_log(
    database_url: str | None = typer.Option(None, help=DATABASE_URL_HELP),
) -> None:
    """Send every pending access record to the national Min Log sink now; set aside what it can never take."""
    settings = Settings()
    if settings.minlog is None:
        typer.echo("No Min Log sink is configured (PATIENTOVERBLIK_MINLOG).", err=True)
        raise typer.Exit(2)
    report, failure = _run(database_url, lambda store: _export(store, settings), settings)
    typer.echo(
        f"exported {counted(report.sent, 'access-log entry', 'access-log entries')} to Min Log; "
        f"set aside {report.set_aside}"
    )
    if report.set_aside:
        typer.echo("list them with `patientoverblik dead-letters`; retry with `patientoverblik retry-dead-letters`")
    if failure is not None:
        typer.echo(f"Min Log did not answer ({failure}); the rest stay pending for the next run.", err=True)
        raise typer.Exit(1)


async def _export(store: AccessLog, settings: Settings) -> tuple[ExportReport, str | None]:
    from sources.registry import build_sources

    sources = build_sources(settings.source_configs(), observer=settings.minlog_observer)
    try:
        assert sources.minlog is not None
        return await export_pending(store, sources.minlog, open_grace_s=settings.minlog_open_grace_s), None
    except ExportFailed as failed:
        cause = failed.cause
        return failed.report, cause.source if isinstance(cause, SourceError) else type(cause).__name__
    finally:
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
) -> None:
    """Put dead letters back in the export queue, all of them or by id; the next export sends them."""
    if all_ == bool(record_id):
        typer.echo("Give either --all or one or more --id.", err=True)
        raise typer.Exit(2)
    ids = None if all_ else record_id
    retried = _run(database_url, lambda store: store.retry_dead_letters(ids))
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


COMMANDS: dict[str, Callable[..., None]] = {
    "purge-access-log": purge_access_log,
    "export-access-log": export_access_log,
    "dead-letters": dead_letters,
    "retry-dead-letters": retry_dead_letters,
    "security-events": security_events,
}
"""The commands :mod:`gateway.cli` registers, by name."""


def _run(database_url: str | None, use: Callable[[AccessLog], Awaitable[T]], settings: Settings | None = None) -> T:
    """Open the store, run ``use`` on it, close it; a store that cannot be used is one line and exit 1."""
    url = database_url or (settings or Settings()).database_url
    try:
        store = open_access_log(url)
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
