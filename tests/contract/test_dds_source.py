"""Contract tests for the DDS (IHE MHD + APD-DK) appointment adapter against the simulated DDS."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import dds as simulated
from sandbox.clinical import DIALYSIS, LUNG_CLINIC, NEPHROLOGY, ODENSE_HOME_CARE, UROLOGY, Appointment
from sandbox.control import Controlled
from sandbox.population import Address, Person, Population
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
from sources.dds import DdsAppointmentSource
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

CPH = ZoneInfo("Europe/Copenhagen")
NANCY = "2512489996"
MAGNUS = "0504909995"
ENDPOINT = Endpoint("dds")
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol2;</title></ClinicalDocument>"""


def _id(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


def _appointment(number: int, start: datetime, **changes: Any) -> Appointment:
    values: dict[str, Any] = {
        "cpr": NANCY,
        "endpoints": ("region-syddanmark", "dds"),
        "organisation_sor": NEPHROLOGY,
        "end": start + timedelta(minutes=45),
    }
    values.update(changes)
    return Appointment(_id(number), start=start, **values)


@pytest.fixture
def world() -> Population:
    """A population of our own (no generated clinical data) with two patients."""
    population = Population(seed=1)
    home = Address("Testvej 12", "5230", "Odense M", "0461")
    population.add(Person(NANCY, "Nancy Ann Test", "Berggren", False, home))
    population.add(Person(MAGNUS, "Magnus Test", "Lauridsen", True, home))
    return population


def _tampered(
    app: ASGIApp,
    documents: Mapping[str, bytes | int] | None = None,
    ignore: tuple[str, ...] = (),
    add: tuple[tuple[str, str], ...] = (),
) -> ASGIApp:
    """``app`` answering some documents with other bytes (or a status), ignoring or adding index parameters."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            document = (documents or {}).get(scope["path"].removeprefix("/fhir/Binary/"))
            if isinstance(document, bytes):
                await Response(document, media_type="application/xml")(scope, receive, send)
                return
            if isinstance(document, int):
                await Response(b"", status_code=document)(scope, receive, send)
                return
            pairs = [(k, v) for k, v in parse_qsl(scope["query_string"].decode()) if k not in ignore]
            if scope["path"] == "/fhir/DocumentReference":
                pairs += add
            scope = {**scope, "query_string": urlencode(pairs).encode()}
        await app(scope, receive, send)

    return wrapped


def _dds(sandbox_client: SandboxClientFactory, app: ASGIApp) -> tuple[DdsAppointmentSource, Controlled]:
    client, controlled = sandbox_client(app, "dds")
    return DdsAppointmentSource(client, ENDPOINT), controlled


def _fetched(controlled: Controlled) -> list[str]:
    return [
        r.path.removeprefix("/fhir/Binary/") for r in controlled.recorder.requests if r.path.startswith("/fhir/Binary/")
    ]


def _index_queries(controlled: Controlled) -> list[list[tuple[str, str]]]:
    return [parse_qsl(r.query) for r in controlled.recorder.requests if r.path == "/fhir/DocumentReference"]


async def test_the_index_search_pushes_down_patients_type_format_status_window_and_exclusions(
    world: Population, sandbox_client: SandboxClientFactory
):
    source, controlled = _dds(sandbox_client, simulated.create_app(world))
    window = DateWindow(date(2030, 1, 1), date(2030, 7, 1))

    await source.appointments_for(
        ClinicalSearch((NANCY, MAGNUS), window, frozenset({UROLOGY, DIALYSIS}), include_cancelled=False)
    )
    await source.appointments_for(ClinicalSearch((NANCY,), DateWindow(end=date(2030, 7, 1))))

    first, second = _index_queries(controlled)
    assert first == [
        ("patient.identifier", f"urn:oid:1.2.208.176.1.2|{NANCY},{MAGNUS}"),
        ("type", "http://loinc.org|39289-4"),
        ("format", "urn:ad:dk:medcom:apd-v2.0.1:full"),
        ("status", "current"),
        ("period", "ge2030-01-01"),
        ("period", "lt2030-07-01"),
        *[("author.identifier:not", f"urn:oid:1.2.208.176.1.1|{sor}") for sor in sorted({UROLOGY, DIALYSIS})],
    ]
    assert ("status", "current,superseded") in second
    assert [v for k, v in second if k == "period"] == ["lt2030-07-01"]


async def test_a_current_document_becomes_an_appointment(world: Population, sandbox_client: SandboxClientFactory):
    world.clinical.appointments.append(
        _appointment(1, datetime(2030, 5, 4, 9, 30, tzinfo=CPH), room="opgang 4, 3 sal rum 101", title="Nyrekontrol")
    )
    source, controlled = _dds(sandbox_client, simulated.create_app(world))

    answer = await source.appointments_for(ClinicalSearch((NANCY, MAGNUS)))

    [record] = answer.by_patient[NANCY]
    assert answer.by_patient[MAGNUS] == []
    assert answer.problems == ()
    assert record.id == _id(1)
    assert (record.source, record.version, record.status) == ("dds", 1, AppointmentStatus.BOOKED)
    assert record.start == datetime(2030, 5, 4, 9, 30, tzinfo=CPH)
    assert record.start.tzinfo is UTC  # an instant, localised only at the edge
    assert record.end == datetime(2030, 5, 4, 10, 15, tzinfo=CPH)
    assert record.organisation == OrganisationRef(NEPHROLOGY, "Nefrologisk Afdeling Y, OUH", OrganisationKind.REGION)
    assert record.location == LocationRecord(
        sor=NEPHROLOGY, address="J. B. Winsløws Vej 4, 5000 Odense C", room="opgang 4, 3 sal rum 101"
    )
    assert record.reason == CodingRecord("http://snomed.info/sct", "17436001", "Lægekonsultation med ambulant patient")
    assert record.title == "Nyrekontrol"
    assert _fetched(controlled) == [simulated.document_id(_id(1), 1)]


async def test_replaced_versions_are_never_fetched_and_the_newest_wins(
    world: Population, sandbox_client: SandboxClientFactory
):
    earlier = [datetime(2030, 2, 1, 9, 0, tzinfo=CPH), datetime(2030, 2, 15, 9, 0, tzinfo=CPH)]
    world.clinical.appointments.append(
        _appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH), version=3, earlier_starts=earlier)
    )
    source, controlled = _dds(sandbox_client, simulated.create_app(world))

    answer = await source.appointments_for(ClinicalSearch((NANCY,), include_cancelled=True))

    [record] = answer.by_patient[NANCY]
    assert (record.version, record.start, record.status) == (
        3,
        datetime(2030, 3, 1, 9, 0, tzinfo=CPH),
        AppointmentStatus.BOOKED,
    )
    assert _fetched(controlled) == [simulated.document_id(_id(1), 3)]


async def test_a_deprecated_document_becomes_a_cancelled_appointment(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments.append(
        _appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH), version=2, deprecated=True)
    )
    world.clinical.appointments[-1].earlier_starts = [datetime(2030, 2, 1, 9, 0, tzinfo=CPH)]
    source, controlled = _dds(sandbox_client, simulated.create_app(world))

    answer = await source.appointments_for(ClinicalSearch((NANCY,), include_cancelled=True))

    [record] = answer.by_patient[NANCY]
    assert (record.version, record.status) == (2, AppointmentStatus.CANCELLED)
    assert _fetched(controlled) == [simulated.document_id(_id(1), 2)]


async def test_a_withdrawn_appointment_is_left_out_and_not_fetched_unless_cancelled_ones_are_asked_for(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments.append(_appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH), deprecated=True))
    every_status = _tampered(simulated.create_app(world), ignore=("status",), add=(("status", "current,superseded"),))
    source, controlled = _dds(sandbox_client, every_status)

    answer = await source.appointments_for(ClinicalSearch((NANCY,), include_cancelled=False))

    assert answer.by_patient[NANCY] == []
    assert _fetched(controlled) == []
    assert ("status", "current") in _index_queries(controlled)[0]


async def test_a_version_whose_successor_moved_out_of_the_window_is_not_taken_for_withdrawn(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments.append(
        _appointment(
            1,
            datetime(2030, 9, 1, 9, 0, tzinfo=CPH),
            version=2,
            earlier_starts=[datetime(2030, 3, 1, 9, 0, tzinfo=CPH)],
        )
    )
    source, controlled = _dds(sandbox_client, simulated.create_app(world))
    window = DateWindow(date(2030, 1, 1), date(2030, 7, 1))

    answer = await source.appointments_for(ClinicalSearch((NANCY,), window, include_cancelled=True))

    assert answer.by_patient[NANCY] == []
    assert _fetched(controlled) == []
    assert [k for k, _ in _index_queries(controlled)[1]].count("period") == 0


async def test_an_excluded_author_is_never_fetched_even_when_the_index_ignores_the_exclusion(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)),
        _appointment(2, datetime(2030, 3, 2, 9, 0, tzinfo=CPH), organisation_sor=LUNG_CLINIC),
    ]
    app = _tampered(simulated.create_app(world), ignore=("author.identifier:not",))
    source, controlled = _dds(sandbox_client, app)

    answer = await source.appointments_for(ClinicalSearch((NANCY,), exclude_organisations=frozenset({LUNG_CLINIC})))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(1)]
    assert _fetched(controlled) == [simulated.document_id(_id(1), 1)]


async def test_items_outside_the_window_are_dropped_even_when_the_index_ignores_the_window(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH)),
        _appointment(2, datetime(2030, 6, 30, 23, 30, tzinfo=CPH)),
        _appointment(3, datetime(2030, 7, 1, 0, 30, tzinfo=CPH)),
    ]
    source, _ = _dds(sandbox_client, _tampered(simulated.create_app(world), ignore=("period",)))

    answer = await source.appointments_for(ClinicalSearch((NANCY,), DateWindow(date(2030, 3, 2), date(2030, 7, 1))))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(2)]


async def test_one_hostile_document_among_good_ones_is_rejected_and_counted(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments += [_appointment(n, datetime(2030, 3, n, 9, 0, tzinfo=CPH)) for n in (1, 2, 3)]
    hostile = {simulated.document_id(_id(2), 1): BILLION_LAUGHS}
    source, _ = _dds(sandbox_client, _tampered(simulated.create_app(world), hostile))

    answer = await source.appointments_for(ClinicalSearch((NANCY,)))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(1), _id(3)]
    assert len(answer.problems) == 1


async def test_documents_that_fail_to_fetch_or_parse_or_name_another_patient_are_rejected(
    world: Population, sandbox_client: SandboxClientFactory
):
    world.clinical.appointments += [_appointment(n, datetime(2030, 3, n, 9, 0, tzinfo=CPH)) for n in (1, 2, 3, 4)]
    world.clinical.appointments.append(_appointment(5, datetime(2030, 3, 5, 9, 0, tzinfo=CPH), cpr=MAGNUS))
    other_patient = simulated.render_apd(
        world, next(d for d in simulated.documents(world) if d.appointment.id == _id(5))
    ).replace(_id(5).encode(), _id(3).encode())
    tampered: dict[str, bytes | int] = {
        simulated.document_id(_id(1), 1): 500,
        simulated.document_id(_id(2), 1): b"<html>not a document</html>",
        simulated.document_id(_id(3), 1): other_patient,
    }
    source, _ = _dds(sandbox_client, _tampered(simulated.create_app(world), tampered))

    answer = await source.appointments_for(ClinicalSearch((NANCY,)))

    assert [r.id for r in answer.by_patient[NANCY]] == [_id(4)]
    assert len(answer.problems) == 3


async def test_all_day_and_indicative_appointments_come_through_the_document(
    world: Population, sandbox_client: SandboxClientFactory
):
    note = "Morgen aftale \N{EN DASH} tidspunktet er vejledende"
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 6, 29, tzinfo=CPH), end=datetime(2030, 7, 1, tzinfo=CPH), all_day=True),
        _appointment(
            2,
            datetime(2030, 3, 10, 7, 0, tzinfo=CPH),
            organisation_sor=ODENSE_HOME_CARE,
            time_note=note,
            at_home=True,
            reason_code="NI",
            reason_display="Hjemmehjælp",
        ),
    ]
    source, _ = _dds(sandbox_client, simulated.create_app(world))

    indicative, all_day = (await source.appointments_for(ClinicalSearch((NANCY,)))).by_patient[NANCY]

    assert all_day.all_day
    assert (all_day.start, all_day.end) == (datetime(2030, 6, 29, tzinfo=CPH), datetime(2030, 7, 1, tzinfo=CPH))
    assert indicative.indicative
    assert indicative.time_note == note
    assert indicative.organisation.kind is OrganisationKind.MUNICIPALITY
    assert indicative.location == LocationRecord(
        name="Borgers Hjemmeadresse", address="Testvej 12, 5230 Odense M", at_home=True
    )


async def test_an_index_that_is_down_raises_the_source_error(world: Population, sandbox_client: SandboxClientFactory):
    source, controlled = _dds(sandbox_client, simulated.create_app(world))

    controlled.faults.mode = "down"
    with pytest.raises(SourceUnavailable):
        await source.appointments_for(ClinicalSearch((NANCY,)))
    controlled.faults.mode = "garbage"
    with pytest.raises(SourceResponseInvalid):
        await source.appointments_for(ClinicalSearch((NANCY,)))


async def test_an_index_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await DdsAppointmentSource(mock_client(hang, "dds"), ENDPOINT).appointments_for(ClinicalSearch((NANCY,)))


def _entry(url: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": "doc-1",
        "status": "current",
        "subject": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": NANCY}},
        "content": [{"attachment": {"url": url, "contentType": "application/xml"}}],
    }
    entry.update(changes)
    return entry


async def test_an_attachment_on_another_host_is_never_fetched(mock_client: MockClientFactory):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        index = [_entry("http://elsewhere.example/fhir/Binary/doc-1")]
        return httpx.Response(200, json={"resourceType": "Bundle", "entry": [{"resource": r} for r in index]})

    answer = await DdsAppointmentSource(mock_client(handler, "dds"), ENDPOINT).appointments_for(
        ClinicalSearch((NANCY,))
    )

    assert answer.by_patient == {NANCY: []}
    assert len(answer.problems) == 1
    assert seen == ["/fhir/DocumentReference"]


@pytest.mark.parametrize(
    "entry",
    [
        _entry("/fhir/Binary/doc-1", status="unknown"),
        _entry("/fhir/Binary/doc-1", content=[]),
        {"resourceType": "DocumentReference", "status": "current"},
        _entry("/fhir/Binary/doc-1", subject={"reference": "Patient/abc"}),
        _entry(
            "/fhir/Binary/doc-1", subject={"type": "RelatedPerson", "identifier": _entry("x")["subject"]["identifier"]}
        ),
    ],
    ids=["unknown-status", "no-content", "no-id-or-subject", "unresolved-literal-subject", "related-person-subject"],
)
async def test_a_malformed_index_entry_is_left_out_and_reported(mock_client: MockClientFactory, entry: dict[str, Any]):
    bundle = {"resourceType": "Bundle", "entry": [{"resource": entry}]}
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=bundle)

    answer = await DdsAppointmentSource(mock_client(handler, "dds"), ENDPOINT).appointments_for(
        ClinicalSearch((NANCY,))
    )

    assert answer.by_patient == {NANCY: []}
    [problem] = answer.problems
    assert isinstance(problem.error, SourceResponseInvalid)
    assert NANCY not in str(problem.error)
    assert seen == ["/fhir/DocumentReference"]  # nothing is fetched for it


async def test_the_simulated_dds_refuses_unsupported_parameters_and_unknown_documents(world: Population):
    app = simulated.create_app(world)
    identifier = f"urn:oid:1.2.208.176.1.2|{NANCY}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dds") as http:
        unknown = await http.get("/fhir/DocumentReference", params={"patient.identifier": identifier, "x": "1"})
        bad_status = await http.get("/fhir/DocumentReference", params={"patient.identifier": identifier, "status": "y"})
        missing = await http.get(f"/fhir/Binary/{simulated.document_id(_id(9), 1)}")

    assert [unknown.status_code, bad_status.status_code, missing.status_code] == [400, 400, 404]


async def test_a_search_of_changes_asks_the_index_for_what_changed_and_fetches_only_that(
    world: Population, sandbox_client: SandboxClientFactory
):
    since = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    world.clinical.appointments += [
        _appointment(1, datetime(2030, 3, 1, 9, 0, tzinfo=CPH), updated=since - timedelta(seconds=1)),
        _appointment(
            2,
            datetime(2030, 3, 2, 9, 0, tzinfo=CPH),
            version=2,
            earlier_starts=[datetime(2030, 2, 2, 9, 0, tzinfo=CPH)],
            updated=since,
        ),
        _appointment(3, datetime(2030, 3, 3, 9, 0, tzinfo=CPH), version=2, deprecated=True, updated=since),
    ]
    world.clinical.appointments[-1].earlier_starts = [datetime(2030, 2, 3, 9, 0, tzinfo=CPH)]
    source, controlled = _dds(sandbox_client, simulated.create_app(world))

    answer = await source.appointments_for(ClinicalSearch((NANCY,), changed_since=since))

    assert [(r.id, r.version, r.status) for r in answer.by_patient[NANCY]] == [
        (_id(2), 2, AppointmentStatus.BOOKED),
        (_id(3), 2, AppointmentStatus.CANCELLED),
    ]
    [index] = _index_queries(controlled)
    assert ("_lastUpdated", "ge2030-01-01T12:00:00.000Z") in index
    assert sorted(_fetched(controlled)) == sorted([simulated.document_id(_id(2), 2), simulated.document_id(_id(3), 2)])
