"""Contract tests for the FHIR ``Appointment`` adapter against the simulated appointment endpoints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import appointments as simulated
from sandbox.clinical import (
    DIALYSIS,
    LUNG_CLINIC,
    NEPHROLOGY,
    ODENSE_HOME_CARE,
    REGION_SYDDANMARK,
    UROLOGY,
    Appointment,
)
from sandbox.control import Controlled
from sandbox.population import Address, Doctor, Person, Population, Practice
from sources.appointments import FhirAppointmentSource
from sources.base import SourceClient, SourceConfig
from sources.clinical import (
    AppointmentStatus,
    ClinicalSearch,
    CodingRecord,
    DateWindow,
    Endpoint,
    LocationRecord,
    OrganisationKind,
    OrganisationRef,
)
from sources.errors import SourceIncomplete, SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.fhir_search import MAX_PAGES, resolve_link
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

CPH = ZoneInfo("Europe/Copenhagen")
NANCY = "2512489996"
MAGNUS = "0504909995"
ENDPOINT = Endpoint("region-syddanmark", OrganisationKind.REGION, REGION_SYDDANMARK)
PRACTICE_SOR = "393421000016009"


def _id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def _appointment(number: int, start: datetime, **changes: Any) -> Appointment:
    values: dict[str, Any] = {
        "cpr": NANCY,
        "endpoints": ("region-syddanmark", "dds"),
        "organisation_sor": NEPHROLOGY,
        "end": None,
    }
    values.update(changes)
    return Appointment(_id(number), start=start, **values)


@pytest.fixture
def world() -> Population:
    """A population of our own (no generated clinical data): two patients, one practice."""
    population = Population(seed=1)
    home = Address("Testvej 12", "5230", "Odense M", "0461")
    population.add(Person(NANCY, "Nancy Ann Test", "Berggren", False, home))
    population.add(Person(MAGNUS, "Magnus Test", "Lauridsen", True, home))
    practice_address = Address("Testvaldemarsgade 10", "5000", "Odense C", "0461")
    population.practices["100001"] = Practice(
        "100001", PRACTICE_SOR, "Lægehuset Valdemarsgade", practice_address, "65119999", [Doctor("Test", "ABCDE")]
    )
    return population


def _source(client: SourceClient, endpoint: Endpoint = ENDPOINT) -> FhirAppointmentSource:
    return FhirAppointmentSource(client, endpoint)


def _query(controlled_request: Any) -> list[tuple[str, str]]:
    return parse_qsl(controlled_request.query, keep_blank_values=True)


async def test_search_pushes_down_patients_window_status_and_excluded_organisations(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 3, 10, 9, 0, tzinfo=CPH)),
        _appointment(2, datetime(2030, 3, 11, 9, 0, tzinfo=CPH), organisation_sor=DIALYSIS),
        _appointment(3, datetime(2030, 3, 12, 9, 0, tzinfo=CPH), status="cancelled"),
        _appointment(4, datetime(2030, 8, 1, 9, 0, tzinfo=CPH)),
        _appointment(5, datetime(2030, 3, 13, 9, 0, tzinfo=CPH), cpr=MAGNUS),
        _appointment(6, datetime(2030, 3, 14, 9, 0, tzinfo=CPH), endpoints=("gp",)),
    ]
    client, controlled = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")
    search = ClinicalSearch(
        (NANCY, MAGNUS, NANCY),
        DateWindow(date(2030, 1, 1), date(2030, 7, 1)),
        frozenset({DIALYSIS, UROLOGY}),
        include_cancelled=False,
    )

    answer = await _source(client).appointments_for(search)

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(1)]
    assert [r.id for r in answer.by_patient[MAGNUS]] == [_id(5)]
    assert answer.problems == ()
    [request] = controlled.recorder.requests
    assert request.path == "/fhir/Appointment"
    assert _query(request) == [
        ("patient.identifier", f"urn:oid:1.2.208.176.1.2|{NANCY},{MAGNUS}"),
        ("date", "ge2030-01-01"),
        ("date", "lt2030-07-01"),
        ("status:not", "cancelled"),
        *[("performer-organization:not", f"urn:oid:1.2.208.176.1.1|{sor}") for sor in sorted({DIALYSIS, UROLOGY})],
        ("_include", "Appointment:patient"),
        ("_count", "50"),
    ]


async def test_an_appointment_has_aware_local_times_organisation_location_and_reason(
    world: Population, sandbox_client: SandboxClientFactory
):
    utc_start = datetime(2030, 5, 4, 7, 30, tzinfo=ZoneInfo("UTC"))
    world.clinical.appointments.append(
        _appointment(1, utc_start, end=datetime(2030, 5, 4, 10, 15, tzinfo=CPH), room="opgang 4, 3 sal rum 101")
    )
    world.clinical.appointments[-1].title = "Kontrol af nyrefunktion"
    world.clinical.appointments[-1].version = 2
    client, _ = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")

    [record] = (await _source(client).appointments_for(ClinicalSearch((NANCY,)))).by_patient[NANCY]

    assert record.start == datetime(2030, 5, 4, 9, 30, tzinfo=CPH)
    assert record.start.tzinfo is UTC  # an instant, localised only at the edge
    assert record.end == datetime(2030, 5, 4, 10, 15, tzinfo=CPH)
    assert record.source == "region-syddanmark"
    assert record.status is AppointmentStatus.BOOKED
    assert record.organisation == OrganisationRef(NEPHROLOGY, "Nefrologisk Afdeling Y, OUH", OrganisationKind.REGION)
    assert record.location == LocationRecord(
        "Nefrologisk Afdeling Y, OUH", NEPHROLOGY, "J. B. Winsløws Vej 4, 5000 Odense C", "opgang 4, 3 sal rum 101"
    )
    assert record.reason == CodingRecord("http://snomed.info/sct", "17436001", "Lægekonsultation med ambulant patient")
    assert record.title == "Kontrol af nyrefunktion"
    assert (record.version, record.all_day, record.indicative) == (2, False, False)


async def test_an_all_day_appointment_starts_at_local_midnight(world: Population, sandbox_client: SandboxClientFactory):
    world.clinical.appointments.append(
        _appointment(1, datetime(2030, 6, 29, 10, 0, tzinfo=CPH), end=datetime(2030, 7, 1, tzinfo=CPH), all_day=True)
    )
    client, _ = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")

    [record] = (await _source(client).appointments_for(ClinicalSearch((NANCY,)))).by_patient[NANCY]

    assert record.all_day
    assert record.start == datetime(2030, 6, 29, tzinfo=CPH)
    assert record.end == datetime(2030, 7, 1, tzinfo=CPH)


async def test_an_indicative_time_at_home_carries_its_note(world: Population, sandbox_client: SandboxClientFactory):
    note = "Morgen aftale \N{EN DASH} tidspunktet er vejledende"
    world.clinical.appointments.append(
        _appointment(
            1,
            datetime(2030, 3, 10, 7, 0, tzinfo=CPH),
            end=datetime(2030, 3, 10, 9, 0, tzinfo=CPH),
            endpoints=("municipality-odense",),
            organisation_sor=ODENSE_HOME_CARE,
            time_note=note,
            at_home=True,
            reason_system="http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
            reason_code="NI",
            reason_display="Hjemmehjælp",
        )
    )
    client, _ = sandbox_client(simulated.create_app(world, "municipality-odense"), "municipality-odense")
    endpoint = Endpoint("municipality-odense", OrganisationKind.MUNICIPALITY)

    [record] = (await _source(client, endpoint).appointments_for(ClinicalSearch((NANCY,)))).by_patient[NANCY]

    assert record.indicative
    assert record.time_note == note
    assert record.organisation.kind is OrganisationKind.MUNICIPALITY
    assert record.location == LocationRecord("Borgers hjemmeadresse", address="Testvej 12, 5230 Odense M", at_home=True)
    assert record.reason == CodingRecord("http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "NI", "Hjemmehjælp")


async def test_a_gp_practice_is_named_from_the_practice_register(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments.append(
        _appointment(1, datetime(2030, 3, 10, 9, 0, tzinfo=CPH), endpoints=("gp",), organisation_sor=PRACTICE_SOR)
    )
    client, _ = sandbox_client(simulated.create_app(world, "gp"), "gp")

    answer = await _source(client, Endpoint("gp", OrganisationKind.GP)).appointments_for(ClinicalSearch((NANCY,)))

    assert answer.by_patient[NANCY][0].organisation == OrganisationRef(
        PRACTICE_SOR, "Lægehuset Valdemarsgade", OrganisationKind.GP
    )


async def test_every_page_is_followed(world: Population, sandbox_client: SandboxClientFactory):
    world.clinical.appointments += [
        _appointment(n, datetime(2030, 1, 1 + n % 28, 8 + n % 9, 0, tzinfo=CPH)) for n in range(1, 61)
    ]
    client, controlled = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")

    answer = await _source(client).appointments_for(ClinicalSearch((NANCY,)))

    assert sorted(r.id for r in answer.by_patient[NANCY]) == [_id(n) for n in range(1, 61)]
    assert len(controlled.recorder.requests) == 2
    assert ("_offset", "50") in _query(controlled.recorder.requests[1])
    assert [r.start for r in answer.by_patient[NANCY]] == sorted(r.start for r in answer.by_patient[NANCY])


async def test_a_deprecated_appointment_is_cancelled_and_left_out_unless_asked_for(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments.append(_appointment(1, datetime(2030, 3, 10, 9, 0, tzinfo=CPH), deprecated=True))
    client, _ = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")
    source = _source(client)

    with_cancelled = await source.appointments_for(ClinicalSearch((NANCY,)))
    without = await source.appointments_for(ClinicalSearch((NANCY,), include_cancelled=False))

    assert [r.status for r in with_cancelled.by_patient[NANCY]] == [AppointmentStatus.CANCELLED]
    assert without.by_patient[NANCY] == []


def _bundle(*resources: dict[str, Any], link: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
        "link": link or [],
    }


def _resource(number: int, start: str, organisation: str = NEPHROLOGY, **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(number),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{_id(number)}"}],
        "status": "booked",
        "start": start,
        "participant": [
            {"actor": {"type": "Patient", "identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": NANCY}}},
            {
                "actor": {
                    "type": "HealthcareService",
                    "identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": organisation},
                    "display": "Afdeling",
                }
            },
        ],
    }
    resource.update(changes)
    return resource


async def test_excluded_organisations_and_items_outside_the_window_are_dropped_even_when_returned(
    mock_client: MockClientFactory,
):
    returned = _bundle(
        _resource(1, "2030-03-10T09:00:00+01:00"),
        _resource(2, "2030-03-10T09:00:00+01:00", organisation=DIALYSIS),
        _resource(3, "2029-12-31T23:30:00+01:00"),
        _resource(4, "2030-06-30T22:30:00Z"),
        _resource(5, "2030-03-11T09:00:00+01:00", status="cancelled"),
    )
    client = mock_client(lambda request: httpx.Response(200, json=returned), "region-syddanmark")
    search = ClinicalSearch(
        (NANCY,), DateWindow(date(2030, 1, 1), date(2030, 7, 1)), frozenset({DIALYSIS}), include_cancelled=False
    )

    answer = await _source(client).appointments_for(search)

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(1)]


async def test_excluding_only_the_owning_organisation_still_asks_for_its_units_items(
    world: Population, sandbox_client: SandboxClientFactory
):
    # a block on the region itself, without sub-units, must not hide its hospitals' appointments;
    # skipping a wholly blocked endpoint is the gateway's decision (resolvers/gather.py), not the adapter's
    client, controlled = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")
    search = ClinicalSearch((NANCY,), exclude_organisations=frozenset({REGION_SYDDANMARK}))

    await _source(client).appointments_for(search)

    assert len(controlled.recorder.requests) == 1


async def test_no_patients_or_an_empty_window_sends_no_request(world: Population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")
    source = _source(client)

    assert (await source.appointments_for(ClinicalSearch(()))).by_patient == {}
    empty = await source.appointments_for(ClinicalSearch((NANCY,), DateWindow(date(2030, 2, 1), date(2030, 2, 1))))
    assert empty.by_patient == {NANCY: []}
    assert controlled.recorder.requests == []
    with pytest.raises(ValueError, match="not a CPR number"):
        await source.appointments_for(ClinicalSearch(("12345",)))


_PATIENT_ONLY = [{"actor": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": NANCY}}}]


_GOOD = _resource(9, "2030-03-11T09:00:00+01:00")
_BAD_APPOINTMENTS = {
    "start-without-offset": _resource(1, "2030-03-10T09:00:00"),
    "start-is-a-date": _resource(1, "2030-03-10"),
    "start-is-a-number": _resource(1, 1893456000),  # type: ignore[arg-type]
    "unknown-status": _resource(1, "2030-03-10T09:00:00+01:00", status="confirmed"),
    "untyped-cpr-actor": _resource(1, "2030-03-10T09:00:00+01:00", participant=_PATIENT_ONLY),
    "no-participants": _resource(1, "2030-03-10T09:00:00+01:00", participant=[]),
    "identifier-not-a-uuid": _resource(
        1, "2030-03-10T09:00:00+01:00", identifier=[{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:x"}]
    ),
    "ends-before-start": _resource(1, "2030-03-10T09:00:00+01:00", end="2030-03-10T08:00:00+01:00"),
    "no-identifier": _resource(1, "2030-03-10T09:00:00+01:00", identifier=[], id=None),
    "performer-sor-garbage": _resource(1, "2030-03-10T09:00:00+01:00", organisation="SOR?"),
}


@pytest.mark.parametrize("bad", list(_BAD_APPOINTMENTS.values()), ids=list(_BAD_APPOINTMENTS))
async def test_a_malformed_appointment_is_left_out_and_reported_never_the_endpoint(
    mock_client: MockClientFactory, bad: dict[str, Any]
):
    client = mock_client(lambda request: httpx.Response(200, json=_bundle(bad, _GOOD)), "region-syddanmark")

    answer = await _source(client).appointments_for(ClinicalSearch((NANCY,)))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(9)]
    [problem] = answer.problems
    assert isinstance(problem.error, SourceResponseInvalid)
    assert problem.error.source == "region-syddanmark"
    assert NANCY not in str(problem.error)
    assert NANCY not in str(problem.error.__cause__)


async def test_an_answer_that_is_not_a_bundle_is_invalid(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(200, json={"resourceType": "Patient"}), "region-syddanmark")

    with pytest.raises(SourceResponseInvalid):
        await _source(client).appointments_for(ClinicalSearch((NANCY,)))


async def test_garbage_and_non_json_are_invalid(world: Population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await _source(client).appointments_for(ClinicalSearch((NANCY,)))


async def test_server_error_is_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(500, json={"error": NANCY}), "region-syddanmark")

    with pytest.raises(SourceUnavailable) as caught:
        await _source(client).appointments_for(ClinicalSearch((NANCY,)))

    assert NANCY not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await _source(mock_client(hang, "region-syddanmark")).appointments_for(ClinicalSearch((NANCY,)))


async def test_a_next_link_to_another_host_is_never_followed(mock_client: MockClientFactory):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        link = [{"relation": "next", "url": "http://elsewhere.example/fhir/x"}]
        return httpx.Response(200, json=_bundle(_GOOD, link=link))

    answer = await _source(mock_client(handler, "region-syddanmark")).appointments_for(ClinicalSearch((NANCY,)))

    assert len(seen) == 1
    assert [r.id for r in answer.by_patient[NANCY]] == [_id(9)]
    assert [type(p.error) for p in answer.problems] == [SourceResponseInvalid]


async def test_paging_is_bounded(mock_client: MockClientFactory):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        next_url = f"http://region-syddanmark.mock/fhir/Appointment?page={len(seen)}"
        return httpx.Response(200, json=_bundle(link=[{"relation": "next", "url": next_url}]))

    answer = await _source(mock_client(handler, "region-syddanmark")).appointments_for(ClinicalSearch((NANCY,)))

    assert len(seen) == MAX_PAGES
    assert [(type(p.error), p.error.source) for p in answer.problems] == [(SourceIncomplete, "region-syddanmark")]


def test_links_resolve_only_under_the_base_url():
    client = SourceClient(SourceConfig("x", "http://host:8110/region"), httpx.AsyncClient())

    assert resolve_link(client, "http://host:8110/region/fhir/Appointment?_offset=50") == "/fhir/Appointment?_offset=50"
    assert resolve_link(client, "/fhir/Binary/abc") == "/fhir/Binary/abc"
    assert resolve_link(client, "http://host:8110/other/fhir/Appointment") is None
    assert resolve_link(client, "http://host:9999/region/fhir/Appointment") is None
    assert resolve_link(client, "https://host:8110/region/fhir/Appointment") is None
    assert resolve_link(client, "//evil.example/fhir/Binary/abc") is None
    assert resolve_link(client, "/fhir/../admin") is None
    assert resolve_link(client, "fhir/Binary/abc") == "/fhir/Binary/abc"  # relative to the base URL
    assert resolve_link(client, "/fhir/%2e%2e/admin") is None


async def test_the_simulated_endpoint_refuses_unsupported_parameters(world: Population):
    app = simulated.create_app(world, "region-syddanmark")
    identifier = f"urn:oid:1.2.208.176.1.2|{NANCY}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        unknown = await http.get("/fhir/Appointment", params={"patient.identifier": identifier, "actor": "x"})
        bad_date = await http.get(
            "/fhir/Appointment", params={"patient.identifier": identifier, "date": "eq2030-01-01"}
        )
        no_patient = await http.get("/fhir/Appointment", params={"date": "ge2030-01-01"})
        not_cpr = await http.get("/fhir/Appointment", params={"patient.identifier": "12345"})

    assert [r.status_code for r in (unknown, bad_date, no_patient, not_cpr)] == [400, 400, 400, 400]
    assert unknown.json()["resourceType"] == "OperationOutcome"


async def test_the_simulated_endpoint_filters_by_exact_sor_not_by_parent(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 3, 10, 9, 0, tzinfo=CPH), organisation_sor=DIALYSIS),
        _appointment(2, datetime(2030, 3, 10, 9, 0, tzinfo=CPH), organisation_sor=LUNG_CLINIC),
    ]
    client, _ = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")
    search = ClinicalSearch((NANCY,), exclude_organisations=frozenset({NEPHROLOGY}))

    answer = await _source(client).appointments_for(search)

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(1), _id(2)]


@pytest.mark.parametrize("style", ["hapi", "relative", "absolute"])
async def test_a_server_capping_count_at_10_with_210_matches_is_read_whole_whatever_its_links(
    world: Population, sandbox_client: SandboxClientFactory, style: str
):
    world.clinical.appointments += [
        _appointment(n, datetime(2030, 1, 1, 8, tzinfo=CPH) + timedelta(hours=n)) for n in range(1, 211)
    ]
    client, controlled = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")
    controlled.faults.update({"max_count": 10, "next_link": style})

    answer = await _source(client).appointments_for(ClinicalSearch((NANCY,)))

    assert len(answer.by_patient[NANCY]) == 210
    assert answer.problems == ()
    assert len(controlled.recorder.requests) == 21


@pytest.mark.parametrize(
    "next_url",
    [
        "http://region-syddanmark.mock/fhir?_getpages=0b5e&_getpagesoffset=1&_count=1&_bundletype=searchset",
        "Appointment?page=2",
        "/fhir/Appointment?page=2",
        "?page=2",
    ],
    ids=["hapi", "relative-to-the-fhir-base", "path", "query-only"],
)
async def test_next_links_on_the_same_origin_and_fhir_base_are_followed(mock_client: MockClientFactory, next_url: str):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) == 1:
            return httpx.Response(200, json=_bundle(_GOOD, link=[{"relation": "next", "url": next_url}]))
        return httpx.Response(200, json=_bundle(_resource(8, "2030-03-12T09:00:00+01:00")))

    answer = await _source(mock_client(handler, "region-syddanmark")).appointments_for(ClinicalSearch((NANCY,)))

    assert sorted(r.id for r in answer.by_patient[NANCY]) == [_id(8), _id(9)]
    assert answer.problems == ()
    assert seen[0] == "/fhir/Appointment" and seen[1] in ("/fhir", "/fhir/Appointment")


@pytest.mark.parametrize(
    "next_url",
    [
        "http://elsewhere.example/fhir/Appointment?page=2",
        "//elsewhere.example/fhir/Appointment?page=2",
        "https://region-syddanmark.mock/fhir/Appointment?page=2",
        "http://region-syddanmark.mock:8443/fhir/Appointment?page=2",
        "/admin?page=2",
        "../admin",
        "/fhir/%2e%2e/admin",
    ],
)
async def test_next_links_that_leave_the_source_or_its_fhir_base_are_never_followed(
    mock_client: MockClientFactory, next_url: str
):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=_bundle(_GOOD, link=[{"relation": "next", "url": next_url}]))

    answer = await _source(mock_client(handler, "region-syddanmark")).appointments_for(ClinicalSearch((NANCY,)))

    assert len(seen) == 1
    assert [r.id for r in answer.by_patient[NANCY]] == [_id(9)]
    assert [type(p.error) for p in answer.problems] == [SourceResponseInvalid]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 7), st.integers(0, 23), st.sampled_from(["hapi", "relative", "absolute"]))
async def test_every_page_size_and_link_style_reads_every_match_once(cap: int, extra: int, style: str):
    world = Population(seed=1)
    world.clinical.appointments += [
        _appointment(n, datetime(2030, 1, 1, 8, tzinfo=CPH) + timedelta(hours=n)) for n in range(1, extra + 2)
    ]
    controlled = Controlled(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")
    controlled.faults.update({"max_count": cap, "next_link": style})
    config = SourceConfig("region-syddanmark", "http://region.sandbox", retries=0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=controlled), base_url=config.base_url) as http:
        answer = await _source(SourceClient(config, http)).appointments_for(ClinicalSearch((NANCY,)))

    assert sorted(r.id for r in answer.by_patient[NANCY]) == sorted(_id(n) for n in range(1, extra + 2))
    assert answer.problems == ()


@pytest.mark.parametrize("style", ["identifier", "literal", "contained"])
async def test_a_childs_visit_with_a_parent_taking_part_is_filed_under_the_child(
    world: Population, sandbox_client: SandboxClientFactory, style: str
):
    visit = _appointment(1, datetime(2030, 3, 10, 9, tzinfo=CPH), cpr=MAGNUS)
    visit.patient_reference, visit.related_person_cpr = style, NANCY
    world.clinical.appointments.append(visit)
    client, _ = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")

    for_child = await _source(client).appointments_for(ClinicalSearch((MAGNUS,)))
    for_parent = await _source(client).appointments_for(ClinicalSearch((NANCY,)))

    assert [r.id for r in for_child.by_patient[MAGNUS]] == [_id(1)]
    assert for_child.problems == ()
    assert for_parent.by_patient == {NANCY: []}


def _patient_actor(**actor: Any) -> dict[str, Any]:
    return {"actor": actor}


_SERVICE = {
    "actor": {
        "type": "HealthcareService",
        "identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": NEPHROLOGY},
        "display": "Afdeling",
    }
}
_CPR_ID = {"system": "urn:oid:1.2.208.176.1.2", "value": NANCY}


@pytest.mark.parametrize(
    ("participants", "contained", "included"),
    [
        ([_patient_actor(reference="Patient/abc")], [], {"Patient/abc": NANCY}),
        ([_patient_actor(reference="http://region-syddanmark.mock/fhir/Patient/abc")], [], {"Patient/abc": NANCY}),
        ([_patient_actor(reference="Patient/abc/_history/3")], [], {"Patient/abc": NANCY}),
        ([_patient_actor(reference="#p1")], [{"resourceType": "Patient", "id": "p1", "identifier": [_CPR_ID]}], {}),
        ([_patient_actor(type="Patient", identifier={**_CPR_ID, "value": f" {NANCY} "})], [], {}),
    ],
    ids=["literal", "absolute", "history", "contained", "spaced-identifier"],
)
async def test_literal_and_contained_patient_references_are_resolved(
    mock_client: MockClientFactory, participants: list[Any], contained: list[Any], included: dict[str, str]
):
    resource = _resource(1, "2030-03-10T09:00:00+01:00", participant=[*participants, _SERVICE], contained=contained)
    patients = [
        {"resource": {"resourceType": "Patient", "id": ref.split("/")[1], "identifier": [{**_CPR_ID, "value": cpr}]},
         "search": {"mode": "include"}}
        for ref, cpr in included.items()
    ]  # fmt: skip
    body = _bundle(resource)
    body["entry"] += patients
    client = mock_client(lambda request: httpx.Response(200, json=body), "region-syddanmark")

    answer = await _source(client).appointments_for(ClinicalSearch((NANCY,)))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(1)]
    assert answer.problems == ()


@pytest.mark.parametrize(
    ("participants", "contained"),
    [
        ([_patient_actor(reference="Patient/abc")], []),
        ([_patient_actor(type="RelatedPerson", identifier=_CPR_ID)], []),
        ([_patient_actor(reference="#r1")], [{"resourceType": "RelatedPerson", "id": "r1", "identifier": [_CPR_ID]}]),
        ([_patient_actor(type="Patient", reference="#r1")], [{"resourceType": "RelatedPerson", "id": "r1"}]),
        (
            [
                _patient_actor(type="Patient", identifier=_CPR_ID),
                _patient_actor(type="Patient", identifier={**_CPR_ID, "value": MAGNUS}),
            ],
            [],
        ),
    ],
    ids=["literal-not-included", "related-person-only", "contained-related-person", "type-disagrees", "two-patients"],
)
async def test_an_appointment_whose_patient_cannot_be_told_is_reported_never_given_to_another(
    mock_client: MockClientFactory, participants: list[Any], contained: list[Any]
):
    resource = _resource(1, "2030-03-10T09:00:00+01:00", participant=[*participants, _SERVICE], contained=contained)
    client = mock_client(lambda request: httpx.Response(200, json=_bundle(resource, _GOOD)), "region-syddanmark")

    answer = await _source(client).appointments_for(ClinicalSearch((NANCY, MAGNUS)))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(9)]
    assert answer.by_patient[MAGNUS] == []
    assert [type(p.error) for p in answer.problems] == [SourceResponseInvalid]


@pytest.mark.parametrize(
    ("severity", "partial"), [("error", True), ("fatal", True), ("warning", False), ("information", False)]
)
async def test_an_outcome_in_a_200_searchset_makes_the_answer_partial_only_for_errors(
    mock_client: MockClientFactory, severity: str, partial: bool
):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": "timeout"}]}
    body = _bundle(_GOOD)
    body["entry"].append({"resource": outcome, "search": {"mode": "outcome"}})
    client = mock_client(lambda request: httpx.Response(200, json=body), "region-syddanmark")

    answer = await _source(client).appointments_for(ClinicalSearch((NANCY,)))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(9)]
    assert [type(p.error) for p in answer.problems] == ([SourceIncomplete] if partial else [])


async def test_a_search_of_changes_sends_last_updated_and_gets_only_what_changed(
    world: Population, sandbox_client: SandboxClientFactory
):
    since = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=CPH)
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 3, 10, 9, 0, tzinfo=CPH), updated=since - timedelta(seconds=1)),
        _appointment(2, datetime(2030, 3, 11, 9, 0, tzinfo=CPH), updated=since, version=2),
        _appointment(3, datetime(2030, 3, 12, 9, 0, tzinfo=CPH), updated=since + timedelta(days=1)),
    ]
    client, controlled = sandbox_client(simulated.create_app(world, "region-syddanmark"), "region-syddanmark")

    answer = await _source(client).appointments_for(ClinicalSearch((NANCY,), changed_since=since))

    assert [(r.id, r.version, r.updated) for r in answer.by_patient[NANCY]] == [
        (_id(2), 2, since.replace(microsecond=123000)),
        (_id(3), 1, since.replace(microsecond=123000) + timedelta(days=1)),
    ]
    [request] = controlled.recorder.requests
    assert ("_lastUpdated", "ge2030-01-01T11:00:00.123Z") in _query(request)
