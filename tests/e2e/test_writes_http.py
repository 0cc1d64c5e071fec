"""Writes over real HTTP: the Fælles Stamkort (optimistic versions) and Min Spærring blocks.

Hans (persona ``hans``) edits his own card and blocks; doctor CBDJ6 has a treatment relation with
him, doctor 7QWRT has none. Every test puts Hans's card and the blocks back as they were, since the
sandbox is shared by the whole session.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from sandbox.personas import LUNG_CLINIC_SOR
from sandbox.population import Population
from sandbox.server import SOURCE_APPS, ThreadedSandbox
from sources.payloads import COPENHAGEN
from tests.e2e.conftest import BLOCKED_DOCTOR, BLOCKS_DOCTOR, DOCTOR_WITH_RELATIONS, HANS, Gateway, error_codes

pytestmark = pytest.mark.usefixtures("restore_hans")

CARD = """
query Card($cpr: CPR!) {
  patient(cpr: $cpr) {
    masterCard {
      version phone dentist preferredLanguage
      temporaryAddress { address endDate postalAddress { postalCode municipalityCode } }
      relatives { givenName familyName phone relation }
    }
  }
}
"""

UPDATE = """
mutation Update($cpr: CPR!, $version: String!, $changes: MasterCardChanges!) {
  updateMasterCard(cpr: $cpr, version: $version, changes: $changes) {
    version phone dentist preferredLanguage
    temporaryAddress { address endDate }
    relatives { givenName familyName phone relation }
  }
}
"""

BLOCK_FIELDS = (
    "id kind authorizationId organisationSorId includeSubunits dataPeriod { start end } validity { start end } inForce"
)
BLOCKS = f"query Blocks($cpr: CPR!) {{ patient(cpr: $cpr) {{ blocks {{ totalCount nodes {{ {BLOCK_FIELDS} }} }} }} }}"
CREATE = (
    f"mutation Create($cpr: CPR!, $block: BlockInput!) {{ createBlock(cpr: $cpr, block: $block) {{ {BLOCK_FIELDS} }} }}"
)

REVOKE = """
mutation Revoke($cpr: CPR!, $id: ID!) { revokeBlock(cpr: $cpr, id: $id) { id kind } }
"""


def today() -> date:
    return datetime.now(COPENHAGEN).date()


def requests(sandbox: ThreadedSandbox, name: str, method: str) -> int:
    """How many ``method`` requests source ``name`` received."""
    return sum(1 for r in sandbox.control(name).recorder.requests if r.method == method)


def clear(sandbox: ThreadedSandbox, *names: str) -> None:
    for name in names:
        sandbox.control(name).recorder.clear()


async def card_of(gateway: Gateway, token: str) -> dict[str, Any]:
    body = await gateway.graphql(CARD, token, cpr=HANS)
    assert error_codes(body) == []
    card: dict[str, Any] = body["data"]["patient"]["masterCard"]
    return card


async def update(gateway: Gateway, token: str, version: str, **changes: Any) -> dict[str, Any]:
    return await gateway.graphql(UPDATE, token, cpr=HANS, version=version, changes=changes)


async def test_citizen_changes_phone_and_reads_it_back_with_a_new_version(gateway: Gateway) -> None:
    token = gateway.citizen(HANS)
    before = await card_of(gateway, token)

    body = await update(gateway, token, before["version"], phone="+45 70 11 22 33")

    assert error_codes(body) == []
    stored = body["data"]["updateMasterCard"]
    assert stored["phone"] == "70112233"
    assert stored["version"] != before["version"]
    assert stored["dentist"] == before["dentist"] and stored["relatives"] == before["relatives"], "the rest stays"
    after = await card_of(gateway, token)
    assert after["phone"] == "70112233"
    assert after["version"] == stored["version"]
    records = await gateway.access_log.for_patient(HANS)
    (write,) = [r for r in records if "master_card_edit" in r.requested]
    assert write.returned == ("master_card_edit",), "the write is in the patient's access log"


async def test_a_foreign_phone_number_is_kept_as_plus_and_digits(gateway: Gateway) -> None:
    body = await update(gateway, gateway.citizen(HANS), "1", phone="+46 70 123 45 67")

    assert error_codes(body) == []
    assert body["data"]["updateMasterCard"]["phone"] == "+46701234567"


YESTERDAY = (today() - timedelta(days=1)).isoformat()
ADDRESS = {"line": "Testferievej 2", "postalCode": "6700", "city": "Esbjerg"}


@pytest.mark.parametrize(
    ("changes", "argument"),
    [
        ({}, "changes"),
        ({"phone": "1234567"}, "changes.phone"),
        ({"phone": "+45 1234 5678 9"}, "changes.phone"),
        ({"phone": "61 23 45 67 ext 2"}, "changes.phone"),
        ({"temporaryAddress": {**ADDRESS, "postalCode": "67000"}}, "changes.temporaryAddress.postalCode"),
        ({"temporaryAddress": {**ADDRESS, "endDate": YESTERDAY}}, "changes.temporaryAddress.endDate"),
        ({"temporaryAddress": {**ADDRESS, "line": "   "}}, "changes.temporaryAddress.line"),
        ({"temporaryAddress": {**ADDRESS, "municipalityCode": "K461"}}, "changes.temporaryAddress.municipalityCode"),
        ({"dentist": "x" * 201}, "changes.dentist"),
        ({"dentist": "Tandlæge\nTestvej"}, "changes.dentist"),
        ({"preferredLanguage": "dansk"}, "changes.preferredLanguage"),
        (
            {"relatives": [{"givenName": "Ole"}, {"givenName": "  ", "familyName": "Test Hansen"}]},
            "changes.relatives.1.givenName",
        ),
        ({"relatives": [{"givenName": "Ole", "phone": "999"}]}, "changes.relatives.0.phone"),
        ({"relatives": [{"givenName": f"Test{i}"} for i in range(21)]}, "changes.relatives"),
    ],
    ids=[
        "nothing",
        "phone-7-digits",
        "phone-9-digits-after-45",
        "phone-with-text",
        "postal-code-5-digits",
        "end-date-in-the-past",
        "blank-address-line",
        "municipality-not-digits",
        "dentist-too-long",
        "dentist-two-lines",
        "language-not-bcp47",
        "relative-without-first-name",
        "relative-phone",
        "too-many-relatives",
    ],
)
async def test_each_invalid_field_is_bad_user_input_naming_it_and_nothing_is_asked_or_recorded(
    gateway: Gateway, population: Population, changes: dict[str, Any], argument: str
) -> None:
    """The bounds are checked before execution: no source is asked, no record of a change is opened."""
    records = len(await gateway.access_log.for_patient(HANS, limit=1000))
    clear(gateway.sandbox, *SOURCE_APPS)

    body = await update(gateway, gateway.citizen(HANS), "1", **changes)

    assert body["data"] is None
    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert sum(len(gateway.sandbox.control(name).recorder.requests) for name in SOURCE_APPS) == 0
    assert len(await gateway.access_log.for_patient(HANS, limit=1000)) == records
    assert population.master_cards[HANS].version == 1
    for value in ("1234567", "67000", "K461", "dansk", "999"):
        assert value not in body["errors"][0]["message"], "the message never echoes the value"


async def test_two_concurrent_edits_of_the_same_version_one_wins_and_nothing_is_lost(gateway: Gateway) -> None:
    token = gateway.citizen(HANS)
    version = (await card_of(gateway, token))["version"]
    # Both requests read the card before either writes, so the register's If-Match decides.
    gateway.sandbox.control("stamkort").faults.update({"latency_ms": 150})
    clear(gateway.sandbox, "stamkort")

    first, second = await asyncio.gather(
        update(gateway, token, version, phone="70112233"), update(gateway, token, version, phone="80112233")
    )

    gateway.sandbox.control("stamkort").faults.update({"latency_ms": 0})
    outcomes = sorted([first, second], key=lambda body: "errors" in body)
    winner, loser = outcomes
    assert error_codes(winner) == []
    assert error_codes(loser) == [("VERSION_CONFLICT", "stamkort")]
    assert loser["data"] == {"updateMasterCard": None}
    assert requests(gateway.sandbox, "stamkort", "PUT") == 2, "the register, not the gateway, refused the loser"
    stored = winner["data"]["updateMasterCard"]
    assert loser["errors"][0]["extensions"]["currentVersion"] == stored["version"]
    after = await card_of(gateway, token)
    assert after["phone"] == stored["phone"]
    assert after["version"] == stored["version"]


async def test_a_stale_version_is_a_conflict_without_a_write(gateway: Gateway, population: Population) -> None:
    token = gateway.citizen(HANS)
    newer = (await update(gateway, token, "1", dentist="Tandlægerne Testgade"))["data"]["updateMasterCard"]
    clear(gateway.sandbox, "stamkort")

    body = await update(gateway, token, "1", phone="99887766")

    assert error_codes(body) == [("VERSION_CONFLICT", "stamkort")]
    assert body["errors"][0]["extensions"]["currentVersion"] == newer["version"]
    assert requests(gateway.sandbox, "stamkort", "PUT") == 0
    assert population.master_cards[HANS].phone == "61234567"


async def test_two_edits_in_one_operation_the_second_with_the_old_version_conflicts(gateway: Gateway) -> None:
    query = """
    mutation($cpr: CPR!) {
      a: updateMasterCard(cpr: $cpr, version: "1", changes: {phone: "70112233"}) { version }
      b: updateMasterCard(cpr: $cpr, version: "1", changes: {phone: "80112233"}) { version }
    }
    """
    body = await gateway.graphql(query, gateway.citizen(HANS), cpr=HANS)

    assert body["data"]["a"]["version"] == "2"
    assert body["data"]["b"] is None
    assert error_codes(body) == [("VERSION_CONFLICT", "stamkort")]
    assert requests(gateway.sandbox, "stamkort", "PUT") == 1
    assert (await card_of(gateway, gateway.citizen(HANS)))["phone"] == "70112233"


async def test_setting_then_clearing_the_temporary_address(gateway: Gateway) -> None:
    token = gateway.citizen(HANS)
    end = (today() + timedelta(days=30)).isoformat()
    address = {**ADDRESS, "municipalityCode": "561", "endDate": end}

    set_body = await update(gateway, token, "1", temporaryAddress=address)
    assert error_codes(set_body) == []
    card = await card_of(gateway, token)
    assert card["temporaryAddress"] == {
        "address": "Testferievej 2, 6700 Esbjerg",
        "endDate": end,
        "postalAddress": {"postalCode": "6700", "municipalityCode": "0561"},
    }

    cleared = await update(gateway, token, card["version"], temporaryAddress=None)

    assert error_codes(cleared) == []
    assert cleared["data"]["updateMasterCard"]["temporaryAddress"] is None
    after = await card_of(gateway, token)
    assert after["temporaryAddress"] is None
    assert after["phone"] == "61234567", "clearing one field leaves the others"


async def test_relatives_are_replaced_as_a_list(gateway: Gateway) -> None:
    relatives = [
        {"givenName": "Ole"},
        {"givenName": " Grete ", "familyName": "Test Hansen", "phone": "0045 22 33 44 55", "relation": "datter"},
    ]

    body = await update(gateway, gateway.citizen(HANS), "1", relatives=relatives)

    assert error_codes(body) == []
    expected = [
        {"givenName": "Ole", "familyName": None, "phone": None, "relation": None},
        {"givenName": "Grete", "familyName": "Test Hansen", "phone": "22334455", "relation": "datter"},
    ]
    assert body["data"]["updateMasterCard"]["relatives"] == expected
    assert (await card_of(gateway, gateway.citizen(HANS)))["relatives"] == expected


async def test_a_patient_without_a_master_card_is_bad_user_input(gateway: Gateway, population: Population) -> None:
    del population.master_cards[HANS]

    body = await update(gateway, gateway.citizen(HANS), "1", phone="70112233")

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == "cpr"
    assert requests(gateway.sandbox, "stamkort", "PUT") == 0


async def test_citizen_creates_sees_and_revokes_a_block(gateway: Gateway, population: Population) -> None:
    token = gateway.citizen(HANS)
    block = {
        "kind": "ORGANISATION",
        "organisationSorId": LUNG_CLINIC_SOR,
        "includeSubunits": True,
        "dataPeriod": {"start": "2020-01-01", "end": "2021-06-30"},
        "validity": {"end": (today() + timedelta(days=365)).isoformat()},
    }

    created = await gateway.graphql(CREATE, token, cpr=HANS, block=block)

    assert error_codes(created) == []
    stored = created["data"]["createBlock"]
    assert stored["kind"] == "ORGANISATION" and stored["organisationSorId"] == LUNG_CLINIC_SOR
    assert stored["includeSubunits"] is True and stored["inForce"] is True
    assert stored["dataPeriod"] == {"start": "2020-01-01", "end": "2021-06-30"}
    listed = (await gateway.graphql(BLOCKS, token, cpr=HANS))["data"]["patient"]["blocks"]
    assert listed == {"totalCount": 1, "nodes": [stored]}

    revoked = await gateway.graphql(REVOKE, token, cpr=HANS, id=stored["id"])

    assert error_codes(revoked) == []
    assert revoked["data"]["revokeBlock"] == {"id": stored["id"], "kind": "ORGANISATION"}
    assert requests(gateway.sandbox, "consent", "DELETE") == 1
    assert (await gateway.graphql(BLOCKS, token, cpr=HANS))["data"]["patient"]["blocks"] == {
        "totalCount": 0,
        "nodes": [],
    }
    assert stored["id"] not in {b.id for b in population.blocks}


async def test_a_professional_block_names_the_doctor_in_capitals(gateway: Gateway) -> None:
    block = {"kind": "PROFESSIONAL", "authorizationId": "x2p9k"}

    body = await gateway.graphql(CREATE, gateway.citizen(HANS), cpr=HANS, block=block)

    assert error_codes(body) == []
    assert body["data"]["createBlock"]["authorizationId"] == "X2P9K"
    assert body["data"]["createBlock"]["validity"] == {"start": None, "end": None}


@pytest.mark.parametrize(
    ("block", "argument"),
    [
        ({"kind": "PROFESSIONAL", "authorizationId": "AEIOU"}, "block.authorizationId"),
        ({"kind": "PROFESSIONAL"}, "block.authorizationId"),
        ({"kind": "ORGANISATION", "organisationSorId": "12345"}, "block.organisationSorId"),
        (
            {"kind": "ORGANISATION", "organisationSorId": LUNG_CLINIC_SOR, "authorizationId": "CBDJ6"},
            "block.authorizationId",
        ),
        ({"kind": "DATA_PERIOD"}, "block.dataPeriod"),
        ({"kind": "DATA_PERIOD", "dataPeriod": {"start": "2021-01-01", "end": "2020-01-01"}}, "block.dataPeriod.end"),
        ({"kind": "DATA_PERIOD", "dataPeriod": {"start": "2021-01-01"}}, "block.dataPeriod.end"),
        (
            {
                "kind": "DATA_PERIOD",
                "dataPeriod": {"start": "2020-01-01", "end": "2020-12-31"},
                "includeSubunits": True,
            },
            "block.includeSubunits",
        ),
        (
            {
                "kind": "PROFESSIONAL",
                "authorizationId": "CBDJ6",
                "validity": {"start": "2030-01-01", "end": "2029-01-01"},
            },
            "block.validity.end",
        ),
        ({"kind": "PROFESSIONAL", "authorizationId": "CBDJ6", "validity": {"end": "2020-01-01"}}, "block.validity.end"),
    ],
    ids=[
        "vowels-in-authorisation-id",
        "professional-without-id",
        "short-sor",
        "organisation-with-professional",
        "period-without-period",
        "period-backwards",
        "period-open-ended",
        "subunits-of-a-period",
        "validity-backwards",
        "validity-ended",
    ],
)
async def test_an_invalid_block_is_bad_user_input_and_nothing_is_asked(
    gateway: Gateway, block: dict[str, Any], argument: str
) -> None:
    clear(gateway.sandbox, *SOURCE_APPS)

    body = await gateway.graphql(CREATE, gateway.citizen(HANS), cpr=HANS, block=block)

    assert body["data"] is None
    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert sum(len(gateway.sandbox.control(name).recorder.requests) for name in SOURCE_APPS) == 0


async def test_revoking_a_block_that_is_not_the_patients_is_refused_and_nothing_is_deleted(
    gateway: Gateway, population: Population
) -> None:
    others = [b.id for b in population.blocks if b.cpr == BLOCKS_DOCTOR]

    body = await gateway.graphql(REVOKE, gateway.citizen(HANS), cpr=HANS, id=others[0])

    assert body["data"] == {"revokeBlock": None}
    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == "id"
    assert requests(gateway.sandbox, "consent", "DELETE") == 0
    assert others[0] in {b.id for b in population.blocks}


async def test_a_malformed_block_id_is_refused_before_any_request(gateway: Gateway) -> None:
    body = await gateway.graphql(REVOKE, gateway.citizen(HANS), cpr=HANS, id="../Patient/1")

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == "id"
    assert gateway.sandbox.control("consent").recorder.requests == []


async def test_professional_with_a_treatment_relation_can_edit_the_master_card(gateway: Gateway) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)

    body = await update(gateway, token, "1", dentist="Tandlægerne Testgade 3")

    assert error_codes(body) == []
    assert body["data"]["updateMasterCard"]["dentist"] == "Tandlægerne Testgade 3"
    assert (await card_of(gateway, gateway.citizen(HANS)))["dentist"] == "Tandlægerne Testgade 3"


async def test_professional_without_a_treatment_relation_is_forbidden_and_stamkort_is_never_asked(
    gateway: Gateway,
) -> None:
    body = await update(gateway, gateway.professional(BLOCKED_DOCTOR), "1", phone="70112233")

    assert body["data"] == {"updateMasterCard": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert gateway.sandbox.control("stamkort").recorder.requests == []


async def test_professional_cannot_create_blocks(gateway: Gateway) -> None:
    block = {"kind": "PROFESSIONAL", "authorizationId": "X2P9K"}

    body = await gateway.graphql(CREATE, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=HANS, block=block)

    assert body["data"] == {"createBlock": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert requests(gateway.sandbox, "consent", "POST") == 0
