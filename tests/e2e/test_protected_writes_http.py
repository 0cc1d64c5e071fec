"""Writing a protected patient's master card when the caller sees placeholders (ADR 0012).

A professional may change a protected patient's master card, but sees its relatives as placeholders:
the relatives list replaces the stored one, so replacing it would erase what the professional cannot
see, and writing the placeholder back would store ``ADRESSEBESKYTTET`` as data. Both are
``BAD_USER_INPUT`` naming the argument, and nothing is written; a value the caller sets whole (a
phone number) is written, and the answer still shows placeholders.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.population import Population
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, PROTECTED, Gateway, error_codes

PLACEHOLDER = "ADRESSEBESKYTTET"
CARD = "query($cpr: CPR!) { patient(cpr: $cpr) { masterCard { version phone dentist relatives { givenName } } } }"
UPDATE = """
mutation($cpr: CPR!, $version: String!, $changes: MasterCardChanges!) {
  updateMasterCard(cpr: $cpr, version: $version, changes: $changes) { version phone dentist relatives { givenName } }
}
"""


@pytest.fixture(autouse=True)
def restore_ruddi(population: Population) -> Iterator[None]:
    """Put the protected persona's master card back after each test."""
    card = copy.deepcopy(population.master_cards[PROTECTED])
    yield
    population.master_cards[PROTECTED] = card


def writes(gateway: Gateway) -> int:
    return sum(1 for r in gateway.sandbox.control("stamkort").recorder.requests if r.method == "PUT")


async def change(gateway: Gateway, token: str, **changes: Any) -> dict[str, Any]:
    card = await gateway.graphql(CARD, token, cpr=PROTECTED)
    version = card["data"]["patient"]["masterCard"]["version"]
    return await gateway.graphql(UPDATE, token, cpr=PROTECTED, version=version, changes=changes)


@pytest.mark.parametrize(
    ("changes", "argument", "data"),
    [
        ({"relatives": [{"givenName": "Ny", "phone": "22334455"}]}, "changes.relatives", {"updateMasterCard": None}),
        ({"relatives": []}, "changes.relatives", {"updateMasterCard": None}),
        ({"relatives": [{"givenName": PLACEHOLDER}]}, "changes.relatives.0.givenName", None),
        ({"dentist": PLACEHOLDER}, "changes.dentist", None),
    ],
    ids=["relatives-replaced", "relatives-cleared", "relative-placeholder-written-back", "dentist-placeholder"],
)
async def test_a_doctor_cannot_replace_what_he_sees_as_placeholders_and_nothing_is_written(
    gateway: Gateway, population: Population, changes: dict[str, Any], argument: str, data: dict[str, Any] | None
) -> None:
    """Whether the patient's relatives are hidden from the caller takes CPR's answer, so that refusal comes from
    the resolver; a placeholder written back is out of the field's bound, refused before anything runs."""
    relatives = copy.deepcopy(population.master_cards[PROTECTED].relatives)

    body = await change(gateway, gateway.professional(DOCTOR_WITH_RELATIONS), **changes)

    assert body["data"] == data
    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert writes(gateway) == 0
    assert population.master_cards[PROTECTED].relatives == relatives


async def test_a_doctor_sets_a_protected_patients_phone_and_still_sees_the_placeholder(
    gateway: Gateway, population: Population
) -> None:
    body = await change(gateway, gateway.professional(DOCTOR_WITH_RELATIONS), phone="60718293")

    assert error_codes(body) == []
    assert body["data"]["updateMasterCard"]["phone"] == PLACEHOLDER
    assert population.master_cards[PROTECTED].phone == "60718293"
    assert [r.first_name for r in population.master_cards[PROTECTED].relatives] == ["Nancy Ann", "Rikke"]


async def test_the_protected_patient_replaces_his_own_relatives(gateway: Gateway, population: Population) -> None:
    body = await change(gateway, gateway.citizen(PROTECTED), relatives=[{"givenName": "Nancy Ann", "relation": "mor"}])

    assert error_codes(body) == []
    assert body["data"]["updateMasterCard"]["relatives"] == [{"givenName": "Nancy Ann"}]
    assert writes(gateway) == 1
