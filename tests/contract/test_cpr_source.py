"""Contract tests: ``CprSource`` against the simulated CPR service and against injected failures."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.cpr import create_app, patient_resource
from sandbox.population import Population
from sources.base import SourceClient, SourceConfig
from sources.cpr import CPR_SYSTEM, CprSource
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.models import AddressRecord, PersonRecord, Sex
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

UNKNOWN_CPR = "3112999998"


def _source(population: Population, sandbox_client: SandboxClientFactory) -> tuple[CprSource, Any]:
    client, controlled = sandbox_client(create_app(population), "cpr")
    return CprSource(client), controlled


def _bundle(*patients: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(patients),
        "entry": [{"resource": p} for p in patients],
    }


async def test_hans_comes_back_with_name_address_and_status(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    cpr = population.personas["hans"]

    record = (await source.persons_for([cpr]))[cpr]

    assert record is not None
    assert record.cpr == cpr
    assert (record.given_name, record.family_name) == ("Hans Test", "Jensen")
    assert record.sex is Sex.MALE
    assert record.birth_date == date(1972, 3, 14)
    assert (record.status, record.status_date) == ("01", None)
    assert record.address == AddressRecord("Testvestergade 12, 2. th", "5000", "Odense C", "0461")
    assert record.protected is False
    assert record.civil_status == "U"
    assert record.replaced_by is None


async def test_protected_person_is_flagged_and_served_in_full(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    cpr = population.personas["protected"]

    record = (await source.persons_for([cpr]))[cpr]

    assert record is not None
    assert record.protected is True
    assert record.family_name == "Berggren"
    assert record.address is not None


async def test_dead_person_has_status_90_its_date_and_no_address(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    cpr = population.personas["dead"]

    record = (await source.persons_for([cpr]))[cpr]

    assert record is not None
    assert (record.status, record.status_date) == ("90", date(2025, 2, 11))
    assert record.address is None


async def test_emigrated_person_has_status_80_its_date_and_keeps_the_address(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    cpr = population.personas["emigrated"]

    record = (await source.persons_for([cpr]))[cpr]

    assert record is not None
    assert (record.status, record.status_date) == ("80", date(2023, 8, 1))
    assert record.sex is Sex.FEMALE
    assert record.address is not None


async def test_changed_number_points_to_its_replacement(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    old, new = population.personas["changed_cpr_old"], population.personas["changed_cpr_new"]

    records = await source.persons_for([old, new])

    changed, current = records[old], records[new]
    assert changed is not None
    assert changed.status == "60"
    assert changed.replaced_by == new
    assert changed.address is None
    assert current is not None
    assert current.replaced_by is None


async def test_custody_holders_and_guardians_come_back(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    child = population.personas["child_under_15"]
    ward = next(cpr for cpr, person in population.persons.items() if person.guardians)

    records = await source.persons_for([child, ward])

    child_record, ward_record = records[child], records[ward]
    assert child_record is not None
    assert child_record.custody_holders == (population.personas["mother"], population.personas["father"])
    assert ward_record is not None
    assert ward_record.guardians == tuple(population.persons[ward].guardians)


async def test_every_sandbox_person_round_trips(population, sandbox_client):
    source, _ = _source(population, sandbox_client)

    records = await source.persons_for(list(population.persons))

    for cpr, person in population.persons.items():
        record = records[cpr]
        if person.left_out:  # CPR answers without this persona on purpose
            assert record is None
            continue
        assert record is not None
        assert (record.given_name, record.family_name) == (person.given_name, person.family_name)
        assert record.sex is (Sex.MALE if person.male else Sex.FEMALE)
        assert record.birth_date == person.birth_date
        assert (record.status, record.status_date, record.protected) == (
            person.status,
            person.status_date,
            person.protected or person.security_wire is not None,  # an odd label is read as protection
        )
        expected_civil = {"L": "E", "D": None}.get(person.civil_status, person.civil_status)
        assert record.civil_status == expected_civil
        assert record.replaced_by == person.replaced_by


async def test_two_patients_are_fetched_in_one_request(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)
    hans, dead = population.personas["hans"], population.personas["dead"]

    records = await source.persons_for([hans, dead])

    assert set(records) == {hans, dead}
    assert len(controlled.recorder.requests) == 1
    request = controlled.recorder.requests[0]
    assert request.path == "/fhir/Patient"
    assert parse_qs(request.query)["identifier"] == [f"{CPR_SYSTEM}|{hans},{dead}"]


async def test_repeated_cpr_is_asked_once(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)
    hans = population.personas["hans"]

    records = await source.persons_for([hans, hans])

    assert list(records) == [hans]
    assert parse_qs(controlled.recorder.requests[0].query)["identifier"] == [f"{CPR_SYSTEM}|{hans}"]


async def test_unknown_cpr_maps_to_none(population, sandbox_client):
    source, _ = _source(population, sandbox_client)
    hans = population.personas["hans"]

    records = await source.persons_for([hans, UNKNOWN_CPR])

    assert records[UNKNOWN_CPR] is None
    assert records[hans] is not None


async def test_empty_input_makes_no_request(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)

    assert await source.persons_for([]) == {}
    assert controlled.recorder.requests == []


async def test_malformed_cpr_is_refused_before_any_request(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)

    with pytest.raises(ValueError, match="not a CPR number"):
        await source.persons_for(["14037237", "1403723705,1"])
    assert controlled.recorder.requests == []


async def test_sandbox_answers_400_to_a_malformed_identifier(population):
    transport = httpx.ASGITransport(app=create_app(population))
    async with httpx.AsyncClient(transport=transport, base_url="http://cpr.sandbox") as client:
        for params in ({}, {"identifier": "1403723705"}, {"identifier": f"{CPR_SYSTEM}|14037"}):
            response = await client.get("/fhir/Patient", params=params)
            assert response.status_code == 400
            assert response.json()["resourceType"] == "OperationOutcome"


async def test_sandbox_down_is_source_unavailable(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)
    controlled.faults.mode = "down"

    with pytest.raises(SourceUnavailable):
        await source.persons_for([population.personas["hans"]])


@pytest.mark.parametrize("mode", ["garbage", "not_json"])
async def test_sandbox_garbage_is_response_invalid(population, sandbox_client, mode):
    source, controlled = _source(population, sandbox_client)
    controlled.faults.mode = mode

    with pytest.raises(SourceResponseInvalid):
        await source.persons_for([population.personas["hans"]])


@pytest.mark.parametrize("status", [500, 503, 404, 400])
async def test_error_status_is_source_unavailable(mock_client: MockClientFactory, status):
    source = CprSource(mock_client(lambda request: httpx.Response(status, json={}), "cpr"))

    with pytest.raises(SourceUnavailable) as caught:
        await source.persons_for(["1403723705"])
    assert not isinstance(caught.value, SourceTimeout)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    source = CprSource(mock_client(handler, "cpr"))

    with pytest.raises(SourceTimeout):
        await source.persons_for(["1403723705"])


async def test_non_json_body_is_response_invalid(mock_client: MockClientFactory):
    source = CprSource(mock_client(lambda request: httpx.Response(200, text="<html>oops</html>"), "cpr"))

    with pytest.raises(SourceResponseInvalid):
        await source.persons_for(["1403723705"])


def _broken(population: Population, change: str) -> dict[str, Any]:
    """A Bundle holding Hans's Patient with one wire-format violation."""
    patient = copy.deepcopy(patient_resource(population.persons[population.personas["hans"]]))
    bundle = _bundle(patient)
    if change == "bundle_resource_type":
        bundle["resourceType"] = "Patient"
    elif change == "entry_resource_type":
        patient["resourceType"] = "Practitioner"
    elif change == "no_identifier":
        del patient["identifier"]
    elif change == "identifier_not_cpr":
        patient["identifier"] = [{"system": "urn:oid:1.2.208.176.1.6.1.1", "value": "1403721VJ4"}]
    elif change == "cpr_not_ten_digits":
        patient["identifier"][0]["value"] = "14037237"
    elif change == "bad_birth_date":
        patient["birthDate"] = "1972-02-31"
    elif change == "numeric_birth_date":
        patient["birthDate"] = 69292800
    elif change == "no_status":
        patient["extension"] = []
    elif change == "bad_status_date":
        patient["extension"].append({"url": "http://patientoverblik.dk/fhir/StructureDefinition/cpr-status-date"})
    elif change == "bad_gender":
        patient["gender"] = "M"
    elif change == "no_name":
        patient["name"] = []
    elif change == "entry_not_list":
        bundle["entry"] = {"resource": patient}
    elif change == "address_without_postal_code":
        del patient["address"][0]["postalCode"]
    elif change == "custody_holder_without_identifier":
        patient["extension"].append({"url": "http://patientoverblik.dk/fhir/StructureDefinition/custody-holder"})
    else:  # pragma: no cover
        raise AssertionError(change)
    return bundle


