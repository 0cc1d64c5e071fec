"""Subscriptions over a real WebSocket (graphql-transport-ws): changes flow, access is decided per poll (ADR 0023).

The gateway runs under uvicorn in the test's loop; the sandbox's appointment endpoints change
appointments through their control route (``sandbox/changes.py``) and record every request, so the
tests count what the gateway asked: one decision per poll (the treatment-relation service is asked
once per decision of a professional), one search per endpoint per allowed poll, none after a refusal.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.access_log import SecurityEvent, SqliteAccessLog
from gateway.app import create_app
from gateway.settings import DEMO_CLIENTS, SANDBOX_APPOINTMENT_ENDPOINTS
from sandbox.clinical import NEPHROLOGY, ODENSE_HOME_CARE
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from sources.audit import AccessOutcome, AccessRecord
from sources.categories import DataCategory
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, recorded, security_events_of, settings_for
from tests.e2e.ws import RECEIVE_TIMEOUT_S, Client, Served, serve

POLL_S = 0.1
ENDPOINTS = [name for name, *_ in SANDBOX_APPOINTMENT_ENDPOINTS]
WATCH = """
subscription Watch($cpr: CPR!) {
  appointmentsChanged(cpr: $cpr) {
    appointments { id status start organisation { name } }
    withheld complete sources { source state }
  }
}
"""
OTHER = "subscription Other($cpr: CPR!) { appointmentsChanged(cpr: $cpr) { complete } }"
BLOCK = "mutation($cpr: CPR!, $block: BlockInput!) { createBlock(cpr: $cpr, block: $block) { id } }"


@pytest.fixture
def restore_appointments(population: Population) -> Iterator[None]:
    """Put every appointment and block back after a test that changes them."""
    appointments = copy.deepcopy(population.clinical.appointments)
    blocks = copy.deepcopy(population.blocks)
    yield
    population.clinical.appointments[:] = appointments
    population.blocks[:] = blocks


async def served_gateway(
    sandbox: ThreadedSandbox,
    tmp_path: Path,
    settings: dict[str, Any] | None = None,
    store_type: type[SqliteAccessLog] = SqliteAccessLog,
    **subscriptions: Any,
) -> AsyncIterator[Served]:
    chosen = {"poll_interval_s": POLL_S, "overlap_s": 1.0, **subscriptions}
    built = settings_for(sandbox, tmp_path, subscriptions=chosen, **(settings or {}))
    store = store_type(tmp_path / "access.db")
    async with serve(create_app(built, access_log=store), built.subscriptions.max_message_bytes) as address:
        yield Served(address, sandbox, store)
    await store.aclose()


@pytest.fixture
async def served(sandbox: ThreadedSandbox, tmp_path: Path, restore_appointments: None) -> AsyncIterator[Served]:
    async for running in served_gateway(sandbox, tmp_path):
        yield running


async def change(sandbox: ThreadedSandbox, endpoint: str = "region-syddanmark", **body: Any) -> dict[str, Any]:
    """Change an appointment through the endpoint's control route (``sandbox/changes.py``)."""
    async with httpx.AsyncClient(base_url=sandbox.url(endpoint)) as client:
        answer = await client.post("/_sandbox/appointments", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def create(sandbox: ThreadedSandbox, **body: Any) -> dict[str, Any]:
    return await change(sandbox, change="create", cpr=HANS, organisation_sor=NEPHROLOGY, **body)


async def watching(client: Client, token: str, cpr: str = HANS, operation_id: str = "1") -> None:
    assert await client.init(token) == {"type": "connection_ack"}
    await client.subscribe(operation_id, WATCH, cpr=cpr)


async def next_event(client: Client) -> dict[str, Any]:
    message = await client.receive()
    assert message["type"] == "next", message
    payload: dict[str, Any] = message["payload"]
    return payload


async def records_of(served: Served, cpr: str = HANS) -> list[AccessRecord]:
    page = await served.access_log.log_page(cpr, limit=100)
    return list(page.records)


async def decided_again(sandbox: ThreadedSandbox, times: int = 2) -> None:
    """Wait until the gateway has asked for ``times`` more decisions: a poll then began after this point, and
    every later fetch follows a decision made after it (polls of one subscription run one after another)."""
    wanted = recorded(sandbox, "treatment_relation") + times
    async with asyncio.timeout(RECEIVE_TIMEOUT_S):
        while True:
            if recorded(sandbox, "treatment_relation") >= wanted:
                return
            await asyncio.sleep(POLL_S / 4)


def searches(sandbox: ThreadedSandbox) -> int:
    """Appointment searches the gateway sent: FHIR searches and DDS index searches (not document fetches)."""
    return sum(
        1
        for name in ENDPOINTS
        for request in sandbox.control(name).recorder.requests
        if request.path in ("/fhir/Appointment", "/fhir/DocumentReference")
    )


async def test_created_moved_and_cancelled_appointments_flow_each_with_a_record(served: Served) -> None:
    async with served.connect() as client:
        await watching(client, served.professional(DOCTOR_WITH_RELATIONS))
        made = await create(served.sandbox, start="2031-05-01T10:00:00+02:00")
        created = await next_event(client)
        await change(served.sandbox, change="reschedule", id=made["id"], start="2031-05-02T09:00:00+02:00")
        moved = await next_event(client)
        await change(served.sandbox, change="cancel", id=made["id"])
        cancelled = await next_event(client)

    events = [created, moved, cancelled]
    assert all("errors" not in event for event in events)
    shown = [event["data"]["appointmentsChanged"]["appointments"] for event in events]
    assert [[(a["id"], a["status"], a["start"]) for a in appointments] for appointments in shown] == [
        [(made["id"], "BOOKED", "2031-05-01T10:00:00+02:00")],
        [(made["id"], "BOOKED", "2031-05-02T09:00:00+02:00")],
        [(made["id"], "CANCELLED", "2031-05-02T09:00:00+02:00")],
    ]
    assert all(event["data"]["appointmentsChanged"]["complete"] for event in events)
    records = await records_of(served)
    assert [(r.outcome, r.returned, r.actor_id) for r in records] == [
        (AccessOutcome.ACCESSED, (DataCategory.APPOINTMENTS,), DOCTOR_WITH_RELATIONS)
    ] * 3
    assert len({r.request_id for r in records}) == 1  # one subscription, one request id
    assert recorded(served.sandbox, "treatment_relation") >= 4  # decided at the start and before every poll


async def test_a_block_made_mid_stream_ends_it_and_nothing_is_fetched_after(served: Served) -> None:
    doctor = served.professional(DOCTOR_WITH_RELATIONS)
    async with served.connect() as client:
        await watching(client, doctor)
        made = await create(served.sandbox, start="2031-06-01T10:00:00+02:00")
        first = await next_event(client)
        blocked = await served.graphql(
            BLOCK, served.citizen(HANS), cpr=HANS, block={"kind": "PROFESSIONAL", "authorizationId": "CBDJ6"}
        )
        assert "errors" not in blocked, blocked
        ended = await next_event(client)
        complete = await client.receive()
        await change(served.sandbox, change="cancel", id=made["id"])  # nobody asks any more

    assert [a["id"] for a in first["data"]["appointmentsChanged"]["appointments"]] == [made["id"]]
    assert ended["data"] is None
    assert [(e["extensions"]["code"], e["extensions"].get("overridable")) for e in ended["errors"]] == [
        ("CONSENT_DENIED", True)
    ]
    assert complete == {"id": "1", "type": "complete"}
    decisions = recorded(served.sandbox, "treatment_relation")  # the start, every poll, the refused one
    assert decisions >= 3
    assert searches(served.sandbox) == len(ENDPOINTS) * (decisions - 2)  # the refused poll asked no endpoint
    records = await records_of(served)
    assert [(r.outcome, r.actor_id) for r in records if r.actor_id == DOCTOR_WITH_RELATIONS] == [
        (AccessOutcome.REFUSED, DOCTOR_WITH_RELATIONS),
        (AccessOutcome.ACCESSED, DOCTOR_WITH_RELATIONS),
    ]


async def test_a_block_on_a_place_made_mid_stream_withholds_its_changes_and_never_asks_its_endpoint(
    served: Served,
) -> None:
    async with served.connect() as client:
        await watching(client, served.professional(DOCTOR_WITH_RELATIONS))
        blocked = await served.graphql(
            BLOCK,
            served.citizen(HANS),
            cpr=HANS,
            block={"kind": "ORGANISATION", "organisationSorId": "248201000016004", "includeSubunits": True},
        )
        assert "errors" not in blocked, blocked
        await decided_again(served.sandbox)
        served.sandbox.control("region-nordjylland").recorder.clear()
        hidden = await change(
            served.sandbox, "region-nordjylland", change="create", cpr=HANS, start="2031-07-01T10:00:00+02:00"
        )
        shown = await create(served.sandbox, start="2031-07-02T10:00:00+02:00")
        event = await next_event(client)

    changes = event["data"]["appointmentsChanged"]
    assert [a["id"] for a in changes["appointments"]] == [shown["id"]]
    assert hidden["id"] not in str(event)
    assert changes["withheld"] is True
    assert "region-nordjylland" not in [s["source"] for s in changes["sources"]]
    assert recorded(served.sandbox, "region-nordjylland") == 0


async def test_a_subscription_refused_at_the_start_is_an_error_and_a_refused_record(served: Served) -> None:
    anne = "2805670388"
    async with served.connect() as client:
        await watching(client, served.professional("7QWRT"), cpr=anne)
        refused = await client.receive()

    assert refused["type"] == "error"
    assert [e["extensions"]["code"] for e in refused["payload"]] == ["CONSENT_DENIED"]
    assert searches(served.sandbox) == 0
    assert [(r.outcome, r.denied) for r in await records_of(served, anne)] == [
        (AccessOutcome.REFUSED, (DataCategory.APPOINTMENTS,))
    ]


async def test_an_endpoint_down_is_told_once_and_its_changes_come_when_it_answers(served: Served) -> None:
    down = served.sandbox.control("region-syddanmark")
    async with served.connect() as client:
        await watching(client, served.professional(DOCTOR_WITH_RELATIONS))
        down.faults.update({"mode": "down"})
        failing = await next_event(client)
        made = await create(served.sandbox, start="2031-08-01T10:00:00+02:00")
        down.faults.update({"mode": "ok"})
        back = await next_event(client)

    told = failing["data"]["appointmentsChanged"]
    assert (told["appointments"], told["complete"]) == ([], False)
    assert [(e["extensions"]["code"], e["extensions"]["source"]) for e in failing["errors"]] == [
        ("SOURCE_UNAVAILABLE", "region-syddanmark")
    ]
    assert {"source": "region-syddanmark", "state": "UNAVAILABLE"} in told["sources"]
    again = back["data"]["appointmentsChanged"]
    assert ([a["id"] for a in again["appointments"]], again["complete"]) == ([made["id"]], True)
    assert [r.outcome for r in await records_of(served)] == [AccessOutcome.ACCESSED, AccessOutcome.NOTHING]


async def test_a_token_that_expires_ends_the_stream_coded_and_closes_the_connection(served: Served) -> None:
    async with served.connect() as client:
        await watching(client, served.professional(DOCTOR_WITH_RELATIONS, expires_in=2))
        ended = await next_event(client)
        complete = await client.receive()
        code, reason = await client.closed()

    assert ended["data"] is None
    assert [e["extensions"]["code"] for e in ended["errors"]] == ["UNAUTHENTICATED"]
    assert complete == {"id": "1", "type": "complete"}
    assert (code, reason) == (4401, "UNAUTHENTICATED: the token has expired")


async def test_a_vendor_system_subscribes_only_to_what_its_registration_allows(served: Served) -> None:
    vendor = served.token(actor_kind="system", client_id="epj-odense", authorization_id=DOCTOR_WITH_RELATIONS)
    async with served.connect() as client:
        await watching(client, vendor)
        refused = await client.receive()

    assert refused["type"] == "error"
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in refused["payload"]] == [
        ("FORBIDDEN", "Subscription.appointmentsChanged")
    ]
    assert searches(served.sandbox) == 0
    assert [e.kind.value for e in await security_events_of(served.access_log)] == ["field_not_allowed"]


