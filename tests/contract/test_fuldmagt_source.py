"""Contract tests for the Digital Fuldmagt adapter against the simulated power-of-attorney service."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from sandbox import fuldmagt
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.fuldmagt import FuldmagtSource
from sources.models import PeriodRecord, PowerOfAttorneyRecord
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

HANS = "1403723705"
LISE = "1709683160"
KOL = "2309510372"
ALL_SCOPES = frozenset({"overview", "master_card", "access_log", "blocks"})


def _power(**changes: Any) -> dict[str, Any]:
    power = {
        "id": "fuldmagt-x",
        "giver": HANS,
        "holder": LISE,
        "scopes": ["overview"],
        "validity": {"start": "2025-01-01", "end": None},
    }
    return power | changes


def _answering(mock_client: MockClientFactory, *powers: dict[str, Any]) -> FuldmagtSource:
    body = {"powersOfAttorney": list(powers)}
    return FuldmagtSource(mock_client(lambda request: httpx.Response(200, json=body), "fuldmagt"))


async def test_the_representatives_power_from_hans_has_every_scope_from_2025(
    population, sandbox_client: SandboxClientFactory
):
    client, controlled = sandbox_client(fuldmagt.create_app(population), "fuldmagt")
    hans, lise = population.personas["hans"], population.personas["representative"]

    result = await FuldmagtSource(client).powers_for(lise, [hans])

    assert result == {
        hans: [
            PowerOfAttorneyRecord(
                id="fuldmagt-1",
                giver_cpr=hans,
                holder_cpr=lise,
                scopes=ALL_SCOPES,
                validity=PeriodRecord(start=date(2025, 1, 1), end=None),
            )
        ]
    }
    assert controlled.recorder.requests[0].path == "/powers-of-attorney"


async def test_limited_and_expired_powers_come_back_as_stored(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(fuldmagt.create_app(population), "fuldmagt")
    source = FuldmagtSource(client)
    hans = population.personas["hans"]

    limited = await source.powers_for(population.personas["representative_limited"], [hans])
    expired = await source.powers_for(population.personas["representative_expired"], [hans])

    assert [p.scopes for p in limited[hans]] == [frozenset({"master_card"})]
    assert [p.validity for p in expired[hans]] == [PeriodRecord(date(2020, 3, 1), date(2025, 6, 30))]


async def test_several_givers_in_one_request_and_no_power_is_an_empty_list(
    population, sandbox_client: SandboxClientFactory
):
    client, controlled = sandbox_client(fuldmagt.create_app(population), "fuldmagt")
    hans, kol = population.personas["hans"], population.personas["kol_diabetes"]

    result = await FuldmagtSource(client).powers_for(population.personas["representative"], [hans, kol, hans])

    assert list(result) == [hans, kol]
    assert [p.id for p in result[hans]] == ["fuldmagt-1"]
    assert result[kol] == []
    assert len(controlled.recorder.requests) == 1


async def test_a_holder_without_powers_gets_an_empty_list_per_giver(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(fuldmagt.create_app(population), "fuldmagt")
    hans, kol = population.personas["hans"], population.personas["kol_diabetes"]

    result = await FuldmagtSource(client).powers_for(population.personas["mother"], [hans, kol])

    assert result == {hans: [], kol: []}


async def test_no_giver_sends_no_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(fuldmagt.create_app(population), "fuldmagt")

    assert await FuldmagtSource(client).powers_for(population.personas["representative"], []) == {}
    assert controlled.recorder.requests == []


async def test_a_malformed_cpr_is_refused_before_any_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(fuldmagt.create_app(population), "fuldmagt")
    source = FuldmagtSource(client)

    with pytest.raises(ValueError):
        await source.powers_for("12345", [HANS])
    with pytest.raises(ValueError):
        await source.powers_for(LISE, [HANS, "14037237"])
    assert controlled.recorder.requests == []


async def test_unknown_scopes_are_dropped(mock_client: MockClientFactory):
    source = _answering(mock_client, _power(scopes=["overview", "medicine_card", "blocks"]))

    result = await source.powers_for(LISE, [HANS])

    assert result[HANS][0].scopes == frozenset({"overview", "blocks"})


async def test_a_power_listed_twice_is_returned_once(mock_client: MockClientFactory):
    source = _answering(mock_client, _power(), _power(), _power(id="fuldmagt-y", scopes=["blocks"]))

    result = await source.powers_for(LISE, [HANS])

    assert [p.id for p in result[HANS]] == ["fuldmagt-x", "fuldmagt-y"]


@pytest.mark.parametrize(
    "power",
    [
        _power(holder=KOL),
        _power(giver=KOL),
        _power(scopes="overview"),
        _power(validity={"start": 20250101}),
        _power(validity={"start": "2025-02-30"}),
        {key: value for key, value in _power().items() if key != "validity"},
    ],
    ids=["other-holder", "giver-not-asked", "scopes-not-a-list", "date-as-number", "impossible-date", "no-validity"],
)
async def test_a_malformed_power_is_invalid_without_cprs_in_the_message(mock_client: MockClientFactory, power):
    source = _answering(mock_client, power)

    with pytest.raises(SourceResponseInvalid) as caught:
        await source.powers_for(LISE, [HANS])

    for cpr in (HANS, LISE, KOL):
        assert cpr not in str(caught.value)
        assert cpr not in str(caught.value.__cause__)


async def test_a_body_without_the_list_is_invalid(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(200, json={"results": []}), "fuldmagt")

    with pytest.raises(SourceResponseInvalid):
        await FuldmagtSource(client).powers_for(LISE, [HANS])


async def test_garbage_and_non_json_are_invalid(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(fuldmagt.create_app(population), "fuldmagt")
    source = FuldmagtSource(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.powers_for(LISE, [HANS])


async def test_service_unavailable_is_source_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(503, text=HANS), "fuldmagt")

    with pytest.raises(SourceUnavailable) as caught:
        await FuldmagtSource(client).powers_for(LISE, [HANS])

    assert HANS not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await FuldmagtSource(mock_client(hang, "fuldmagt")).powers_for(LISE, [HANS])


@pytest.mark.parametrize(
    "params",
    [
        {"giver": HANS},
        {"holder": LISE, "giver": ""},
        {"holder": "12345", "giver": HANS},
        {"holder": LISE, "giver": f"{HANS},x"},
    ],
    ids=["no-holder", "empty-giver", "bad-holder", "bad-giver"],
)
async def test_sandbox_answers_400_with_a_json_error_for_a_malformed_query(population, params):
    app = fuldmagt.create_app(population)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fuldmagt") as http:
        response = await http.get("/powers-of-attorney", params=params)

    assert response.status_code == 400
    assert "error" in response.json()


async def test_every_power_a_holder_holds_in_one_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(fuldmagt.create_app(population), "fuldmagt")
    hans = population.personas["hans"]

    held = await FuldmagtSource(client).powers_held_by(population.personas["representative_expired"])

    assert [(p.giver_cpr, p.validity) for p in held] == [(hans, PeriodRecord(date(2020, 3, 1), date(2025, 6, 30)))]
    assert len(controlled.recorder.requests) == 1
    assert "giver" not in controlled.recorder.requests[0].query


async def test_a_held_power_for_another_holder_fails_the_answer(mock_client: MockClientFactory):
    source = _answering(mock_client, _power(), _power(id="fuldmagt-y", holder=KOL))

    with pytest.raises(SourceResponseInvalid):
        await source.powers_held_by(LISE)
