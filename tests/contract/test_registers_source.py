"""Contract tests for the will and donor registers adapter against the simulated registers."""

from __future__ import annotations

import httpx
import pytest

from sandbox import registers
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.models import RegistrationsRecord
from sources.registers import RegistersSource
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

HANS = "1403723705"


async def test_hans_has_treatment_will_and_is_organ_donor(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(registers.create_app(population), "registers")
    cpr = population.personas["hans"]

    result = await RegistersSource(client).registrations_for([cpr])

    assert result == {
        cpr: RegistrationsRecord(
            cpr, treatment_will=True, living_will=False, organ_donor=True, resuscitation_opt_out=False
        )
    }


async def test_two_patients_in_one_request_unknown_is_none(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(registers.create_app(population), "registers")
    hans, kol = population.personas["hans"], population.personas["kol_diabetes"]

    result = await RegistersSource(client).registrations_for([hans, kol, kol, "0101010000"])

    assert set(result) == {hans, kol, "0101010000"}
    assert result["0101010000"] is None
    kol_flags = result[kol]
    assert kol_flags is not None
    assert kol_flags.resuscitation_opt_out and kol_flags.living_will
    assert not kol_flags.organ_donor and not kol_flags.treatment_will
    assert len(controlled.recorder.requests) == 1
    assert controlled.recorder.requests[0].path == "/registrations"


async def test_empty_input_sends_no_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(registers.create_app(population), "registers")

    assert await RegistersSource(client).registrations_for([]) == {}
    assert controlled.recorder.requests == []


async def test_sandbox_answers_400_for_a_bad_cpr(population):
    app = registers.create_app(population)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registers") as http:
        response = await http.get("/registrations", params={"cpr": f"{HANS},12345"})

    assert response.status_code == 400


async def test_server_error_is_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(500, text=HANS), "registers")

    with pytest.raises(SourceUnavailable) as caught:
        await RegistersSource(client).registrations_for([HANS])

    assert HANS not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await RegistersSource(mock_client(hang, "registers")).registrations_for([HANS])


async def test_wrong_shape_is_invalid_without_cpr_in_message(mock_client: MockClientFactory):
    body = {"results": [{"cpr": HANS, "treatmentWill": {"registered": "yes"}}]}
    client = mock_client(lambda request: httpx.Response(200, json=body), "registers")

    with pytest.raises(SourceResponseInvalid) as caught:
        await RegistersSource(client).registrations_for([HANS])

    assert HANS not in str(caught.value)
    assert HANS not in str(caught.value.__cause__)


async def test_garbage_and_non_json_are_invalid(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(registers.create_app(population), "registers")
    source = RegistersSource(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.registrations_for([HANS])
