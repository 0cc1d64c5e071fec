"""What an anonymous or refused attempt leaves behind, end to end (ADR 0007).

A request without a token that names patients is ``UNAUTHENTICATED`` before any decision or source
call and leaves one security event, no access record. An override from a caller who may not send
one (or a malformed one) is refused and leaves only a security event: no line in the patient's log,
nothing for the national Min Log, never "Spærringen blev brudt" and never the caller's text. A
vendor system asking for fields outside its registration (or without one) leaves a security event. A
record that cannot be exported (the ``anonymous`` rows older versions stored) is set aside, and the
export of everyone else keeps flowing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auth.access_log import AccessLog, AccessRecord, ExportStatus, SqliteAccessLog
from auth.export import export_pending
from auth.security_events import SecurityEventKind
from gateway.cli import app
from sandbox.population import Population
from sandbox.server import SOURCE_APPS, ThreadedSandbox
from sources.minlog import MinLogSink
from tests.auth.stored_rows import insert_raw
from tests.e2e.conftest import (
    DOCTOR_WITH_RELATIONS,
    HANS,
    Gateway,
    error_codes,
    min_log_events,
    recorded,
    security_events_of,
    settings_for,
    start_gateway,
)
from tests.entry_points import BOTH, EntryPoint
from tests.records import access_record

PETER = "0907644021"
"""Blocks OUH and Region Nordjylland with sub-units, and data from 2019-2020."""
LOG = """
query($cpr: CPR!) { patient(cpr: $cpr) { accessLog(first: 100) { nodes { outcome summary override { reason } } } } }
"""
MARKER = "Skrevet af en anden end en sundhedsperson "
REASON = (MARKER * 12)[:500]


def upstream_requests(sandbox: ThreadedSandbox) -> int:
    """Requests every source but Min Log received (the gateway's exporter talks to Min Log on its own)."""
    return sum(recorded(sandbox, name) for name in SOURCE_APPS if name != "minlog")


def aliased(cprs: list[str]) -> str:
    """One request naming each of ``cprs`` with the same override."""
    fields = " ".join(f'p{n}: patient(cpr: "{cpr}", override: $o) {{ cpr }}' for n, cpr in enumerate(cprs))
    return f"query($o: OverrideInput) {{ {fields} }}"


async def records_of(log: AccessLog, cprs: list[str]) -> list[AccessRecord]:
    return [r for cpr in cprs for r in await log.for_patient(cpr, limit=100)]


@pytest.fixture
async def gateway(sandbox: ThreadedSandbox, tmp_path: Path, entry_point: EntryPoint) -> AsyncIterator[Gateway]:
    """The gateway, with its background export slowed down so these tests export by hand."""
    store = SqliteAccessLog(tmp_path / "access.db")
    settings = settings_for(sandbox, tmp_path, minlog_export_interval_s=3600)
    async for running in start_gateway(sandbox, settings, store):
        yield running.via(entry_point)
    await store.aclose()


@BOTH
async def test_no_token_naming_a_patient_is_unauthenticated_before_anything_and_leaves_no_record(
    gateway: Gateway,
) -> None:
    body = await gateway.graphql(f'{{ patient(cpr: "{PETER}") {{ cpr }} }}')

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("UNAUTHENTICATED", None)]
    assert upstream_requests(gateway.sandbox) == 0, "no decision input and no data was asked for"
    assert await gateway.access_log.for_patient(PETER) == []
    assert (await gateway.access_log.export_status()).pending == 0, "nothing for Min Log"
    (event,) = await security_events_of(gateway.access_log)
    assert (event.kind, event.actor, event.patients) == (SecurityEventKind.UNAUTHENTICATED, "anonymous", 1)
    assert PETER not in repr(event)


@pytest.mark.parametrize("who", ["anonymous", "citizen"])
async def test_an_override_nobody_may_send_never_reads_as_a_broken_block_anywhere(
    gateway: Gateway, population: Population, minlog_sink: MinLogSink, who: str
) -> None:
    targets = [PETER, *(c for c in sorted(population.persons) if c not in (PETER, HANS))][:30]
    token = gateway.citizen(HANS) if who == "citizen" else None

    body = await gateway.graphql(aliased(targets), token, o={"ground": "NOT_CONTACTABLE", "reason": REASON})
    report = await export_pending(gateway.access_log, minlog_sink)

    expected = "UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"
    assert body["data"] == {f"p{n}": None for n in range(30)}
    assert {code for code, _ in error_codes(body)} == {expected}
    assert upstream_requests(gateway.sandbox) == 0
    assert await records_of(gateway.access_log, targets) == [], "not a line in any of the 30 patients' logs"
    assert report.sent == 0 and report.set_aside == 0 and (await gateway.access_log.export_status()).pending == 0
    (event,) = await security_events_of(gateway.access_log)
    kind = SecurityEventKind.UNAUTHENTICATED if who == "anonymous" else SecurityEventKind.OVERRIDE_NOT_ALLOWED
    assert (event.kind, event.patients) == (kind, 30)
    peters_log = await gateway.graphql(LOG, gateway.citizen(PETER), cpr=PETER)
    entries = peters_log["data"]["patient"]["accessLog"]["nodes"]
    assert all(e["override"] is None for e in entries)
    assert "Spærringen blev brudt" not in str(entries) and MARKER not in str(entries)
    assert MARKER not in str(await min_log_events(gateway.sandbox, PETER))


