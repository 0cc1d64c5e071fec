"""Contract tests: ``YderregisterSource`` against the simulated Sikrede + Yderregister service."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from sandbox.personas import HASSERIS, VALDEMARSGADE
from sandbox.population import Population
from sandbox.yderregister import create_app, organization_resource, practitioner_role_resources
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.models import AddressRecord, DoctorRecord, GpAssignmentRecord, PracticeRecord
from sources.yderregister import YDER_SYSTEM, YderregisterSource
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

UNKNOWN_CPR = "3112999998"
SOME_CPR = "1403723705"

Call = Callable[[YderregisterSource], Awaitable[dict[str, Any]]]
CALLS: dict[str, Call] = {
    "gp_assignments": lambda source: source.gp_assignments_for([SOME_CPR]),
    "practices": lambda source: source.practices_for([HASSERIS]),
}


def _source(population: Population, sandbox_client: SandboxClientFactory) -> tuple[YderregisterSource, Any]:
    client, controlled = sandbox_client(create_app(population), "yderregister")
    return YderregisterSource(client), controlled


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


async def test_hans_is_listed_with_hasseris_in_group_1(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    hans = population.personas["hans"]

    record = (await source.gp_assignments_for([hans]))[hans]

    assert isinstance(record, GpAssignmentRecord)
    assert (record.cpr, record.ydernummer, record.insurance_group) == (hans, HASSERIS, 1)


async def test_group_2_person_has_no_gp(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    cpr = population.personas["group2_no_gp"]

    record = (await source.gp_assignments_for([cpr]))[cpr]

    assert isinstance(record, GpAssignmentRecord)
    assert (record.ydernummer, record.insurance_group) == (None, 2)


async def test_two_patients_gp_assignments_are_fetched_in_one_request(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)
    hans, group2 = population.personas["hans"], population.personas["group2_no_gp"]

    records = await source.gp_assignments_for([hans, group2, hans])

    assert list(records) == [hans, group2]
    assert all(record is not None for record in records.values())
    assert len(controlled.recorder.requests) == 1
    request = controlled.recorder.requests[0]
    assert request.path == "/sikrede"
    assert parse_qs(request.query)["cpr"] == [f"{hans},{group2}"]


async def test_unknown_cpr_has_no_gp_assignment(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    hans = population.personas["hans"]

    records = await source.gp_assignments_for([hans, UNKNOWN_CPR])

    assert records[UNKNOWN_CPR] is None
    assert records[hans] is not None


async def test_hasseris_comes_back_with_its_doctors(population, sandbox_client):
    source, _ = _source(population, sandbox_client)

    practice = (await source.practices_for([HASSERIS]))[HASSERIS]

    assert isinstance(practice, PracticeRecord)
    assert practice.ydernummer == HASSERIS
    assert practice.sor == "61741000016007"
    assert practice.name == "Lægerne Hasseris Bymidte"
    assert practice.phone == "98182233"
    assert practice.address == AddressRecord("Testhasserisgade 20", "9000", "Aalborg", "0851")
    assert practice.doctors == (
        DoctorRecord("Peter Test Sønderby", "005ML"),
        DoctorRecord("Hanne Test Mikkelsen", "H7K2N"),
    )


async def test_two_practices_are_fetched_in_one_request_and_keep_their_own_doctors(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)

    practices = await source.practices_for([HASSERIS, VALDEMARSGADE])

    assert len(controlled.recorder.requests) == 1
    request = controlled.recorder.requests[0]
    assert request.path == "/fhir/Organization"
    assert parse_qs(request.query)["identifier"] == [f"{YDER_SYSTEM}|{HASSERIS},{VALDEMARSGADE}"]
    valdemarsgade = practices[VALDEMARSGADE]
    assert isinstance(valdemarsgade, PracticeRecord)
    assert valdemarsgade.doctors == (DoctorRecord("Kirsten Test Andersen", "B4TZ9"),)
    hasseris = practices[HASSERIS]
    assert isinstance(hasseris, PracticeRecord)
    assert len(hasseris.doctors) == 2


async def test_every_sandbox_practice_round_trips(population, sandbox_client):
    source, _ = _source(population, sandbox_client)

    records = await source.practices_for(list(population.practices))

    for ydernummer, practice in population.practices.items():
        record = records[ydernummer]
        assert isinstance(record, PracticeRecord)
        assert (record.sor, record.name, record.phone) == (practice.sor, practice.name, practice.phone)
        assert record.doctors == tuple(DoctorRecord(d.name, d.authorization_id) for d in practice.doctors)


async def test_unknown_ydernummer_maps_to_none_and_is_kept_as_given(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    unpadded = HASSERIS.lstrip("0")

    practices = await source.practices_for([unpadded, "999999"])

    assert practices == {unpadded: None, "999999": None}


@pytest.mark.parametrize("call", ["gp_assignments", "practices"])
async def test_empty_input_makes_no_request(population, sandbox_client, call):
    source, controlled = _source(population, sandbox_client)
    method = source.gp_assignments_for if call == "gp_assignments" else source.practices_for

    assert await method([]) == {}
    assert controlled.recorder.requests == []


async def test_malformed_keys_are_refused_before_any_request(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)

    with pytest.raises(ValueError, match="not a CPR number"):
        await source.gp_assignments_for(["14037237"])
    with pytest.raises(ValueError, match="not a ydernummer"):
        await source.practices_for(["0774100"])
    assert controlled.recorder.requests == []


async def test_sandbox_answers_400_to_malformed_parameters(population):
    transport = httpx.ASGITransport(app=create_app(population))
    async with httpx.AsyncClient(transport=transport, base_url="http://yder.sandbox") as client:
        for path, params in (
            ("/sikrede", {}),
            ("/sikrede", {"cpr": "14037237"}),
            ("/fhir/Organization", {"identifier": HASSERIS}),
            ("/fhir/Organization", {"identifier": f"{YDER_SYSTEM}|0774100"}),
        ):
            response = await client.get(path, params=params)
            assert response.status_code == 400


@pytest.mark.parametrize("call", list(CALLS))
async def test_sandbox_down_is_source_unavailable(population, sandbox_client, call):
    source, controlled = _source(population, sandbox_client)
    controlled.faults.mode = "down"

    with pytest.raises(SourceUnavailable):
        await CALLS[call](source)


@pytest.mark.parametrize("mode", ["garbage", "not_json"])
@pytest.mark.parametrize("call", list(CALLS))
async def test_sandbox_garbage_is_response_invalid(population, sandbox_client, call, mode):
    source, controlled = _source(population, sandbox_client)
    controlled.faults.mode = mode

    with pytest.raises(SourceResponseInvalid):
        await CALLS[call](source)


@pytest.mark.parametrize("status", [500, 503, 404, 400])
@pytest.mark.parametrize("call", list(CALLS))
async def test_error_status_is_source_unavailable(mock_client: MockClientFactory, call, status):
    source = YderregisterSource(mock_client(lambda request: httpx.Response(status, json={}), "yderregister"))

    with pytest.raises(SourceUnavailable) as caught:
        await CALLS[call](source)
    assert not isinstance(caught.value, SourceTimeout)


@pytest.mark.parametrize("call", list(CALLS))
async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory, call):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    source = YderregisterSource(mock_client(handler, "yderregister"))

    with pytest.raises(SourceTimeout):
        await CALLS[call](source)


@pytest.mark.parametrize("call", list(CALLS))
async def test_non_json_body_is_response_invalid(mock_client: MockClientFactory, call):
    source = YderregisterSource(mock_client(lambda request: httpx.Response(200, text="not json"), "yderregister"))

    with pytest.raises(SourceResponseInvalid):
        await CALLS[call](source)


def _sikrede_entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"cpr": SOME_CPR, "egenLaegeYdernummer": HASSERIS, "sygesikringsgruppe": 1}
    entry.update(changes)
    return {"entries": [entry]}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"entries": {"cpr": SOME_CPR}}, id="entries_not_a_list"),
        pytest.param({}, id="no_entries"),
        pytest.param([], id="top_level_list"),
    ],
)
async def test_a_sikrede_answer_that_is_not_the_document_is_invalid(mock_client: MockClientFactory, payload):
    source = YderregisterSource(mock_client(lambda request: httpx.Response(200, json=payload), "yderregister"))

    with pytest.raises(SourceResponseInvalid):
        await source.gp_assignments_for([SOME_CPR])


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(_sikrede_entry(cpr="14037237"), id="cpr_not_ten_digits"),
        pytest.param(_sikrede_entry(cpr=1403723705), id="cpr_a_number"),
        pytest.param(_sikrede_entry(egenLaegeYdernummer="0774100"), id="ydernummer_too_long"),
        pytest.param(_sikrede_entry(sygesikringsgruppe="1"), id="group_a_string"),
        pytest.param(_sikrede_entry(sygesikringsgruppe=True), id="group_a_boolean"),
        pytest.param(_sikrede_entry(sygesikringsgruppe=3), id="group_unknown"),
    ],
)
async def test_a_sikrede_entry_that_cannot_be_read_fails_its_patient_without_cpr_in_the_message(
    mock_client: MockClientFactory, payload
):
    source = YderregisterSource(mock_client(lambda request: httpx.Response(200, json=payload), "yderregister"))

    error = (await source.gp_assignments_for([SOME_CPR]))[SOME_CPR]

    assert isinstance(error, SourceResponseInvalid)
    for text in (str(error), str(error.__cause__)):
        assert SOME_CPR not in text
        assert "14037237" not in text


def _broken_bundle(population: Population, change: str) -> dict[str, Any]:
    practice = population.practices[HASSERIS]
    organization = copy.deepcopy(organization_resource(practice))
    roles = copy.deepcopy(practitioner_role_resources(practice))
    bundle = _bundle(organization, *roles)
    if change == "bundle_resource_type":
        bundle["resourceType"] = "OperationOutcome"
    elif change == "unexpected_resource_type":
        bundle["entry"].append({"resource": {"resourceType": "Patient"}})
    elif change == "organization_without_ydernummer":
        organization["identifier"] = [i for i in organization["identifier"] if i["system"] != YDER_SYSTEM]
    elif change == "organization_without_name":
        del organization["name"]
    elif change == "role_without_organization":
        del roles[0]["organization"]
    elif change == "role_without_display_name":
        del roles[0]["practitioner"]["display"]
    elif change == "address_without_city":
        del organization["address"][0]["city"]
    else:  # pragma: no cover
        raise AssertionError(change)
    return bundle


async def test_an_organization_answer_that_is_not_a_bundle_is_invalid(population, mock_client: MockClientFactory):
    bundle = _broken_bundle(population, "bundle_resource_type")
    source = YderregisterSource(mock_client(lambda request: httpx.Response(200, json=bundle), "yderregister"))

    with pytest.raises(SourceResponseInvalid):
        await source.practices_for([HASSERIS])


@pytest.mark.parametrize("change", ["organization_without_ydernummer", "organization_without_name"])
async def test_a_practice_that_cannot_be_read_fails_only_its_key_without_data_in_the_message(
    population, mock_client: MockClientFactory, change
):
    bundle = _broken_bundle(population, change)
    source = YderregisterSource(mock_client(lambda request: httpx.Response(200, json=bundle), "yderregister"))

    error = (await source.practices_for([HASSERIS]))[HASSERIS]

    assert isinstance(error, SourceResponseInvalid)
    for text in (str(error), str(error.__cause__)):
        assert "Sønderby" not in text
        assert "Hasseris" not in text


@pytest.mark.parametrize("change", ["role_without_organization", "role_without_display_name"])
async def test_a_doctor_that_cannot_be_read_is_left_out_and_reported(
    population, mock_client: MockClientFactory, change
):
    bundle = _broken_bundle(population, change)
    source = YderregisterSource(mock_client(lambda request: httpx.Response(200, json=bundle), "yderregister"))

    practice = (await source.practices_for([HASSERIS]))[HASSERIS]

    assert isinstance(practice, PracticeRecord)
    assert len(practice.doctors) == len(population.practices[HASSERIS].doctors) - 1
    assert [type(p) for p in practice.problems] == [SourceResponseInvalid]


@pytest.mark.parametrize("change", ["unexpected_resource_type", "address_without_city"])
async def test_an_odd_practice_is_returned_with_what_is_known(population, mock_client: MockClientFactory, change):
    bundle = _broken_bundle(population, change)
    source = YderregisterSource(mock_client(lambda request: httpx.Response(200, json=bundle), "yderregister"))

    practice = (await source.practices_for([HASSERIS]))[HASSERIS]

    assert isinstance(practice, PracticeRecord)
    assert practice.problems == ()
