"""The DDS adapter's shared document cache (ADR 0014): a document parsed once is not fetched again, but
only an entry of the request's own index answer is looked up, and only for the patient it names.
Document reads are counted at the (simulated) repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sandbox import dds as simulated
from sandbox.clinical import LUNG_CLINIC
from sandbox.population import Population
from sources.apd import parse_apd
from sources.clinical import AppointmentStatus, ClinicalSearch
from sources.dds import DdsAppointmentSource
from sources.document_cache import DocumentCache, DocumentCachePolicy
from tests.contract.conftest import MockClientFactory, SandboxClientFactory
from tests.contract.test_dds_source import (
    CPH,
    ENDPOINT,
    MAGNUS,
    NANCY,
    _appointment,
    _entry,
    _fetched,
    _id,
    _tampered,
    world,
)

__all__ = ["world"]  # the fixture


async def test_a_second_search_reads_no_document_it_read_before(
    world: Population, sandbox_client: SandboxClientFactory
) -> None:
    world.clinical.appointments += [_appointment(n, datetime(2030, 3, n, 9, 0, tzinfo=CPH)) for n in (1, 2, 3)]
    client, controlled = sandbox_client(simulated.create_app(world), "dds")
    source = DdsAppointmentSource(client, ENDPOINT, DocumentCache())

    first = await source.appointments_for(ClinicalSearch((NANCY,)))
    second = await source.appointments_for(ClinicalSearch((NANCY, MAGNUS)))

    assert len(_fetched(controlled)) == 3
    assert second.by_patient[NANCY] == first.by_patient[NANCY]
    assert [r.path for r in controlled.recorder.requests].count("/fhir/DocumentReference") == 2  # searched live


async def test_a_new_version_is_a_new_document_and_is_read(world: Population, sandbox_client: SandboxClientFactory):
    world.clinical.appointments.append(_appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)))
    client, controlled = sandbox_client(simulated.create_app(world), "dds")
    source = DdsAppointmentSource(client, ENDPOINT, DocumentCache())
    await source.appointments_for(ClinicalSearch((NANCY,)))

    moved = datetime(2030, 3, 8, 9, 0, tzinfo=CPH)
    world.clinical.appointments[-1] = _appointment(
        1, moved, version=2, earlier_starts=[datetime(2030, 3, 1, 9, 0, tzinfo=CPH)]
    )
    [record] = (await source.appointments_for(ClinicalSearch((NANCY,)))).by_patient[NANCY]

    assert (record.version, record.start) == (2, moved)
    assert _fetched(controlled) == [simulated.document_id(_id(1), 1), simulated.document_id(_id(1), 2)]


def _lying_repository(world: Population, reads: list[str]) -> Any:
    """An index that lists Nancy's one document under whichever patient is searched."""
    [document] = simulated.documents(world)
    xml = simulated.render_apd(world, document)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/fhir/DocumentReference":
            cpr = MAGNUS if MAGNUS in request.url.params["patient.identifier"] else NANCY
            entry = _entry(
                f"/fhir/Binary/{document.id}",
                masterIdentifier={"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{document.id}"},
                subject={"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": cpr}},
            )
            return httpx.Response(200, json={"resourceType": "Bundle", "entry": [{"resource": entry}]})
        reads.append(request.url.path)
        return httpx.Response(200, content=xml, headers={"content-type": "application/xml"})

    return handler


async def test_a_cached_document_is_never_given_to_another_patient(
    world: Population, mock_client: MockClientFactory
) -> None:
    world.clinical.appointments.append(_appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)))
    reads: list[str] = []
    source = DdsAppointmentSource(mock_client(_lying_repository(world, reads), "dds"), ENDPOINT, DocumentCache())

    nancy = await source.appointments_for(ClinicalSearch((NANCY,)))
    magnus = await source.appointments_for(ClinicalSearch((MAGNUS,)))

    assert [r.id for r in nancy.by_patient[NANCY]] == [_id(1)]
    assert magnus.by_patient == {MAGNUS: []}
    assert len(magnus.problems) == 1  # the index named him; the document names Nancy
    assert len(reads) == 1


