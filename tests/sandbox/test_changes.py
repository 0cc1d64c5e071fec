"""The sandbox's appointment changes: the control route, ``_lastUpdated`` on FHIR and DDS, every kind of change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox import appointments, dds
from sandbox.changes import POPULATION_UPDATED, instant
from sandbox.clinical import NEPHROLOGY
from sandbox.population import Population, build_population

HANS = "1403723705"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"


@pytest.fixture
def population() -> Population:
    return build_population(seed=2016, patients=5)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test")


async def _changed_since(client: httpx.AsyncClient, since: datetime, prefix: str = "ge") -> list[dict[str, Any]]:
    params = {"patient.identifier": f"{CPR_SYSTEM}|{HANS}", "_lastUpdated": f"{prefix}{instant(since)}"}
    answer = await client.get("/fhir/Appointment", params=params)
    assert answer.status_code == 200, answer.text
    return [entry["resource"] for entry in answer.json().get("entry", [])]


async def test_a_created_appointment_is_what_changed_since_and_shows_when(population: Population) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    async with _client(appointments.create_app(population, "region-syddanmark")) as client:
        assert await _changed_since(client, before) == []
        made = await client.post(
            "/_sandbox/appointments",
            json={
                "change": "create",
                "cpr": HANS,
                "organisation_sor": NEPHROLOGY,
                "start": "2027-02-01T09:00:00+01:00",
            },
        )
        assert made.status_code == 200, made.text
        changed = await _changed_since(client, before)
        later = await _changed_since(client, datetime.now(UTC) + timedelta(seconds=1))
        everything = await client.get("/fhir/Appointment", params={"patient.identifier": HANS})
    assert [a["id"] for a in changed] == [made.json()["id"]]
    assert changed[0]["meta"] == {"versionId": "1", "lastUpdated": made.json()["updated"]}
    assert later == []
    assert made.json()["id"] in {e["resource"]["id"] for e in everything.json()["entry"]}


async def test_reschedule_and_cancel_are_new_versions(population: Population) -> None:
    existing = next(a for a in population.clinical.appointments if a.cpr == HANS and "region-syddanmark" in a.endpoints)
    before = datetime.now(UTC) - timedelta(seconds=1)
    async with _client(appointments.create_app(population, "region-syddanmark")) as client:
        moved = await client.post(
            "/_sandbox/appointments",
            json={"change": "reschedule", "id": existing.id, "start": "2027-03-01T08:00:00+01:00"},
        )
        after_move = await _changed_since(client, before)
        cancelled = await client.post("/_sandbox/appointments", json={"change": "cancel", "id": existing.id})
        after_cancel = await _changed_since(client, before)
    assert moved.json()["version"] == 2 and cancelled.json()["version"] == 3
    assert [(a["id"], a["start"], a["status"]) for a in after_move] == [
        (existing.id, "2027-03-01T08:00:00+01:00", "booked")
    ]
    assert [(a["meta"]["versionId"], a["status"]) for a in after_cancel] == [("3", "cancelled")]


async def test_dds_shows_the_changed_appointments_entries(population: Population) -> None:
    shared = next(a for a in population.clinical.appointments if "dds" in a.endpoints)
    before = datetime.now(UTC) - timedelta(seconds=1)
    async with _client(dds.create_app(population)) as client:
        params = {"patient.identifier": shared.cpr, "status": "current,superseded"}
        assert (
            await client.get("/fhir/DocumentReference", params={**params, "_lastUpdated": f"gt{instant(before)}"})
        ).json()["total"] == 0
        await client.post(
            "/_sandbox/appointments",
            json={"change": "reschedule", "id": shared.id, "start": "2027-04-01T10:00:00+02:00"},
        )
        found = (
            await client.get("/fhir/DocumentReference", params={**params, "_lastUpdated": f"gt{instant(before)}"})
        ).json()
    states = sorted(e["resource"]["status"] for e in found["entry"])
    assert states.count("current") == 1 and "superseded" in states


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"change": "move"},
        {"change": "create", "cpr": "123"},
        {"change": "create", "cpr": HANS, "organisation_sor": "x"},
        {"change": "create", "cpr": HANS, "organisation_sor": NEPHROLOGY, "start": "2027-01-01T10:00:00"},
        {"change": "create", "cpr": HANS, "organisation_sor": NEPHROLOGY, "minutes": 0},
        {"change": "create", "cpr": HANS, "organisation_sor": NEPHROLOGY, "endpoints": ["nowhere"]},
        {"change": "cancel", "id": "x", "every_s": 0.01},
    ],
)
async def test_a_malformed_change_is_refused_and_changes_nothing(population: Population, body: object) -> None:
    before = len(population.clinical.appointments)
    async with _client(appointments.create_app(population, "gp")) as client:
        answer = await client.post("/_sandbox/appointments", json=body)
    assert answer.status_code == 400
    assert len(population.clinical.appointments) == before


async def test_an_unknown_appointment_is_404_and_a_bad_last_updated_is_400(population: Population) -> None:
    async with _client(appointments.create_app(population, "gp")) as client:
        unknown = await client.post("/_sandbox/appointments", json={"change": "cancel", "id": "nope"})
        bad = await client.get("/fhir/Appointment", params={"patient.identifier": HANS, "_lastUpdated": "ge2026-01-01"})
    assert unknown.status_code == 404
    assert bad.status_code == 400


def test_generated_appointments_changed_long_ago(population: Population) -> None:
    assert all(a.updated is None for a in population.clinical.appointments)
    assert datetime.now(UTC) - timedelta(days=30) > POPULATION_UPDATED