async def test_a_client_that_runs_only_trusted_documents_subscribes_by_document_id(
    sandbox: ThreadedSandbox, tmp_path: Path, restore_appointments: None
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"watch": WATCH}), encoding="utf-8")
    fields = [*DEMO_CLIENTS["epj-odense"].fields, "Subscription.appointmentsChanged", "AppointmentChanges.*"]
    registration = {"name": "EPJ (test)", "fields": fields, "trusted_documents": str(manifest)}
    clients = {"epj-trusted": {**registration, "trusted_documents_only": True}}
    async for served in served_gateway(sandbox, tmp_path, {"clients": clients}):
        vendor = served.token(actor_kind="system", client_id="epj-trusted", authorization_id=DOCTOR_WITH_RELATIONS)
        async with served.connect() as client:
            assert await client.init(vendor) == {"type": "connection_ack"}
            await client.subscribe("raw", OTHER, cpr=HANS)
            refused = await client.receive()
            by_id = {"documentId": "watch", "variables": {"cpr": HANS}}
            await client.send({"id": "1", "type": "subscribe", "payload": by_id})
            made = await create(served.sandbox, start="2031-09-01T10:00:00+02:00")
            event = await next_event(client)

    assert (refused["id"], [e["extensions"]["code"] for e in refused["payload"]]) == ("raw", ["DOCUMENT_NOT_TRUSTED"])
    assert [a["id"] for a in event["data"]["appointmentsChanged"]["appointments"]] == [made["id"]]


