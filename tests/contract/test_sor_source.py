"""Contract tests for the SOR register adapter against the simulated register."""

from __future__ import annotations

import httpx
import pytest

from sandbox import sor
from sandbox.clinical import DIALYSIS, NEPHROLOGY, OUH, REGION_SYDDANMARK, REHABILITATION_OUH, UROLOGY
from sandbox.population import Population
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.sor import SorSource
from tests.contract.conftest import MockClientFactory, SandboxClientFactory


@pytest.fixture
def world() -> Population:
    return Population(seed=1)


async def test_a_hospital_has_its_departments_and_their_units_below_it(world, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(sor.create_app(world), "sor")

    found = await SorSource(client).subunits_of([OUH, NEPHROLOGY])

    assert found[OUH] == {NEPHROLOGY, DIALYSIS, UROLOGY, REHABILITATION_OUH}
    assert found[NEPHROLOGY] == {DIALYSIS}
    assert len(controlled.recorder.requests) == 1
    assert "_revinclude%3Aiterate=Organization%3Apartof" in controlled.recorder.requests[0].query


async def test_a_region_covers_its_hospitals_transitively(world, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(sor.create_app(world), "sor")

    found = await SorSource(client).subunits_of([REGION_SYDDANMARK])

    assert {OUH, NEPHROLOGY, DIALYSIS} <= found[REGION_SYDDANMARK]


async def test_a_unit_without_sub_units_and_an_unknown_code_have_none(world, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(sor.create_app(world), "sor")

    found = await SorSource(client).subunits_of([DIALYSIS, "999999999999999"])

    assert found == {DIALYSIS: frozenset(), "999999999999999": frozenset()}


async def test_no_codes_sends_no_request(world, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(sor.create_app(world), "sor")

    assert await SorSource(client).subunits_of([]) == {}
    assert controlled.recorder.requests == []


async def test_a_cycle_in_the_hierarchy_ends(mock_client: MockClientFactory):
    def org(ident: str, parent: str) -> dict[str, object]:
        return {
            "resourceType": "Organization",
            "id": ident,
            "identifier": [{"system": "urn:oid:1.2.208.176.1.1", "value": ident}],
            "partOf": {"reference": f"Organization/{parent}"},
        }

    one, two = "111111", "222222"
    bundle = {"resourceType": "Bundle", "entry": [{"resource": org(one, two)}, {"resource": org(two, one)}]}
    client = mock_client(lambda request: httpx.Response(200, json=bundle), "sor")

    assert await SorSource(client).subunits_of([one]) == {one: frozenset({two})}


async def test_an_organisation_whose_sor_code_cannot_be_read_fails_the_answer(mock_client: MockClientFactory):
    garbage = {
        "resourceType": "Organization",
        "id": "x",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.1", "value": "SOR?"}],
        "partOf": {"reference": "Organization/111111"},
    }
    bundle = {"resourceType": "Bundle", "entry": [{"resource": garbage}]}
    client = mock_client(lambda request: httpx.Response(200, json=bundle), "sor")

    with pytest.raises(SourceResponseInvalid):
        await SorSource(client).subunits_of(["111111"])


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, json={"resourceType": "Patient"}), SourceResponseInvalid),
        (
            httpx.Response(
                200, json={"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Organization"}}]}
            ),
            SourceResponseInvalid,
        ),
        (httpx.Response(200, text="<html/>"), SourceResponseInvalid),
        (httpx.Response(503), SourceUnavailable),
    ],
)
async def test_a_broken_register_is_a_coded_source_error(mock_client: MockClientFactory, response, error):
    client = mock_client(lambda request: response, "sor")

    with pytest.raises(error):
        await SorSource(client).subunits_of([OUH])


async def test_a_slow_register_times_out(mock_client: MockClientFactory):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(SourceTimeout):
        await SorSource(mock_client(slow, "sor")).subunits_of([OUH])
