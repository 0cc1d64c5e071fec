"""DDS documents parsed for one request serve the next ones (ADR 0014), while the index is still searched
live per request with the caller's blocks: counted at the simulated DDS, per kind of request."""

from __future__ import annotations

from typing import Any

from sandbox.dds import documents
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, Gateway, error_codes
from tests.e2e.test_appointments_http import APPOINTMENTS, hans_range, nodes
from tests.e2e.test_shared_blocks_http import PETER, ask, blocked_sors


def dds_reads(sandbox: ThreadedSandbox) -> tuple[int, int]:
    """(index searches, document reads) the simulated DDS received so far."""
    paths = sandbox.control("dds").recorder.paths()
    return paths.count("/fhir/DocumentReference"), sum(p.startswith("/fhir/Binary/") for p in paths)


def dds_nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in nodes(body) if n["source"] == "dds"]


async def test_the_second_request_reads_no_document_and_searches_the_index_again(
    gateway: Gateway, population: Population
) -> None:
    first = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))
    searched, read = dds_reads(gateway.sandbox)
    second = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    assert error_codes(first) == error_codes(second) == []
    assert read > 0 and dds_nodes(first)
    assert dds_reads(gateway.sandbox) == (2 * searched, read)
    assert nodes(second) == nodes(first)


async def test_another_patients_request_never_gets_a_cached_document(gateway: Gateway, population: Population) -> None:
    other = next(d.appointment.cpr for d in documents(population) if d.appointment.cpr not in (HANS, PETER))
    window = {"from": "2020-01-01", "to": "2029-12-31"}
    hans = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **window)
    _, read_for_hans = dds_reads(gateway.sandbox)

    theirs = await gateway.graphql(APPOINTMENTS, gateway.citizen(other), cpr=other, **window)

    their_documents = {d.id for d in documents(population) if d.appointment.cpr == other}
    assert dds_nodes(theirs), "the other patient has appointments through DDS"
    assert not {n["id"] for n in dds_nodes(theirs)} & {n["id"] for n in dds_nodes(hans)}
    assert dds_reads(gateway.sandbox)[1] - read_for_hans >= 1
    assert dds_reads(gateway.sandbox)[1] - read_for_hans <= len(their_documents)


async def test_documents_of_a_blocked_organisation_are_never_served_from_the_cache(
    gateway: Gateway, population: Population
) -> None:
    blocked = blocked_sors(population)
    own = await ask(gateway, population, gateway.citizen(PETER))
    assert any(n["organisation"]["sorId"] in blocked for n in nodes(own) if n["id"] in dds_ids(population)), (
        "Peter sees his own DDS appointments at the places he blocked: they are cached now"
    )
    _, read = dds_reads(gateway.sandbox)

    doctor = await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    assert doctor["data"]["patient"]["appointments"]["withheld"] is True
    assert not [n for n in nodes(doctor) if n["organisation"]["sorId"] in blocked]
    assert not [n for n in nodes(doctor) if n["location"] and n["location"]["sorId"] in blocked]
    assert dds_reads(gateway.sandbox)[1] == read  # what the doctor may see came from the cache


def dds_ids(population: Population) -> set[str]:
    return {d.appointment.id for d in documents(population) if d.appointment.cpr == PETER}
