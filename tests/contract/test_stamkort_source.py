"""Contract tests for the Fælles Stamkort adapter against the simulated Stamkortregister."""

from __future__ import annotations

import dataclasses
from datetime import date

import httpx
import pytest

from sandbox import stamkort
from sandbox.population import Population, build_population
from sources.errors import (
    SourceRejected,
    SourceResponseInvalid,
    SourceTimeout,
    SourceUnavailable,
    SourceVersionConflict,
)
from sources.models import AddressRecord, MasterCardRecord, RelativeRecord, TemporaryAddressRecord
from sources.stamkort import StamkortSource
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

HANS = "1403723705"


@pytest.fixture
def fresh_population() -> Population:
    """A population of our own: update tests change master cards."""
    return build_population(seed=2016, patients=0)


async def test_hans_master_card_has_phone_dentist_and_two_relatives(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(stamkort.create_app(population), "stamkort")
    cpr = population.personas["hans"]

    card = (await StamkortSource(client).master_cards_for([cpr]))[cpr]

    assert isinstance(card, MasterCardRecord)
    assert card.phone == "61234567"
    assert card.dentist == "Tandlægerne Testvestergade"
    assert card.preferred_language == "da"
    assert card.version == "1"
    assert card.temporary_address is None
    assert card.relatives == (
        RelativeRecord("Inge", "Test Jensen", "40506070", "søster"),
        RelativeRecord("Mads", None, None, "nabo"),
    )


async def test_temporary_address_without_end_date(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(stamkort.create_app(population), "stamkort")
    cpr = population.personas["kol_diabetes"]

    card = (await StamkortSource(client).master_cards_for([cpr]))[cpr]

    assert isinstance(card, MasterCardRecord)
    assert card.temporary_address == TemporaryAddressRecord(
        AddressRecord("Testsommerhusvej 7", "9990", "Skagen", "0813"), end_date=None
    )


async def test_two_patients_in_one_request_unknown_is_none(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(stamkort.create_app(population), "stamkort")
    hans, kol = population.personas["hans"], population.personas["kol_diabetes"]

    cards = await StamkortSource(client).master_cards_for([hans, kol, hans, "0101010000"])

    assert set(cards) == {hans, kol, "0101010000"}
    assert cards["0101010000"] is None
    hans_card, kol_card = cards[hans], cards[kol]
    assert isinstance(hans_card, MasterCardRecord) and isinstance(kol_card, MasterCardRecord)
    assert len(hans_card.relatives) == 2
    assert [r.first_name for r in kol_card.relatives] == ["Jens"]
    assert len(controlled.recorder.requests) == 1
    assert controlled.recorder.requests[0].path == "/fhir/Patient"


async def test_empty_input_sends_no_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(stamkort.create_app(population), "stamkort")

    assert await StamkortSource(client).master_cards_for([]) == {}
    assert controlled.recorder.requests == []


async def test_update_round_trip_bumps_version(fresh_population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(stamkort.create_app(fresh_population), "stamkort")
    source = StamkortSource(client)
    card = (await source.master_cards_for([HANS]))[HANS]
    assert isinstance(card, MasterCardRecord)
    changed = dataclasses.replace(
        card,
        phone="70112233",
        temporary_address=TemporaryAddressRecord(AddressRecord("Testferievej 2", "6700", "Esbjerg"), date(2026, 8, 1)),
        relatives=(*card.relatives, RelativeRecord("Ole")),
    )

    stored = await source.update_master_card(changed, card.version)

    assert stored == dataclasses.replace(changed, version="2")
    assert (await source.master_cards_for([HANS]))[HANS] == stored
    assert fresh_population.master_cards[HANS].version == 2


async def test_stale_version_conflicts_and_loses_nothing(fresh_population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(stamkort.create_app(fresh_population), "stamkort")
    source = StamkortSource(client)
    card = (await source.master_cards_for([HANS]))[HANS]
    assert isinstance(card, MasterCardRecord)
    first = await source.update_master_card(dataclasses.replace(card, phone="70112233"), card.version)

    with pytest.raises(SourceVersionConflict):
        await source.update_master_card(dataclasses.replace(card, phone="99999999"), card.version)

    assert (await source.master_cards_for([HANS]))[HANS] == first


async def test_relative_without_first_name_is_rejected(fresh_population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(stamkort.create_app(fresh_population), "stamkort")
    source = StamkortSource(client)
    card = (await source.master_cards_for([HANS]))[HANS]
    assert isinstance(card, MasterCardRecord)

    with pytest.raises(SourceRejected) as caught:
        await source.update_master_card(dataclasses.replace(card, relatives=(RelativeRecord(""),)), card.version)

    assert not isinstance(caught.value, SourceVersionConflict)
    assert (await source.master_cards_for([HANS]))[HANS] == card


async def test_sandbox_refuses_missing_if_match_two_temporary_addresses_and_unknown_patient(fresh_population):
    app = stamkort.create_app(fresh_population)
    patient = {"resourceType": "Patient", "identifier": [{"system": stamkort.CPR_SYSTEM, "value": HANS}]}
    temp = {"use": "temp", "line": ["Testvej 1"], "postalCode": "5000", "city": "Odense C"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://stamkort") as http:
        missing = await http.put(f"/fhir/Patient/{HANS}", json=patient)
        two = await http.put(
            f"/fhir/Patient/{HANS}", json={**patient, "address": [temp, temp]}, headers={"If-Match": 'W/"1"'}
        )
        unknown = await http.put("/fhir/Patient/0101010000", json=patient, headers={"If-Match": 'W/"1"'})
        bad_search = await http.get("/fhir/Patient", params={"identifier": "12345"})

    assert missing.status_code == 428
    assert two.status_code == 422
    assert two.json()["resourceType"] == "OperationOutcome"
    assert unknown.status_code == 404
    assert bad_search.status_code == 400
    assert fresh_population.master_cards[HANS].version == 1


async def test_server_error_is_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(500, json={"error": HANS}), "stamkort")

    with pytest.raises(SourceUnavailable) as caught:
        await StamkortSource(client).master_cards_for([HANS])

    assert HANS not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await StamkortSource(mock_client(hang, "stamkort")).master_cards_for([HANS])


OTHER = "0101010000"


def _patient(cpr: str, **extra: object) -> dict[str, object]:
    identifier = [{"system": stamkort.CPR_SYSTEM, "value": cpr}]
    return {"resourceType": "Patient", "identifier": identifier, "meta": {"versionId": "3"}, **extra}


def _relative(cpr: str, given: list[str]) -> dict[str, object]:
    owner = {"identifier": {"system": stamkort.CPR_SYSTEM, "value": cpr}}
    return {"resourceType": "RelatedPerson", "patient": owner, "name": [{"given": given}]}


async def test_a_card_that_cannot_be_read_fails_only_that_patient_without_cpr_in_message(
    mock_client: MockClientFactory,
):
    bundle = {
        "resourceType": "Bundle",
        "entry": [{"resource": _patient(HANS, telecom=7)}, {"resource": _patient(OTHER)}],
    }
    client = mock_client(lambda request: httpx.Response(200, json=bundle), "stamkort")

    cards = await StamkortSource(client).master_cards_for([HANS, OTHER])

    error = cards[HANS]
    assert isinstance(error, SourceResponseInvalid)
    assert HANS not in str(error)
    assert isinstance(cards[OTHER], MasterCardRecord)


async def test_a_relative_without_a_first_name_is_left_out_of_the_card_and_reported(mock_client: MockClientFactory):
    temp = {"use": "temp", "line": ["Testvej 1"], "postalCode": "5000", "city": "Odense C"}
    entries = [_patient(HANS, address=[temp, temp]), _relative(HANS, ["Inge"]), _relative(HANS, [" "])]
    bundle = {"resourceType": "Bundle", "entry": [{"resource": r} for r in entries]}
    client = mock_client(lambda request: httpx.Response(200, json=bundle), "stamkort")

    card = (await StamkortSource(client).master_cards_for([HANS]))[HANS]

    assert isinstance(card, MasterCardRecord)
    assert [r.first_name for r in card.relatives] == ["Inge"]
    assert card.temporary_address is None  # two temporary addresses: neither can be told to be the one
    assert [type(p) for p in card.problems] == [SourceResponseInvalid, SourceResponseInvalid]
    assert all(p.source == "stamkort" and HANS not in str(p) for p in card.problems)


async def test_garbage_and_non_json_are_invalid(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(stamkort.create_app(population), "stamkort")
    source = StamkortSource(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.master_cards_for([HANS])


async def test_update_of_an_unknown_patient_is_rejected_as_not_found(
    fresh_population, sandbox_client: SandboxClientFactory
):
    client, _ = sandbox_client(stamkort.create_app(fresh_population), "stamkort")
    card = MasterCardRecord("0101010000", "1", phone="70112233")

    with pytest.raises(SourceRejected) as caught:
        await StamkortSource(client).update_master_card(card, "1")

    assert not isinstance(caught.value, SourceVersionConflict)
    assert "0101010000" not in str(caught.value)


async def test_precondition_required_is_unavailable_not_a_conflict_or_a_rejection(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(428, json={"resourceType": "OperationOutcome"}), "stamkort")

    with pytest.raises(SourceUnavailable) as caught:
        await StamkortSource(client).update_master_card(MasterCardRecord(HANS, "1"), "1")

    assert not isinstance(caught.value, SourceRejected)


async def test_update_sends_if_match_with_the_expected_version(mock_client: MockClientFactory):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(412, json={"resourceType": "OperationOutcome"})

    with pytest.raises(SourceVersionConflict):
        await StamkortSource(mock_client(handler, "stamkort")).update_master_card(MasterCardRecord(HANS, "7"), "7")

    assert [(r.method, r.url.path, r.headers["if-match"]) for r in seen] == [("PUT", f"/fhir/Patient/{HANS}", 'W/"7"')]


@pytest.mark.parametrize("status", [200, 204])
async def test_update_answered_without_the_stored_card_is_invalid(mock_client: MockClientFactory, status: int):
    client = mock_client(lambda request: httpx.Response(status, content=b""), "stamkort")

    with pytest.raises(SourceResponseInvalid):
        await StamkortSource(client).update_master_card(MasterCardRecord(HANS, "1"), "1")


async def test_a_relative_naming_its_card_by_a_literal_patient_reference_is_on_that_card_only(
    mock_client: MockClientFactory,
):
    mine, theirs = {**_patient(HANS), "id": "p-1"}, {**_patient(OTHER), "id": "p-2"}
    relative = {"resourceType": "RelatedPerson", "patient": {"reference": "Patient/p-1"}, "name": [{"given": ["Inge"]}]}
    unknown = {**relative, "patient": {"reference": "Patient/p-9"}, "name": [{"given": ["Mads"]}]}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": r} for r in (mine, theirs, relative, unknown)]}
    client = mock_client(lambda request: httpx.Response(200, json=bundle), "stamkort")

    cards = await StamkortSource(client).master_cards_for([HANS, OTHER])

    hans, other = cards[HANS], cards[OTHER]
    assert isinstance(hans, MasterCardRecord) and isinstance(other, MasterCardRecord)
    assert [r.first_name for r in hans.relatives] == ["Inge"]
    assert other.relatives == ()
    assert len(hans.problems) == len(other.problems) == 1  # the relative of no card that can be told
