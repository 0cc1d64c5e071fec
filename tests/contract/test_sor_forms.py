"""One SOR code in any spelling is one code, on both sides of every comparison (issue 10, round two).

The family: a SOR code written with leading zeros and surrounding spaces (``" 0378641000016007 "``)
is the code ``378641000016007`` wherever it appears: an appointment's performer (FHIR and APD-DK), a
plan item's custodian, a block's actor, the SOR register's answers and the codes asked of it, the
caller's filter, and the organisations a search pushes down (always sent in the normal form). A value
that is not certainly a SOR code (a hyphen, non-ASCII digits, letters, only zeros) matches nothing it
could be trusted for: a block on it is unmatchable, an item with it is left out and reported.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
from hypothesis import given
from hypothesis import strategies as st

from sandbox.clinical import NEPHROLOGY, ODENSE_TRAINING, OUH
from sandbox.control import Faults
from sandbox.rewrites import rewrite_document
from sources.apd import parse_apd
from sources.appointments import FhirAppointmentSource
from sources.base import SourceClient, SourceConfig
from sources.clinical import BlockRule, ClinicalSearch, Endpoint, ItemFilter, OrganisationKind
from sources.consent import ConsentSource
from sources.identifiers import normalise_sor
from sources.models import BlockKind
from sources.plans import PlanSource
from sources.sor import SECTOR_SYSTEM, SorSource
from tests.contract.test_apd import _fixture

NANCY = "2512489996"
SOR = "urn:oid:1.2.208.176.1.1"
CPR = "urn:oid:1.2.208.176.1.2"

codes = st.sampled_from([NEPHROLOGY, OUH, ODENSE_TRAINING, "61741000016007", "12345"])
spaces = st.sampled_from(["", " ", "\t", "\u00a0"])


@st.composite
def spelt(draw: st.DrawFn, code: str) -> str:
    """``code`` with 0 to 3 leading zeros and surrounding whitespace."""
    return f"{draw(spaces)}{'0' * draw(st.integers(0, 3))}{code}{draw(spaces)}"


not_sor = st.sampled_from(
    ["378641-000016007", "٣٧٨٦٤١٠٠٠٠١٦٠٠٧", "37864100001600l", "0000", "", "378641000016007\u200b"]
)


class Upstream:
    """A mock upstream answering every request with ``body`` and keeping the queries it was sent."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.queries: list[list[tuple[str, str]]] = []

    def client(self, name: str) -> tuple[SourceClient, httpx.AsyncClient]:
        def handler(request: httpx.Request) -> httpx.Response:
            self.queries.append(parse_qsl(request.url.query.decode()))
            return httpx.Response(200, json=self.body)

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=f"http://{name}.mock")
        return SourceClient(SourceConfig(name, f"http://{name}.mock"), http), http

    def sent(self, parameter: str) -> list[str]:
        return [value for query in self.queries for key, value in query if key == parameter]


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def appointment(written: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": "a1",
        "status": "booked",
        "start": "2030-03-10T09:00:00+01:00",
        "participant": [
            {"actor": {"type": "Patient", "identifier": {"system": CPR, "value": NANCY}}},
            {"actor": {"type": "HealthcareService", "identifier": {"system": SOR, "value": written}, "display": "X"}},
        ],
    }


def condition(written: str) -> dict[str, Any]:
    custodian = {"identifier": {"system": SOR, "value": written}, "display": "X"}
    return {
        "resourceType": "Condition",
        "id": "c1",
        "extension": [
            {"url": "http://patientoverblik.dk/fhir/StructureDefinition/custodian", "valueReference": custodian}
        ],
        "subject": {"identifier": {"system": CPR, "value": NANCY}},
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.4.12", "code": "DE11"}]},
        "recordedDate": "2025-03-01",
    }


ITEMS = {
    "appointment": (appointment, "performer-organization:not"),
    "plan item": (condition, "custodian:not"),
}