BATCH_BROKEN = ["bundle_resource_type", "entry_not_list"]
PERSON_BROKEN = ["entry_resource_type", "no_identifier", "identifier_not_cpr", "cpr_not_ten_digits", "no_status"]
PERSON_ODD = [
    "bad_birth_date",
    "numeric_birth_date",
    "bad_status_date",
    "bad_gender",
    "no_name",
    "address_without_postal_code",
    "custody_holder_without_identifier",
]


@pytest.mark.parametrize("change", BATCH_BROKEN)
async def test_an_answer_that_is_not_a_searchset_is_invalid_without_data_in_the_message(
    population, mock_client: MockClientFactory, change
):
    bundle = _broken(population, change)
    source = CprSource(mock_client(lambda request: httpx.Response(200, json=bundle), "cpr"))
    hans = population.personas["hans"]

    with pytest.raises(SourceResponseInvalid) as caught:
        await source.persons_for([hans])

    assert hans not in str(caught.value)
    assert hans not in str(caught.value.__cause__)


@pytest.mark.parametrize("change", PERSON_BROKEN)
async def test_a_person_that_cannot_be_read_fails_only_that_person_without_data_in_the_message(
    population, mock_client: MockClientFactory, change
):
    hans, dead = population.personas["hans"], population.personas["dead"]
    bundle = _broken(population, change)
    bundle["entry"].append({"resource": patient_resource(population.persons[dead])})
    source = CprSource(mock_client(lambda request: httpx.Response(200, json=bundle), "cpr"))

    answer = await source.read_persons([hans, dead])
    decided = await source.persons_for([hans, dead])

    error = answer[hans]
    assert isinstance(error, SourceResponseInvalid)
    assert isinstance(answer[dead], PersonRecord)
    assert decided == {hans: None, dead: answer[dead]}  # decisions fail closed on the unreadable person
    for text in (str(error), str(error.__cause__)):
        assert hans not in text
        assert "14037237" not in text
        assert "Jensen" not in text
        assert "1972" not in text


