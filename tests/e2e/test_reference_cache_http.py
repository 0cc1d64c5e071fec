"""Reference data is kept across requests for a short TTL; the patient's decision inputs are asked for on
every request (ADR 0014). Counted at the sandbox; time moves on a test clock."""

from __future__ import annotations

from sandbox.population import Population
from tests.clock import Clock
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, OVERVIEW, Gateway, error_codes, recorded
from tests.e2e.test_shared_blocks_http import ask


async def test_the_gps_practice_is_read_once_and_the_patients_gp_every_time(gateway: Gateway, clock: Clock) -> None:
    for _ in range(3):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
        assert error_codes(body) == []
        assert body["data"]["patient"]["generalPractitioner"]["name"] == "Lægerne Hasseris Bymidte"
    clock.now += 300
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    paths = gateway.sandbox.control("yderregister").recorder.paths()
    assert paths.count("/sikrede") == 4
    assert paths.count("/fhir/Organization") == 2


async def test_sub_units_are_read_once_and_blocks_and_relations_every_time(
    gateway: Gateway, population: Population, clock: Clock
) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)
    bodies = [await ask(gateway, population, token) for _ in range(3)]

    assert [b["data"]["patient"]["appointments"]["withheld"] for b in bodies] == [True] * 3
    assert recorded(gateway.sandbox, "sor") == 1
    assert recorded(gateway.sandbox, "consent") == 3
    assert recorded(gateway.sandbox, "treatment_relation") == 3
    clock.now += 300
    await ask(gateway, population, token)
    assert recorded(gateway.sandbox, "sor") == 2
