"""The CPR redaction rules and the register details, end to end over HTTP against the sandbox servers.

- Name and address protection: anyone but the citizen gets ``ADRESSEBESKYTTET`` for the person, the
  GP practice and the temporary address (domain.md §1.1, §2 rule 8).
- Dead, emigrated, missing and changed numbers: status, status date and ``replacedBy``, no address.
- The content of the will and donor registrations goes to the citizen; a professional sees only the
  yes/no flags, and the content is never fetched for them (domain.md §1.5, §2 rule 10).
"""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.population import Address, Population
from sandbox.registers import details_of
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, KOL, PROTECTED, Gateway, error_codes, recorded

DEAD = "0506380627"
EMIGRATED = "3011851412"
CHANGED_OLD = "1210791545"
CHANGED_NEW = "1210790806"
PLACEHOLDER = "ADRESSEBESKYTTET"

PROTECTED_VIEW = """
query($cpr: CPR!) {
  patient(cpr: $cpr) {
    person { name givenName familyName address postalAddress { line } sex birthDate nameAndAddressProtected }
    generalPractitioner { ydernummer sorId name phone address postalAddress { line } doctors { name } }
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

SUMMER_HOUSE = Address("Testklitvej 9", "6960", "Hvide Sande", "0760")


@pytest.fixture
def protected_has_temporary_address(population: Population, monkeypatch: pytest.MonkeyPatch) -> None:
    """The protected persona with a temporary address on the master card, for this test only."""
    card = population.master_cards[PROTECTED]
    monkeypatch.setattr(card, "temporary_address", SUMMER_HOUSE)
    monkeypatch.setattr(card, "temporary_address_end", date(2031, 8, 31))


@pytest.mark.usefixtures("protected_has_temporary_address")
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
        "doctors": [],
    }
    assert patient["masterCard"]["temporaryAddress"] == {"address": PLACEHOLDER, "postalAddress": None, "endDate": None}
    assert "Hvide Sande" not in str(body) and "Berggren" not in str(body) and "Hasseris" not in str(body)
    assert recorded(gateway.sandbox, "cpr") == 1


@pytest.mark.usefixtures("protected_has_temporary_address")
async def test_the_protected_citizen_sees_his_own_name_address_gp_and_temporary_address(gateway: Gateway) -> None:
    body = await gateway.graphql(PROTECTED_VIEW, gateway.citizen(PROTECTED), cpr=PROTECTED)

    assert error_codes(body) == []
    patient = body["data"]["patient"]
    assert patient["person"]["name"] == "Ruddi Test Berggren"
    assert patient["person"]["address"] == "Testvænget 1, 8000 Aarhus C"
    assert patient["person"]["sex"] == "MALE"
    assert patient["generalPractitioner"]["name"] == "Lægerne Hasseris Bymidte"
    assert patient["generalPractitioner"]["ydernummer"] == "077410"
    assert patient["generalPractitioner"]["doctors"]
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