async def search(kind: str, client: SourceClient, exclude: frozenset[str]) -> list[str | None]:
    """The organisation SOR codes an adapter of ``kind`` answers a search with."""
    endpoint, wanted = Endpoint(kind, OrganisationKind.REGION), ClinicalSearch((NANCY,), exclude_organisations=exclude)
    if kind == "appointment":
        found = (await FhirAppointmentSource(client, endpoint).appointments_for(wanted)).by_patient[NANCY]
        return [r.organisation.sor for r in found]
    return [c.organisation.sor for c in (await PlanSource(client, endpoint).conditions_for(wanted)).by_patient[NANCY]]


@given(st.data(), codes, st.sampled_from(sorted(ITEMS)))
async def test_an_items_organisation_in_any_spelling_is_its_code_and_an_exclusion_in_any_spelling_excludes_it(
    data: st.DataObject, code: str, kind: str
) -> None:
    resource, parameter = ITEMS[kind]
    upstream = Upstream(bundle(resource(data.draw(spelt(code)))))
    client, http = upstream.client(kind.replace(" ", "-"))
    async with http:
        shown = await search(kind, client, frozenset())
        excluded = await search(kind, client, frozenset({data.draw(spelt(code))}))

    assert shown == [code]
    assert excluded == []
    assert upstream.sent(parameter) == [f"{SOR}|{code}"]


@given(st.data(), codes, st.booleans())
async def test_a_block_on_a_sor_code_in_any_spelling_names_that_code_and_anything_else_is_unmatchable(
    data: st.DataObject, code: str, certain: bool
) -> None:
    written = data.draw(spelt(code)) if certain else data.draw(not_sor)
    actor = {"reference": {"identifier": {"system": SOR, "value": written}}}
    consent = {
        "resourceType": "Consent",
        "id": "b1",
        "status": "active",
        "patient": {"identifier": {"system": CPR, "value": NANCY}},
        "provision": {"type": "deny", "actor": [actor]},
    }
    client, http = Upstream(bundle(consent)).client("consent")
    async with http:
        (block,) = (await ConsentSource(client).blocks_for([NANCY]))[NANCY]

    if certain:
        assert (block.kind, block.organisation_sor, block.unmatchable) == (BlockKind.ORGANISATION, code, False)
    else:  # applies to every organisation, or (an empty value) to everyone
        assert (block.organisation_sor, block.unmatchable) == (None, True)


@given(st.data(), codes)
async def test_the_sor_register_is_asked_and_read_in_the_normal_form(data: st.DataObject, code: str) -> None:
    organisation = {
        "resourceType": "Organization",
        "id": "o1",
        "identifier": [{"system": SOR, "value": data.draw(spelt(code))}],
        "type": [{"coding": [{"system": SECTOR_SYSTEM, "code": "region"}]}],
    }
    upstream = Upstream(bundle(organisation))
    client, http = upstream.client("sor")
    async with http:
        sectors = await SorSource(client).sectors_of([data.draw(spelt(code))])
        subunits = await SorSource(client).subunits_of([data.draw(spelt(code))])

    assert sectors == {code: OrganisationKind.REGION}
    assert subunits == {code: frozenset()}
    assert upstream.sent("identifier") == [f"{SOR}|{code}"] * 2


@given(st.sampled_from(["zero_padded", "spaced"]))
def test_an_apd_documents_performer_and_place_in_another_spelling_are_their_codes(form: str) -> None:
    plain = parse_apd(_fixture("region.xml"), source="dds").appointment
    document = rewrite_document(_fixture("region.xml"), Faults(sor_form=form))
    assert document != _fixture("region.xml")

    appointment = parse_apd(document, source="dds").appointment

    assert (appointment.organisation.sor, appointment.location) == (plain.organisation.sor, plain.location)
    assert appointment.organisation.sor == normalise_sor(appointment.organisation.sor)


@given(not_sor)
def test_anything_that_is_not_certainly_a_sor_code_has_no_normal_form(value: str) -> None:
    assert normalise_sor(value) is None


def test_an_item_whose_organisation_cannot_be_read_is_withheld_by_every_organisation_block() -> None:
    blocked = ItemFilter((BlockRule(frozenset({NEPHROLOGY})),))

    assert not blocked.allows(None, None)
    assert not blocked.allows(NEPHROLOGY, None)
    assert blocked.allows(OUH, None)
