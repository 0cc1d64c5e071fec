"""A citizen's overview, read live over HTTP from the sandbox sources."""

from __future__ import annotations

from tests.e2e.conftest import (
    HANS,
    KOL,
    OVERVIEW,
    PROTECTED,
    Gateway,
    error_codes,
    recorded,
)


async def test_citizen_sees_own_overview_fetched_live_from_the_sources(gateway: Gateway) -> None:
    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert "errors" not in body
    patient = body["data"]["patient"]
    assert patient["person"] == {
        "name": "Hans Test Jensen",
        "address": "Testvestergade 12, 2. th, 5000 Odense C",
        "status": "ACTIVE",
    }
    assert patient["generalPractitioner"] == {"name": "Lægerne Hasseris Bymidte", "phone": "98182233"}
    card = patient["masterCard"]
    assert card["phone"] == "61234567"
    assert card["relatives"] == [{"name": "Inge Test Jensen", "phone": "40506070"}, {"name": "Mads", "phone": None}]
    assert card["dentist"] == "Tandlægerne Testvestergade"
    assert card["preferredLanguage"] == "da"
    assert card["healthInsuranceGroup"] == 1
    assert card["registrations"] == {
        "treatmentWill": True,
        "livingWill": False,
        "organDonor": True,
        "resuscitationOptOut": False,
    }
    for source in ("cpr", "yderregister", "stamkort", "registers"):
        assert recorded(gateway.sandbox, source) >= 1, source


async def test_a_citizen_needs_no_consent_or_relation_lookup(gateway: Gateway) -> None:
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert recorded(gateway.sandbox, "consent") == 0
    assert recorded(gateway.sandbox, "treatment_relation") == 0


async def test_me_says_who_the_gateway_thinks_the_caller_is(gateway: Gateway) -> None:
    body = await gateway.graphql("{ me { kind cpr name authorizationId } }", gateway.citizen(HANS))

    assert body["data"]["me"] == {"kind": "CITIZEN", "cpr": HANS, "name": "Hans Test Jensen", "authorizationId": None}


async def test_group_2_insured_without_a_gp_has_no_general_practitioner_and_no_error(gateway: Gateway) -> None:
    group2 = "1702902263"
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { generalPractitioner { name } masterCard { healthInsuranceGroup } } }",
        gateway.citizen(group2),
        cpr=group2,
    )

    assert "errors" not in body
    assert body["data"]["patient"] == {"generalPractitioner": None, "masterCard": {"healthInsuranceGroup": 2}}


async def test_dead_person_shows_status_and_date_without_an_address(gateway: Gateway) -> None:
    dead = "0506380627"
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { person { status statusCode statusDate address } } }",
        gateway.citizen(dead),
        cpr=dead,
    )

    assert body["data"]["patient"]["person"] == {
        "status": "DEAD",
        "statusCode": "90",
        "statusDate": "2025-02-11",
        "address": None,
    }


async def test_a_citizen_sees_their_own_protected_name_and_address(gateway: Gateway) -> None:
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { person { name address nameAndAddressProtected } } }",
        gateway.citizen(PROTECTED),
        cpr=PROTECTED,
    )

    person = body["data"]["patient"]["person"]
    assert person["name"] == "Ruddi Test Berggren"
    assert person["nameAndAddressProtected"] is True


async def test_a_professional_gets_placeholders_for_a_protected_person(gateway: Gateway) -> None:
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { person { name address birthDate nameAndAddressProtected } } }",
        gateway.professional("CBDJ6"),
        cpr=PROTECTED,
    )

    assert body["data"]["patient"]["person"] == {
        "name": "ADRESSEBESKYTTET",
        "address": "ADRESSEBESKYTTET",
        "birthDate": None,
        "nameAndAddressProtected": True,
    }


async def test_two_patients_are_fetched_with_one_request_per_source(gateway: Gateway) -> None:
    query = """
    query($a: CPR!, $b: CPR!) {
      a: patient(cpr: $a) { person { name } masterCard { phone healthInsuranceGroup registrations { organDonor } } }
      b: patient(cpr: $b) { person { name } masterCard { phone healthInsuranceGroup registrations { organDonor } } }
    }
    """
    body = await gateway.graphql(query, gateway.professional("CBDJ6"), a=HANS, b=KOL)

    assert error_codes(body) == []
    assert body["data"]["a"]["person"]["name"] == "Hans Test Jensen"
    assert body["data"]["b"]["person"]["name"] == "Birthe Test Sørensen"
    for source in ("cpr", "stamkort", "registers", "consent", "treatment_relation"):
        assert recorded(gateway.sandbox, source) == 1, source
    assert gateway.sandbox.control("yderregister").recorder.paths() == ["/sikrede"]


async def test_unknown_patient_has_null_person_and_no_error(gateway: Gateway) -> None:
    unknown = "1111111118"
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { person { name } } }", gateway.citizen(unknown), cpr=unknown
    )

    assert body == {"data": {"patient": {"person": None}}}