async def test_a_document_naming_another_patient_is_not_cached(
    world: Population, mock_client: MockClientFactory
) -> None:
    world.clinical.appointments.append(_appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)))
    reads: list[str] = []
    cache = DocumentCache()
    source = DdsAppointmentSource(mock_client(_lying_repository(world, reads), "dds"), ENDPOINT, cache)

    magnus = await source.appointments_for(ClinicalSearch((MAGNUS,)))

    assert magnus.by_patient == {MAGNUS: []}
    assert len(cache) == 0
    assert [r.id for r in (await source.appointments_for(ClinicalSearch((NANCY,)))).by_patient[NANCY]] == [_id(1)]
    assert len(reads) == 2


async def test_a_cached_document_of_an_excluded_organisation_is_never_returned(
    world: Population, sandbox_client: SandboxClientFactory
) -> None:
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)),
        _appointment(2, datetime(2030, 3, 2, 9, 0, tzinfo=CPH), organisation_sor=LUNG_CLINIC),
    ]
    app = _tampered(simulated.create_app(world), ignore=("author.identifier:not",))
    client, controlled = sandbox_client(app, "dds")
    source = DdsAppointmentSource(client, ENDPOINT, DocumentCache())
    everything = await source.appointments_for(ClinicalSearch((NANCY,)))

    blocked = await source.appointments_for(ClinicalSearch((NANCY,), exclude_organisations=frozenset({LUNG_CLINIC})))

    assert [r.id for r in everything.by_patient[NANCY]] == [_id(1), _id(2)]
    assert [r.id for r in blocked.by_patient[NANCY]] == [_id(1)]
    assert len(_fetched(controlled)) == 2


async def test_without_a_unique_id_a_document_is_read_every_time(world: Population, mock_client: MockClientFactory):
    world.clinical.appointments.append(_appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)))
    [document] = simulated.documents(world)
    reads: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/fhir/DocumentReference":
            entry = _entry(f"/fhir/Binary/{document.id}")  # no masterIdentifier
            return httpx.Response(200, json={"resourceType": "Bundle", "entry": [{"resource": entry}]})
        reads.append(request.url.path)
        return httpx.Response(200, content=simulated.render_apd(world, document))

    source = DdsAppointmentSource(mock_client(handler, "dds"), ENDPOINT, DocumentCache())
    for _ in range(2):
        await source.appointments_for(ClinicalSearch((NANCY,)))

    assert len(reads) == 2


def test_an_active_appointment_read_from_the_cache_is_fulfilled_once_it_has_ended(world: Population) -> None:
    start = datetime(2030, 3, 1, 9, 0, tzinfo=CPH)
    world.clinical.appointments.append(_appointment(1, start))
    [document] = simulated.documents(world)

    parsed = parse_apd(simulated.render_apd(world, document), source="dds", now=start - timedelta(days=1))

    assert parsed.appointment.status is AppointmentStatus.BOOKED
    assert parsed.as_of(start + timedelta(hours=2)).status is AppointmentStatus.FULFILLED
    assert parsed.as_of(start - timedelta(hours=2)).status is AppointmentStatus.BOOKED


def test_the_cache_keeps_its_bounds_least_recently_used_out_first(world: Population) -> None:
    world.clinical.appointments.append(_appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)))
    [document] = simulated.documents(world)
    parsed = parse_apd(simulated.render_apd(world, document), source="dds", now=datetime.now(UTC))

    by_count = DocumentCache(DocumentCachePolicy(max_entries=2, max_bytes=10_000))
    for name in ("a", "b", "c"):
        by_count.put(("dds", name, "/x"), parsed, 100)
        by_count.get(("dds", "a", "/x"))  # keep "a" recently used
    by_size = DocumentCache(DocumentCachePolicy(max_entries=100, max_bytes=250))
    for name in ("a", "b", "c"):
        by_size.put(("dds", name, "/x"), parsed, 100)
    too_big = DocumentCache(DocumentCachePolicy(max_entries=100, max_bytes=99))
    too_big.put(("dds", "a", "/x"), parsed, 100)
    off = DocumentCache(DocumentCachePolicy(max_entries=0))
    off.put(("dds", "a", "/x"), parsed, 100)

    assert [by_count.get(("dds", n, "/x")) is not None for n in "abc"] == [True, False, True]
    assert [by_size.get(("dds", n, "/x")) is not None for n in "abc"] == [False, True, True]
    assert (len(by_size), by_size.size) == (2, 200)
    assert (len(too_big), len(off)) == (0, 0)
