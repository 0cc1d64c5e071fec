"""Odd upstream data a decision or a protection depends on fails closed (issue 10, round two).

Over HTTP, against the sandbox's personas (``sandbox/quirks_trust.py``): a place is shown for a
protected patient only on the SOR register's word (counted: one register search per batch of places,
none for a caller who sees protected data, none once the register's answer is kept); a person CPR leaves
out, or marks protected in an odd spelling, gets placeholders; an unknown CPR status is shown as
``UNKNOWN``; a consent in force spelt oddly still blocks; a zero-padded SOR code in a block still
withholds and is pushed down in its normal form; an item whose subject's reference and identifier
disagree is reported, never filed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from sandbox.clinical import AALBORG_HOME_NURSING, HASSERIS_SOR, LUNG_CLINIC, ODENSE_TRAINING
from sandbox.population import Population
from sandbox.quirks_trust import SECTORLESS_UNIT
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, Gateway, error_codes, gateway_with
from tests.entry_points import BOTH, EntryPoint

PLACEHOLDER = "ADRESSEBESKYTTET"
SOR = "urn:oid:1.2.208.176.1.1"

PLACES = """
query Places($cpr: CPR!) {
  patient(cpr: $cpr) {
    appointments {
      withheld complete
      list { nodes { title source organisation { name sorId kind } location { name sorId address atHome } } }
    }
    diagnoses { complete nodes { code organisation { name sorId kind } } }
  }
}
"""

PERSON = """
query Person($cpr: CPR!) {
  patient(cpr: $cpr) {
    person { name status statusCode address nameAndAddressProtected }
    appointments { complete list { nodes { title organisation { name } } } }
  }
}
"""


pytestmark = BOTH  # through patient(cpr:) and through _entities (ADR 0022)


@pytest.fixture
async def doctor(sandbox: ThreadedSandbox, tmp_path: Path, entry_point: EntryPoint) -> AsyncIterator[Gateway]:
    async for running in gateway_with(sandbox, tmp_path):
        yield running.via(entry_point)


def sector_lookups(sandbox: ThreadedSandbox) -> list[list[str]]:
    """The SOR codes of each search the SOR register received."""
    found = []
    for request in sandbox.control("sor").recorder.requests:
        identifier = dict(parse_qsl(request.query))["identifier"]
        found.append(identifier.removeprefix(f"{SOR}|").split(","))
    return found


def by_title(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["title"]: n for n in body["data"]["patient"]["appointments"]["list"]["nodes"]}


async def test_a_protected_patients_places_are_shown_only_on_the_sor_registers_word(
    doctor: Gateway, sandbox: ThreadedSandbox, population: Population
) -> None:
    cpr = population.personas["mislabelled_places"]

    body = await doctor.graphql(PLACES, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)

    assert error_codes(body) == []
    visits = by_title(body)
    hidden = {"Sårpleje": "MUNICIPALITY", "Kontrol": "GP", "Skade": "REGION"}  # register's sector, else the label
    for title, kind in hidden.items():
        assert visits[title]["organisation"] == {"name": PLACEHOLDER, "sorId": None, "kind": kind}, title
        assert visits[title]["location"] in (None, {"name": None, "sorId": None, "address": None, "atHome": False})
    assert visits["Spirometri"]["organisation"]["sorId"] == LUNG_CLINIC
    assert visits["Spirometri"]["location"]["address"] == "Mølleparkvej 4, 9000 Aalborg"
    (diagnosis,) = body["data"]["patient"]["diagnoses"]["nodes"]
    assert diagnosis["organisation"] == {"name": PLACEHOLDER, "sorId": None, "kind": "MUNICIPALITY"}
    asked = [code for lookup in sector_lookups(sandbox) for code in lookup]
    assert sorted(asked) == sorted({AALBORG_HOME_NURSING, HASSERIS_SOR, SECTORLESS_UNIT, LUNG_CLINIC})
    assert len(sector_lookups(sandbox)) <= 2  # one per batch of fields resolving together: appointments, diagnoses

    sandbox.control("sor").recorder.clear()
    again = await doctor.graphql(PLACES, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)
    himself = await doctor.graphql(PLACES, doctor.citizen(cpr), cpr=cpr)

    assert again["data"] == body["data"]
    assert sector_lookups(sandbox) == []  # the register's answers are reference data, kept (ADR 0014)
    assert PLACEHOLDER not in str(himself["data"])
    assert by_title(himself)["Sårpleje"]["location"]["address"] == "Testplejevej 5, 9000 Aalborg"


async def test_when_the_sor_register_cannot_answer_every_place_is_hidden_with_one_error(
    doctor: Gateway, sandbox: ThreadedSandbox, population: Population
) -> None:
    sandbox.control("sor").faults.update({"mode": "down"})

    body = await doctor.graphql(
        PLACES, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=population.personas["mislabelled_places"]
    )

    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "sor")]
    assert by_title(body)["Spirometri"]["organisation"]["name"] == PLACEHOLDER


async def test_a_person_cpr_leaves_out_gets_placeholders_and_an_error(doctor: Gateway, population: Population) -> None:
    body = await doctor.graphql(
        PERSON, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=population.personas["left_out_by_cpr"]
    )

    assert body["data"]["patient"]["person"] is None
    assert body["data"]["patient"]["appointments"]["list"]["nodes"][0]["organisation"]["name"] == PLACEHOLDER
    assert error_codes(body) == [("SOURCE_INCOMPLETE", "cpr")]


async def test_a_protection_label_without_its_system_protects(doctor: Gateway, population: Population) -> None:
    cpr = population.personas["bare_protection_label"]

    by_doctor = await doctor.graphql(PERSON, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)
    by_himself = await doctor.graphql(PERSON, doctor.citizen(cpr), cpr=cpr)

    assert by_doctor["data"]["patient"]["person"]["name"] == PLACEHOLDER
    assert by_himself["data"]["patient"]["person"]["nameAndAddressProtected"] is True
    assert by_himself["data"]["patient"]["person"]["name"] == "Niels Test Etiket"


async def test_a_cpr_status_nobody_knows_is_shown_as_unknown(doctor: Gateway, population: Population) -> None:
    body = await doctor.graphql(
        PERSON, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=population.personas["unknown_cpr_status"]
    )

    assert error_codes(body) == []
    person = body["data"]["patient"]["person"]
    assert (person["status"], person["statusCode"], person["address"]) == ("UNKNOWN", "99", None)


@pytest.mark.parametrize("persona", ["shouting_consent", "included_consent"])
async def test_a_consent_in_force_spelt_oddly_still_blocks(doctor: Gateway, population: Population, persona: str):
    body = await doctor.graphql(PERSON, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=population.personas[persona])

    assert body["data"]["patient"]["appointments"] is None
    assert error_codes(body) == [("CONSENT_DENIED", None)]


async def test_a_zero_padded_sor_code_in_a_block_withholds_and_is_pushed_down_in_its_normal_form(
    doctor: Gateway, sandbox: ThreadedSandbox, population: Population
) -> None:
    body = await doctor.graphql(
        PLACES, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=population.personas["zero_padded_block"]
    )

    appointments = body["data"]["patient"]["appointments"]
    assert (appointments["withheld"], appointments["list"]["nodes"]) == (True, [])
    (search,) = sandbox.control("municipality-odense").recorder.requests
    assert ("performer-organization:not", f"{SOR}|{ODENSE_TRAINING}") in parse_qsl(search.query)


async def test_an_item_whose_subjects_reference_and_identifier_disagree_is_reported_never_filed(
    doctor: Gateway, population: Population
) -> None:
    child, mother = population.personas["conflicting_subject"], population.personas["mother"]
    query = """query($a: CPR!, $b: CPR!) {
      a: patient(cpr: $a) { appointments { complete list { nodes { title } } } }
      b: patient(cpr: $b) { appointments { complete list { nodes { title } } } }
    }"""

    body = await doctor.graphql(query, doctor.citizen(mother), a=child, b=mother)
    diagnoses = await doctor.graphql(PLACES, doctor.professional(DOCTOR_WITH_RELATIONS), cpr=child)

    titles = [n["title"] for side in ("a", "b") for n in body["data"][side]["appointments"]["list"]["nodes"]]
    assert "Uenig reference" not in titles and "Fremmed reference" not in titles
    assert body["data"]["a"]["appointments"]["complete"] is False
    assert ("SOURCE_INVALID_RESPONSE", "region-syddanmark") in error_codes(body)
    assert diagnoses["data"]["patient"]["diagnoses"]["nodes"] == []
    assert ("SOURCE_INVALID_RESPONSE", "plans-hospital") in error_codes(diagnoses)
