"""Subscriptions over a real WebSocket (graphql-transport-ws): changes flow, access is decided per poll (ADR 0023).

The gateway runs under uvicorn in the test's loop; the sandbox's appointment endpoints change
appointments through their control route (``sandbox/changes.py``) and record every request, so the
tests count what the gateway asked: one decision per poll (the treatment-relation service is asked
once per decision of a professional), one search per endpoint per allowed poll, none after a refusal.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.access_log import SqliteAccessLog
from gateway.app import create_app
from gateway.settings import SANDBOX_APPOINTMENT_ENDPOINTS
from sandbox.clinical import NEPHROLOGY
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from sources.audit import AccessOutcome, AccessRecord
from sources.categories import DataCategory
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, recorded, settings_for
from tests.e2e.ws import Client, Served, serve

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
BLOCK = "mutation($cpr: CPR!, $block: BlockInput!) { createBlock(cpr: $cpr, block: $block) { id } }"


@pytest.fixture
def restore_appointments(population: Population) -> Iterator[None]:
    """Put every appointment and block back after a test that changes them."""
    appointments = copy.deepcopy(population.clinical.appointments)
    blocks = copy.deepcopy(population.blocks)
    yield
    population.clinical.appointments[:] = appointments
    population.blocks[:] = blocks


async def served_gateway(sandbox: ThreadedSandbox, tmp_path: Path, **subscriptions: Any) -> AsyncIterator[Served]:
    settings = settings_for(
        sandbox, tmp_path, subscriptions={"poll_interval_s": POLL_S, "overlap_s": 1.0, **subscriptions}
    )
    store = SqliteAccessLog(tmp_path / "access.db")
    async with serve(create_app(settings, access_log=store), settings.subscriptions.max_message_bytes) as address:
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