class FullDisk(SqliteAccessLog):
    """A store whose disk is full: every write fails."""

    async def write(self, records: Sequence[AccessRecord], security_events: Sequence[SecurityEvent] = ()) -> None:
        raise OSError("disk full")


async def test_an_event_whose_record_cannot_be_written_is_not_sent_and_ends_the_stream(
    sandbox: ThreadedSandbox, tmp_path: Path, restore_appointments: None
) -> None:
    async for served in served_gateway(sandbox, tmp_path, store_type=FullDisk):
        async with served.connect() as client:
            await watching(client, served.professional(DOCTOR_WITH_RELATIONS))
            made = await create(served.sandbox, start="2031-10-01T10:00:00+02:00")
            ended = await next_event(client)
            complete = await client.receive()

    assert ended["data"] is None
    assert [e["extensions"]["code"] for e in ended["errors"]] == ["ACCESS_LOG_UNAVAILABLE"]
    assert made["id"] not in json.dumps(ended)
    assert complete == {"id": "1", "type": "complete"}


async def test_a_protected_patients_event_hides_where_they_live(served: Served) -> None:
    ruddi = "1502779995"
    async with served.connect() as client:
        await watching(client, served.professional(DOCTOR_WITH_RELATIONS), cpr=ruddi)
        await change(
            served.sandbox,
            "municipality-odense",
            change="create",
            cpr=ruddi,
            organisation_sor=ODENSE_HOME_CARE,
            start="2031-11-01T10:00:00+01:00",
        )
        event = await next_event(client)

    [shown] = event["data"]["appointmentsChanged"]["appointments"]
    assert shown["organisation"] == {"name": "ADRESSEBESKYTTET"}
    assert "Odense" not in json.dumps(event)
