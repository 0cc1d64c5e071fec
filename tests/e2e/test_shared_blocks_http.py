"""Blocks on treatment places and data periods: pushed down where possible, applied everywhere.

The persona ``blocks_places`` blocks OUH with its sub-units, Region Nordjylland with its
sub-units, and data from 2019 to 2020. Professional CBDJ6 has a treatment relation to him.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl

from sandbox.clinical import AALBORG_UH, OUH, REGION_NORDJYLLAND, REGION_SYDDANMARK
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, Gateway, error_codes, recorded
from tests.entry_points import BOTH

PETER = "0907644021"
BLOCKED_FROM, BLOCKED_TO = date(2019, 1, 1), date(2020, 12, 31)

SHARED = """
query Shared($cpr: CPR!, $from: Date, $to: Date) {
  patient(cpr: $cpr) {
    person { name }
    appointments(from: $from, to: $to, filter: {includeCancelled: true}) {
      withheld complete
      list(first: 100) { nodes { id start organisation { sorId } location { sorId } } }
    }
    plans { withheld nodes { id organisation { sorId } interventions { performer { sorId } } } }
    goals { withheld nodes { id organisation { sorId } start } }
    diagnoses { withheld nodes { id organisation { sorId } recorded onset } }
  }
}
"""


pytestmark = BOTH  # through patient(cpr:) and through _entities (ADR 0022)


def blocked_sors(population: Population) -> set[str]:
    world = population.clinical
    return world.subunits(OUH) | world.subunits(REGION_NORDJYLLAND)


def in_blocked_period(value: str | None) -> bool:
    return value is not None and BLOCKED_FROM.isoformat() <= value[:10] <= BLOCKED_TO.isoformat()


def queries(sandbox: ThreadedSandbox, name: str) -> list[list[tuple[str, str]]]:
    return [parse_qsl(r.query) for r in sandbox.control(name).recorder.requests]


async def ask(gateway: Gateway, population: Population, token: str) -> dict[str, Any]:
    window = {"from": "2018-06-01", "to": (population.anchor + timedelta(days=180)).isoformat()}
    return await gateway.graphql(SHARED, token, cpr=PETER, **window)


async def test_the_patient_himself_sees_everything_he_blocked_for_others(
    gateway: Gateway, population: Population
) -> None:
    body = await ask(gateway, population, gateway.citizen(PETER))

    assert error_codes(body) == []
    patient = body["data"]["patient"]
    sors = {n["organisation"]["sorId"] for n in patient["appointments"]["list"]["nodes"]}
    assert sors & blocked_sors(population), "the sandbox gives him appointments at the places he blocked"
    assert any(in_blocked_period(n["start"]) for n in patient["appointments"]["list"]["nodes"])
    assert not patient["appointments"]["withheld"]


async def test_a_professional_never_receives_blocked_items(gateway: Gateway, population: Population) -> None:
    body = await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    assert error_codes(body) == []
    patient = body["data"]["patient"]
    blocked = blocked_sors(population)
    appointments = patient["appointments"]["list"]["nodes"]
    assert appointments, "allowed appointments still come through"
    for node in appointments:
        assert node["organisation"]["sorId"] not in blocked
        assert (node["location"] or {}).get("sorId") not in blocked
        assert not in_blocked_period(node["start"])
    for plan in patient["plans"]["nodes"]:
        assert plan["organisation"]["sorId"] not in blocked
        assert all((i["performer"] or {}).get("sorId") not in blocked for i in plan["interventions"])
    for goal in patient["goals"]["nodes"]:
        assert goal["organisation"]["sorId"] not in blocked and not in_blocked_period(goal["start"])
    for diagnosis in patient["diagnoses"]["nodes"]:
        assert diagnosis["organisation"]["sorId"] not in blocked
        assert not in_blocked_period(diagnosis["recorded"] or diagnosis["onset"])
    assert patient["person"]["name"], "blocks never hide the person"


async def test_a_professional_sees_that_something_is_withheld_never_what(
    gateway: Gateway, population: Population
) -> None:
    body = await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    patient = body["data"]["patient"]
    for section in ("appointments", "plans", "goals", "diagnoses"):
        assert patient[section]["withheld"] is True


async def test_a_wholly_blocked_region_endpoint_is_never_asked(gateway: Gateway, population: Population) -> None:
    await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    assert recorded(gateway.sandbox, "region-nordjylland") == 0
    assert recorded(gateway.sandbox, "sor") == 1, "the sub-units of both blocked places come in one lookup"


async def test_blocked_places_travel_in_every_search_that_can_carry_them(
    gateway: Gateway, population: Population
) -> None:
    await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    expected = {f"urn:oid:1.2.208.176.1.1|{sor}" for sor in population.clinical.subunits(OUH)}
    for query in queries(gateway.sandbox, "region-syddanmark"):
        assert expected <= {v for k, v in query if k == "performer-organization:not"}
    for query in queries(gateway.sandbox, "dds"):
        if any(k == "patient.identifier" for k, _ in query):
            assert expected <= {v for k, v in query if k == "author.identifier:not"}
    for name in ("plans-gp", "plans-municipality", "plans-hospital"):
        for query in queries(gateway.sandbox, name):
            assert expected <= {v for k, v in query if k == "custodian:not"}


async def test_the_blocked_data_period_is_cut_out_of_every_date_search(
    gateway: Gateway, population: Population
) -> None:
    await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    for name in ("region-syddanmark", "municipality-odense", "gp"):
        searched = queries(gateway.sandbox, name)
        assert len(searched) >= 2, f"{name}: one search before and one after the blocked period"
        for query in searched:
            bounds = dict(_bounds(query, "date"))
            assert (
                bounds.get("lt", "9999") <= BLOCKED_FROM.isoformat()
                or bounds.get("ge", "0000") > BLOCKED_TO.isoformat()
            )


def _bounds(query: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(v[:2], v[2:12]) for k, v in query if k == name and v[:2] in ("ge", "lt", "gt", "le")]


async def test_without_the_sor_register_shared_data_fails_closed_for_professionals(
    gateway: Gateway, population: Population
) -> None:
    gateway.sandbox.control("sor").faults.update({"mode": "down"})

    body = await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    patient = body["data"]["patient"]
    assert patient["person"]["name"]
    assert all(patient[s] is None for s in ("appointments", "plans", "goals", "diagnoses"))
    assert set(error_codes(body)) == {("SOURCE_UNAVAILABLE", "sor")}
    for name in ("region-syddanmark", "dds", "gp", "plans-gp"):
        assert recorded(gateway.sandbox, name) == 0


async def test_the_region_endpoint_is_asked_when_only_part_of_it_is_blocked(
    gateway: Gateway, population: Population
) -> None:
    assert population.clinical.organisation(OUH).part_of == REGION_SYDDANMARK
    assert population.clinical.organisation(AALBORG_UH).part_of == REGION_NORDJYLLAND

    await ask(gateway, population, gateway.professional(DOCTOR_WITH_RELATIONS))

    assert recorded(gateway.sandbox, "region-syddanmark") >= 1
