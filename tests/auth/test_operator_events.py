"""Operator records: purging, exporting and retrying dead letters leave who, when and how many in the
access-log database, on SQLite and PostgreSQL alike, listed by ``patientoverblik operator-events``;
never a CPR number or a name."""

from __future__ import annotations

import asyncio
import getpass
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from auth.access_log import AccessLog, open_access_log
from auth.export_lease import ExportLease
from auth.operator_events import OperatorCommand, OperatorEvent, operator_event
from gateway.cli import app
from tests.records import access_record, changed

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def test_events_read_back_newest_first_field_for_field(access_log: AccessLog) -> None:
    assert await access_log.operator_events() == []
    first = OperatorEvent("e1", T0, OperatorCommand.PURGE, "drift@region.dk", "root", "gw-1", 12, "older than x")
    second = OperatorEvent(
        "e2", T0 + timedelta(hours=1), OperatorCommand.EXPORT, "ops", "ops", "gw-2", 3, "set aside 0"
    )

    await access_log.record_operator_event(first)
    await access_log.record_operator_event(second)

    assert await access_log.operator_events() == [second, first]
    assert await access_log.operator_events(limit=1) == [second]


async def test_an_event_is_kept_when_the_records_are_purged(access_log: AccessLog) -> None:
    await access_log.write([changed(access_record(), at=T0)])
    event = operator_event(OperatorCommand.PURGE, None, 1, "older than now")
    await access_log.record_operator_event(event)

    await access_log.purge(datetime.now(UTC) + timedelta(days=1))

    assert [e.id for e in await access_log.operator_events()] == [event.id]


def test_an_event_names_the_os_user_and_host_when_no_operator_is_given() -> None:
    event = operator_event(OperatorCommand.RETRY_DEAD_LETTERS, None, 0, "all")

    assert (event.operator, event.os_user, event.host) == (getpass.getuser(), getpass.getuser(), socket.gethostname())


def events(url: str) -> list[OperatorEvent]:
    async def read() -> list[OperatorEvent]:
        store = open_access_log(url)
        try:
            return await store.operator_events()
        finally:
            await store.aclose()

    return asyncio.run(read())


def seed(url: str, *records: datetime) -> None:
    async def write() -> None:
        store = open_access_log(url)
        await store.write([changed(access_record(), id=uuid.uuid4().hex, at=at) for at in records])
        await store.aclose()

    asyncio.run(write())


def test_the_purge_command_leaves_who_when_and_how_many(access_log_url: str) -> None:
    now = datetime.now(UTC)
    seed(access_log_url, now - timedelta(days=800), now - timedelta(days=900), now - timedelta(days=10))

    result = CliRunner().invoke(app, ["purge-access-log", "--database-url", access_log_url, "--operator", "drift"])

    assert result.exit_code == 0, result.output
    (event,) = events(access_log_url)
    assert (event.command, event.operator, event.os_user, event.count) == (
        OperatorCommand.PURGE,
        "drift",
        getpass.getuser(),
        2,
    )
    assert event.detail.startswith("older than ")
    assert now - timedelta(minutes=1) < event.at < datetime.now(UTC)


def test_an_export_that_stops_is_recorded_with_why(access_log_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(access_log_url, datetime.now(UTC))
    monkeypatch.setenv("PATIENTOVERBLIK_MINLOG__BASE_URL", "http://127.0.0.1:9")  # nothing listens on discard
    monkeypatch.setenv("PATIENTOVERBLIK_MINLOG__TIMEOUT_S", "0.5")

    result = CliRunner().invoke(app, ["export-access-log", "--database-url", access_log_url])

    assert result.exit_code == 1
    (event,) = events(access_log_url)
    assert (event.command, event.count) == (OperatorCommand.EXPORT, 0)
    assert event.detail == "set aside 0; stopped: Min Log did not answer (minlog)"


def test_an_export_while_a_running_gateway_holds_the_lease_sends_nothing_and_says_so(
    access_log_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(access_log_url, datetime.now(UTC))
    monkeypatch.setenv("PATIENTOVERBLIK_MINLOG__BASE_URL", "http://127.0.0.1:9")  # never asked

    async def a_gateway_exports() -> None:
        store = open_access_log(access_log_url)
        try:
            assert await ExportLease(store, holder="gw-1:4242:abcd").hold()
        finally:
            await store.aclose()

    asyncio.run(a_gateway_exports())
    result = CliRunner().invoke(app, ["export-access-log", "--database-url", access_log_url])

    assert result.exit_code == 1
    assert "A running gateway holds the export lease" in result.output
    (event,) = events(access_log_url)
    assert (event.count, event.detail) == (0, "set aside 0; stopped: another process holds the export lease")


def test_retrying_dead_letters_is_recorded_and_listed(access_log_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["retry-dead-letters", "--all", "--database-url", access_log_url, "--operator", "a b"])
    assert result.exit_code == 0, result.output

    listing = runner.invoke(app, ["operator-events", "--database-url", access_log_url])

    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[-1] == "1 operator event"
    assert " retry-dead-letters  a b (" in lines[0]
    assert lines[0].endswith("  0  all")


@pytest.mark.parametrize("operator", ["", "x" * 65, "drift; DROP TABLE", "line\nbreak"])
def test_an_operator_name_that_is_not_one_is_refused_before_anything_runs(tmp_path: object, operator: str) -> None:
    url = f"sqlite:///{tmp_path}/access.db"

    result = CliRunner().invoke(app, ["purge-access-log", "--database-url", url, "--operator", operator])

    assert result.exit_code == 2
    assert "--operator" in result.output