@pytest.mark.parametrize("change", PERSON_ODD)
async def test_an_odd_person_is_returned_with_what_is_known(population, mock_client: MockClientFactory, change):
    bundle = _broken(population, change)
    source = CprSource(mock_client(lambda request: httpx.Response(200, json=bundle), "cpr"))
    hans = population.personas["hans"]

    person = (await source.read_persons([hans]))[hans]

    assert isinstance(person, PersonRecord)
    assert person.cpr == hans
    assert person.status == "01"


async def test_patient_not_asked_for_is_ignored(population, mock_client: MockClientFactory):
    persons = population.persons
    bundle = _bundle(*(patient_resource(persons[population.personas[k]]) for k in ("hans", "dead")))
    source = CprSource(mock_client(lambda request: httpx.Response(200, json=bundle), "cpr"))
    hans = population.personas["hans"]

    records = await source.persons_for([hans])

    assert list(records) == [hans]
    assert records[hans] is not None


def _wire_birth_date(born: date, precision: str, offset_minutes: int) -> str:
    if precision == "year":
        return f"{born.year:04d}"
    if precision == "month":
        return f"{born.year:04d}-{born.month:02d}"
    if precision == "day":
        return born.isoformat()
    moment = datetime(born.year, born.month, born.day, 12, tzinfo=timezone(timedelta(minutes=offset_minutes)))
    return moment.isoformat()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["year", "month", "day", "dateTime"]),
    st.integers(-14 * 4, 14 * 4).map(lambda q: q * 15),
    st.booleans(),
)
async def test_a_birth_date_of_any_precision_or_a_datetime_never_loses_the_person(
    population, precision: str, offset_minutes: int, fixed_address: bool
):
    person = population.persons[population.personas["hans"]]
    patient = copy.deepcopy(patient_resource(person))
    patient["birthDate"] = _wire_birth_date(person.birth_date, precision, offset_minutes)
    if fixed_address:
        patient["address"] = [{"use": "home", "line": ["Uden fast bopæl"]}]
    bundle = _bundle(patient)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=bundle))
    async with httpx.AsyncClient(transport=transport, base_url="http://cpr.mock") as http:
        found = await CprSource(SourceClient(SourceConfig("cpr", "http://cpr.mock"), http)).read_persons([person.cpr])

    record = found[person.cpr]
    assert isinstance(record, PersonRecord)
    moment = datetime(person.birth_date.year, person.birth_date.month, person.birth_date.day, 12,
                      tzinfo=timezone(timedelta(minutes=offset_minutes)))  # fmt: skip
    expected = moment.astimezone(ZoneInfo("Europe/Copenhagen")).date() if precision == "dateTime" else person.birth_date
    assert record.birth_date == expected
    if fixed_address:
        assert record.address == AddressRecord("Uden fast bopæl", None, None)


async def test_the_persons_a_holder_has_custody_or_guardianship_of_in_one_request(population, sandbox_client):
    source, controlled = _source(population, sandbox_client)
    mother, guardian = population.personas["mother"], population.personas["guardian"]

    children = await source.represented_by(mother)
    wards = await source.represented_by(guardian)

    assert {population.personas["child_under_15"], population.personas["child_15"]} <= {p.cpr for p in children}
    assert all(mother in p.custody_holders for p in children)
    assert population.personas["ward"] in {p.cpr for p in wards}
    assert [parse_qs(r.query)["relation-holder"] for r in controlled.recorder.requests] == [
        [f"{CPR_SYSTEM}|{mother}"],
        [f"{CPR_SYSTEM}|{guardian}"],
    ]


async def test_a_listed_person_who_does_not_name_the_holder_is_left_out(population, mock_client: MockClientFactory):
    hans = population.persons[population.personas["hans"]]
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": patient_resource(hans)}]}
    source = CprSource(mock_client(lambda request: httpx.Response(200, json=bundle), "cpr"))

    assert await source.represented_by("1908830938") == []