async def test_the_short_override_of_the_report_is_bad_input_and_leaves_no_text(gateway: Gateway) -> None:
    override = '{ground: NOT_CONTACTABLE, reason: "any text"}'

    body = await gateway.graphql(
        f'{{ patient(cpr: "{PETER}", override: {override}) {{ cpr }} }}', gateway.citizen(HANS)
    )

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert await gateway.access_log.for_patient(PETER) == [], "a refused override is no line in the log"
    (event,) = await security_events_of(gateway.access_log)
    assert event.kind is SecurityEventKind.OVERRIDE_MALFORMED


async def test_a_professionals_malformed_override_leaves_only_a_security_event(gateway: Gateway) -> None:
    override = f'{{ground: NOT_CONTACTABLE, reason: "{MARKER}\\u0007"}}'

    body = await gateway.graphql(
        f'{{ patient(cpr: "{PETER}", override: {override}) {{ appointments {{ withheld }} }} }}',
        gateway.professional(DOCTOR_WITH_RELATIONS),
    )

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert upstream_requests(gateway.sandbox) == 0
    assert await gateway.access_log.for_patient(PETER) == []
    (event,) = await security_events_of(gateway.access_log)
    assert event.kind is SecurityEventKind.OVERRIDE_MALFORMED and MARKER not in repr(event)


@pytest.mark.parametrize(
    ("client", "kind"),
    [("evil-corp", SecurityEventKind.CLIENT_NOT_REGISTERED), ("epj-odense", SecurityEventKind.FIELD_NOT_ALLOWED)],
)
async def test_a_system_refused_by_its_registration_leaves_a_security_event(
    gateway: Gateway, client: str, kind: SecurityEventKind
) -> None:
    token = gateway.token(actor_kind="system", client_id=client, authorization_id=DOCTOR_WITH_RELATIONS)
    field = "patient" if client == "evil-corp" else "diagnoses"
    query = (
        f'{{ patient(cpr: "{PETER}") {{ cpr }} }}'
        if client == "evil-corp"
        else f'{{ patient(cpr: "{PETER}") {{ diagnoses {{ complete }} }} }}'
    )

    body = await gateway.graphql(query, token)

    assert ("FORBIDDEN", None) in error_codes(body)
    assert body["errors"][0]["extensions"]["field"].endswith(f".{field}")
    (event,) = await security_events_of(gateway.access_log)
    assert (event.kind, event.client_id, event.patients) == (kind, client, 1)
    assert PETER not in repr(event)
    records = await gateway.access_log.for_patient(PETER)
    assert [r.denied for r in records] == ([] if client == "evil-corp" else [("diagnoses",)])


async def test_an_override_that_found_nothing_blocked_is_an_ordinary_access(gateway: Gateway) -> None:
    override = {"ground": "PATIENT_CONSENT", "reason": "Patienten gav samtykke ved sengen"}

    body = await gateway.graphql(
        'query($o: OverrideInput) { patient(cpr: "' + HANS + '", override: $o) { appointments { withheld } } }',
        gateway.professional(DOCTOR_WITH_RELATIONS),
        o=override,
    )

    assert error_codes(body) == []
    (record,) = await gateway.access_log.for_patient(HANS)
    assert (record.outcome, record.override_ground, record.override_reason) == ("accessed", None, None)


async def test_export_of_every_other_record_flows_past_an_old_anonymous_row(
    gateway: Gateway, minlog_sink: MinLogSink, tmp_path: Path
) -> None:
    await gateway.graphql(f'{{ patient(cpr: "{HANS}") {{ cpr }} }}', gateway.citizen(HANS))
    insert_raw(f"sqlite:///{tmp_path / 'access.db'}", access_record(id="old-anonymous"), actor_kind="anonymous")
    await gateway.graphql(f'{{ patient(cpr: "{HANS}") {{ cpr }} }}', gateway.citizen(HANS))

    report = await export_pending(gateway.access_log, minlog_sink)

    assert (report.sent, report.set_aside) == (2, 1)
    assert await gateway.access_log.export_status() == ExportStatus(pending=0, exported=2, set_aside=1)
    ours = {r.id for r in await gateway.access_log.for_patient(HANS)}
    arrived = {e["meta"]["tag"][0]["code"] for e in await min_log_events(gateway.sandbox, HANS)}
    assert len(ours) == 2 and ours <= arrived and "old-anonymous" not in arrived


def test_the_export_command_reports_what_it_sent_and_set_aside_without_a_traceback(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> None:
        from auth.access_log import open_access_log

        log = open_access_log(url)
        await log.write([access_record(id="fine")])
        await log.aclose()

    asyncio.run(seed())
    insert_raw(url, access_record(id="old-anonymous"), actor_kind="anonymous")
    monkeypatch.setenv("PATIENTOVERBLIK_MINLOG__BASE_URL", sandbox.url("minlog"))
    runner = CliRunner()

    exported = runner.invoke(app, ["export-access-log", "--database-url", url])
    listed = runner.invoke(app, ["dead-letters", "--database-url", url])
    retried = runner.invoke(app, ["retry-dead-letters", "--id", "old-anonymous", "--database-url", url])
    again = runner.invoke(app, ["export-access-log", "--database-url", url])

    assert exported.exit_code == 0 and "Traceback" not in exported.output, exported.output
    assert "exported 1 access-log entry to Min Log; set aside 1" in exported.output
    assert "old-anonymous" in listed.output and "anonymous caller" in listed.output and HANS not in listed.output
    assert "1 dead letter back in the export queue" in retried.output
    assert "exported 0 access-log entries to Min Log; set aside 1" in again.output


def test_the_security_events_command_lists_kinds_and_counts_but_no_numbers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    runner = CliRunner()

    empty = runner.invoke(app, ["security-events", "--database-url", url])

    assert empty.exit_code == 0 and "0 security events" in empty.output
