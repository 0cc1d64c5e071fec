"""The CPR redaction rules and the register details, end to end over HTTP against the sandbox servers.

- Name and address protection: callers other than the citizen, guardians, fuldmagt holders and
  authorities get ``ADRESSEBESKYTTET`` for the person, the GP practice, the master card's phone,
  temporary address, dentist and relatives, and the places of appointments, plans, goals and
  diagnoses that tell where the patient lives (domain.md §1.1, §2 rule 8; ADR 0012). The query asks
  every protected field the schema declares (``tests/protected_schema.py``), so a new one is checked
  without being listed here.
- Dead, emigrated, missing and changed numbers: status, status date and ``replacedBy``, no address.
- The content of the will and donor registrations goes to the citizen; a professional sees only the
  yes/no flags, and the content is never fetched for them (domain.md §1.5, §2 rule 10).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from auth.gate import today
from gateway.settings import ClientSettings
from sandbox.population import Population
from sandbox.registers import details_of
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import (
    DOCTOR_WITH_RELATIONS,
    HANS,
    KOL,
    PROTECTED,
    Gateway,
    error_codes,
    gateway_with,
    recorded,
)
from tests.e2e.protected_details import leaked, missing, protected_details
from tests.entry_points import BOTH, EntryPoint
from tests.protected_schema import object_types, protected_coordinates, protected_query

DEAD = "0506380627"
EMIGRATED = "3011851412"
CHANGED_OLD = "1210791545"
CHANGED_NEW = "1210790806"
PLACEHOLDER = "ADRESSEBESKYTTET"

PROTECTED_VIEW = """
query($cpr: CPR!) {
  patient(cpr: $cpr) {
    person { name givenName familyName address postalAddress { line } sex birthDate nameAndAddressProtected }
    generalPractitioner {
      ydernummer sorId name phone address postalAddress { line } doctors { totalCount nodes { name } }
    }
    masterCard { temporaryAddress { address postalAddress { line } endDate } }
  }
}
"""

STATUS_VIEW = """
query($cpr: CPR!) {
  patient(cpr: $cpr) { person { status statusCode statusDate address postalAddress { line } replacedBy } }
}
"""

DETAILS = """
query($cpr: CPR!) {
  patient(cpr: $cpr) {
    masterCard {
      registrations {
        treatmentWill organDonor
        details {
          treatmentWill { registered situations }
          livingWill { registered }
          organDonor { decision registered organs }
          resuscitationOptOut { registered }
        }
      }
    }
  }
}
"""

MOTHER = "1908830938"
AUTHORITY = "kommune-sagssystem"
WINDOW = {"first": str(today() - timedelta(days=1800)), "last": str(today() + timedelta(days=1800))}
EVERYTHING = protected_query(**WINDOW)
"""Every protected field under ``Patient``, generated from the schema."""
METTE = {"Mette Test Larsen", "Nefrologisk Afdeling Y, OUH", "378641000016007"}
"""What the access log of a patient Mette Test Larsen (``CBDJ6``) accessed says about her."""


pytestmark = BOTH  # through patient(cpr:) and through _entities (ADR 0022)


async def test_doctor_gets_placeholders_for_a_protected_persons_name_address_gp_and_temporary_address(
    gateway: Gateway,
) -> None:
    body = await gateway.graphql(PROTECTED_VIEW, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=PROTECTED)

    assert error_codes(body) == []
    patient = body["data"]["patient"]
    assert patient["person"] == {
        "name": PLACEHOLDER,
        "givenName": PLACEHOLDER,
        "familyName": PLACEHOLDER,
        "address": PLACEHOLDER,
        "postalAddress": None,
        "sex": "UNKNOWN",
        "birthDate": None,
        "nameAndAddressProtected": True,
    }
    assert patient["generalPractitioner"] == {
        "ydernummer": PLACEHOLDER,
        "sorId": None,
        "name": PLACEHOLDER,
        "phone": None,
        "address": None,
        "postalAddress": None,
        "doctors": {"totalCount": 0, "nodes": []},
    }
    assert patient["masterCard"]["temporaryAddress"] == {"address": PLACEHOLDER, "postalAddress": None, "endDate": None}
    assert "Hvide Sande" not in str(body) and "Berggren" not in str(body) and "Hasseris" not in str(body)
    assert recorded(gateway.sandbox, "cpr") == 1


async def test_the_protected_citizen_sees_his_own_name_address_gp_and_temporary_address(gateway: Gateway) -> None:
    body = await gateway.graphql(PROTECTED_VIEW, gateway.citizen(PROTECTED), cpr=PROTECTED)

    assert error_codes(body) == []
    patient = body["data"]["patient"]
    assert patient["person"]["name"] == "Ruddi Test Berggren"
    assert patient["person"]["address"] == "Testvænget 1, 8000 Aarhus C"
    assert patient["person"]["sex"] == "MALE"
    assert patient["generalPractitioner"]["name"] == "Lægerne Hasseris Bymidte"
    assert patient["generalPractitioner"]["ydernummer"] == "077410"
    assert patient["generalPractitioner"]["doctors"]["nodes"]
    assert patient["masterCard"]["temporaryAddress"] == {
        "address": "Testklitvej 9, 6960 Hvide Sande",
        "postalAddress": {"line": "Testklitvej 9"},
        "endDate": "2031-08-31",
    }


async def test_doctor_asking_only_for_the_gp_of_a_protected_person_still_gets_the_placeholder(
    gateway: Gateway,
) -> None:
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { generalPractitioner { name ydernummer phone } } }",
        gateway.professional(DOCTOR_WITH_RELATIONS),
        cpr=PROTECTED,
    )

    assert body["data"]["patient"]["generalPractitioner"] == {
        "name": PLACEHOLDER,
        "ydernummer": PLACEHOLDER,
        "phone": None,
    }
    assert recorded(gateway.sandbox, "cpr") == 1


async def test_a_citizen_asking_for_their_own_gp_causes_no_cpr_lookup(gateway: Gateway) -> None:
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { generalPractitioner { name } } }", gateway.citizen(HANS), cpr=HANS
    )

    assert body["data"]["patient"]["generalPractitioner"] == {"name": "Lægerne Hasseris Bymidte"}
    assert recorded(gateway.sandbox, "cpr") == 0


async def test_doctor_sees_the_real_gp_and_temporary_address_of_a_patient_without_protection(
    gateway: Gateway,
) -> None:
    body = await gateway.graphql(PROTECTED_VIEW, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=KOL)

    assert error_codes(body) == []
    patient = body["data"]["patient"]
    assert patient["person"]["name"] == "Birthe Test Sørensen"
    assert patient["generalPractitioner"]["name"] == "Lægehuset Valdemarsgade"
    assert patient["generalPractitioner"]["phone"] == "98765432"
    assert patient["masterCard"]["temporaryAddress"]["address"] == "Testsommerhusvej 7, 9990 Skagen"


async def test_protected_person_seen_by_a_doctor_keeps_the_real_status_when_dead(
    gateway: Gateway, population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = population.persons[PROTECTED]
    monkeypatch.setattr(person, "status", "90")
    monkeypatch.setattr(person, "status_date", date(2026, 1, 5))

    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { person { name status statusDate address } } }",
        gateway.professional(DOCTOR_WITH_RELATIONS),
        cpr=PROTECTED,
    )

    assert body["data"]["patient"]["person"] == {
        "name": PLACEHOLDER,
        "status": "DEAD",
        "statusDate": "2026-01-05",
        "address": None,
    }


@pytest.mark.parametrize(
    ("cpr", "status", "code", "status_date", "replaced_by"),
    [
        (DEAD, "DEAD", "90", "2025-02-11", None),
        (EMIGRATED, "EMIGRATED", "80", "2023-08-01", None),
        (CHANGED_OLD, "CHANGED_NUMBER", "60", "2022-05-04", CHANGED_NEW),
    ],
    ids=["dead", "emigrated", "changed-number"],
)
async def test_inactive_numbers_show_status_and_date_but_no_address(
    gateway: Gateway, cpr: str, status: str, code: str, status_date: str, replaced_by: str | None
) -> None:
    body = await gateway.graphql(STATUS_VIEW, gateway.citizen(cpr), cpr=cpr)

    assert error_codes(body) == []
    assert body["data"]["patient"]["person"] == {
        "status": status,
        "statusCode": code,
        "statusDate": status_date,
        "address": None,
        "postalAddress": None,
        "replacedBy": replaced_by,
    }


async def test_hans_reads_the_content_of_his_registrations(gateway: Gateway, population: Population) -> None:
    expected = details_of(HANS, population.registrations[HANS], population.anchor)

    body = await gateway.graphql(DETAILS, gateway.citizen(HANS), cpr=HANS)

    assert error_codes(body) == []
    registrations = body["data"]["patient"]["masterCard"]["registrations"]
    assert registrations["treatmentWill"] is True and registrations["organDonor"] is True
    assert registrations["details"] == {
        "treatmentWill": {
            "registered": expected["treatmentWill"]["registered"],
            "situations": ["TERMINAL", "SEVERE_ILLNESS", "DEMENTIA"],
        },
        "livingWill": None,
        "organDonor": {"decision": "FULL", "registered": expected["organDonor"]["registered"], "organs": []},
        "resuscitationOptOut": None,
    }
    assert gateway.sandbox.control("registers").recorder.paths() == ["/registrations", "/registrations/details"]
    (record,) = await gateway.access_log.for_patient(HANS)
    assert "register_details" in record.returned


async def test_doctor_asking_for_hans_register_details_is_forbidden_and_they_are_never_fetched(
    gateway: Gateway,
) -> None:
    body = await gateway.graphql(DETAILS, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=HANS)

    registrations = body["data"]["patient"]["masterCard"]["registrations"]
    assert registrations["treatmentWill"] is True and registrations["organDonor"] is True
    assert registrations["details"] is None
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert body["errors"][0]["path"] == ["patient", "masterCard", "registrations", "details"]
    assert gateway.sandbox.control("registers").recorder.paths() == ["/registrations"]


async def test_every_protected_field_shows_the_patient_his_details_and_a_doctor_none_with_one_cpr_request(
    gateway: Gateway, population: Population
) -> None:
    by_doctor = await gateway.graphql(EVERYTHING, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=PROTECTED)
    cpr_requests = recorded(gateway.sandbox, "cpr")
    by_himself = await gateway.graphql(EVERYTHING, gateway.citizen(PROTECTED), cpr=PROTECTED)

    details = protected_details(population, PROTECTED, accessors=METTE)
    assert set(details) == set(protected_coordinates()), "every protected field is checked with data"
    assert all(details.values()), "the sandbox serves every protected field for the protected persona"
    assert error_codes(by_himself) == []
    assert missing(details, by_himself["data"]["patient"]) == {}
    assert leaked(details, by_doctor) == set()
    assert error_codes(by_doctor) == [("FORBIDDEN", None), ("FORBIDDEN", None)]  # his blocks and log are his
    assert "Lungemedicinsk Ambulatorium, AAUH" in str(by_doctor)  # a hospital says nothing of where he lives
    assert cpr_requests == 1


async def test_protection_of_several_patients_is_decided_with_one_cpr_request(
    gateway: Gateway, population: Population
) -> None:
    child = population.personas["protected_child"]
    query = """
    query($a: CPR!, $b: CPR!, $c: CPR!) {
      a: patient(cpr: $a) { person { name } appointments { list { nodes { organisation { name } } } } }
      b: patient(cpr: $b) { masterCard { dentist relatives { name } } plans { nodes { organisation { name } } } }
      c: patient(cpr: $c) { generalPractitioner { name } appointments { list { nodes { location { address } } } } }
    }
    """

    body = await gateway.graphql(query, gateway.professional(DOCTOR_WITH_RELATIONS), a=KOL, b=PROTECTED, c=child)

    assert error_codes(body) == []
    assert body["data"]["a"]["person"]["name"] == "Birthe Test Sørensen"
    assert body["data"]["b"]["masterCard"]["dentist"] == body["data"]["c"]["generalPractitioner"]["name"] == PLACEHOLDER
    assert recorded(gateway.sandbox, "cpr") == 1


async def test_a_parent_with_custody_gets_placeholders_for_a_protected_childs_details_without_a_second_lookup(
    gateway: Gateway, population: Population
) -> None:
    child = population.personas["protected_child"]
    await gateway.graphql(EVERYTHING, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=child)  # a log entry
    gateway.sandbox.control("cpr").recorder.clear()

    by_parent = await gateway.graphql(EVERYTHING, gateway.citizen(MOTHER), cpr=child)
    cpr_requests = recorded(gateway.sandbox, "cpr")
    by_child = await gateway.graphql(EVERYTHING, gateway.citizen(child), cpr=child)

    details = protected_details(population, child, accessors=METTE)
    assert missing(details, by_child["data"]["patient"]) == {}
    assert leaked(details, by_parent) == set()
    patient = by_parent["data"]["patient"]
    assert patient["person"]["name"] == PLACEHOLDER and patient["person"]["address"] == PLACEHOLDER
    assert patient["generalPractitioner"]["name"] == PLACEHOLDER
    assert patient["masterCard"]["phone"] == patient["masterCard"]["dentist"] == PLACEHOLDER
    (foster_mother,) = patient["masterCard"]["relatives"]
    assert foster_mother == {
        "givenName": PLACEHOLDER,
        "familyName": None,
        "phone": None,
        "relation": "plejemor",
        "name": PLACEHOLDER,
    }
    doctor = next(e for e in patient["accessLog"]["nodes"] if e["whoKind"] == "PROFESSIONAL")
    assert (doctor["who"], doctor["role"], doctor["organisationName"]) == ("En læge", "Læge", None)
    assert doctor["summary"].startswith("En læge så ")
    assert cpr_requests == 1  # the gate's own lookup of the custody; the redaction reuses it


async def test_home_visits_at_a_protected_patients_home_show_only_that_they_are_at_home(gateway: Gateway) -> None:
    query = """
    query($cpr: CPR!, $from: Date, $to: Date) {
      patient(cpr: $cpr) {
        appointments(from: $from, to: $to) {
          list(first: 100) {
            nodes { source organisation { name sorId kind } location { name sorId address room atHome } }
          }
        }
      }
    }
    """
    window = {"from": WINDOW["first"], "to": WINDOW["last"]}
    body = await gateway.graphql(query, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=PROTECTED, **window)

    nodes = body["data"]["patient"]["appointments"]["list"]["nodes"]
    at_home = [n for n in nodes if n["location"] is not None and n["location"]["atHome"]]
    assert {n["source"] for n in at_home} == {"dds", "municipality-aalborg"}  # APD-DK SBJ and FHIR PTRES
    for node in at_home:
        assert node["location"] == {"name": None, "sorId": None, "address": None, "room": None, "atHome": True}
        assert node["organisation"] == {"name": PLACEHOLDER, "sorId": None, "kind": "MUNICIPALITY"}
    gp = [n for n in nodes if n["organisation"]["kind"] == "GP"]
    assert gp and all(n["organisation"]["name"] == PLACEHOLDER and n["location"]["sorId"] is None for n in gp)
    (hospital,) = [n for n in nodes if n["organisation"]["kind"] == "REGION"]
    assert hospital["organisation"]["sorId"] == hospital["location"]["sorId"] == "378651000016004"


async def test_when_cpr_cannot_tell_protection_every_revealing_place_gets_placeholders_and_one_error(
    gateway: Gateway,
) -> None:
    gateway.sandbox.control("cpr").faults.update({"mode": "down"})
    query = (
        "query($cpr: CPR!) { patient(cpr: $cpr) { appointments { list { nodes { organisation { name kind } } } } } }"
    )

    body = await gateway.graphql(query, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=KOL)

    organisations = [n["organisation"] for n in body["data"]["patient"]["appointments"]["list"]["nodes"]]
    assert organisations and all(o["name"] == PLACEHOLDER for o in organisations if o["kind"] != "REGION")
    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "cpr")]


async def test_a_doctor_sees_the_places_of_a_patient_without_protection_with_one_cpr_request(
    gateway: Gateway, population: Population
) -> None:
    body = await gateway.graphql(EVERYTHING, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=KOL)

    assert missing(clinical(protected_details(population, KOL)), body["data"]["patient"]) == {}
    assert PLACEHOLDER not in str(body)
    assert recorded(gateway.sandbox, "cpr") == 1


def clinical(details: dict[str, set[str]]) -> dict[str, set[str]]:
    """The details professionals may see at all (blocks and the access log are the patient's)."""
    return {c: found for c, found in details.items() if not c.startswith(("Block.", "AccessLog."))}


@pytest.fixture
async def with_authority(sandbox: ThreadedSandbox, tmp_path: Path, entry_point: EntryPoint) -> AsyncIterator[Gateway]:
    """A gateway with a vendor system registered as a whitelisted authority that may read every field."""
    everything = [f"{t.name}.*" for t in object_types()]
    client = ClientSettings(name="Kommunens sagssystem (demo)", fields=everything, authority=True)
    async for running in gateway_with(sandbox, tmp_path, clients={AUTHORITY: client}):
        yield running.via(entry_point)


async def test_a_system_registered_as_an_authority_sees_every_protected_detail_and_causes_no_cpr_lookup_for_it(
    with_authority: Gateway, population: Population
) -> None:
    gateway = with_authority
    token = gateway.token(actor_kind="system", client_id=AUTHORITY, authorization_id=DOCTOR_WITH_RELATIONS)

    body = await gateway.graphql(EVERYTHING, token, cpr=PROTECTED)

    assert error_codes(body) == [("FORBIDDEN", None), ("FORBIDDEN", None)]  # blocks and the log are the patient's
    assert missing(clinical(protected_details(population, PROTECTED)), body["data"]["patient"]) == {}
    assert recorded(gateway.sandbox, "cpr") == 1  # the person's own; protection asks nothing more
    gateway.sandbox.control("cpr").recorder.clear()
    places = protected_query("Appointment.location", **WINDOW)
    assert "Testvænget 1" in str(await gateway.graphql(places, token, cpr=PROTECTED))
    assert recorded(gateway.sandbox, "cpr") == 0
