"""Override (værdispring): lifts the patient's blocks for one request, only for professionals, recorded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    BLOCKED_DOCTOR,
    BLOCKS_DOCTOR,
    DOCTOR_WITH_RELATIONS,
    HANS,
    Gateway,
    error_codes,
    recorded,
)

PETER = "0907644021"
"""Blocks OUH and Region Nordjylland with sub-units, and data from 2019-2020."""
SHARED = """
query($cpr: CPR!, $o: OverrideInput) {
  patient(cpr: $cpr, override: $o) {
    appointments(from: "2018-01-01", to: "2027-12-31") { withheld list { totalCount } }
    diagnoses { withheld nodes { code } }
  }
}
"""
REASON = "Bevidstløs ved indlæggelse, akut dialyse"
CONSENT = {"ground": "PATIENT_CONSENT", "reason": "Patienten gav mundtligt samtykke i konsultationen"}
SHARED_SOURCES = ("region-syddanmark", "region-nordjylland", "municipality-odense", "gp", "dds", "plans-hospital")


async def test_without_override_the_doctor_sees_withheld_and_with_one_sees_everything(gateway: Gateway) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)

    narrowed = (await gateway.graphql(SHARED, token, cpr=PETER))["data"]["patient"]
    overridden = await gateway.graphql(SHARED, token, cpr=PETER, o={"ground": "NOT_CONTACTABLE", "reason": REASON})
    own = (await gateway.graphql(SHARED, gateway.citizen(PETER), cpr=PETER))["data"]["patient"]

    assert narrowed["appointments"]["withheld"] is True and narrowed["diagnoses"]["withheld"] is True
    lifted = overridden["data"]["patient"]
    assert error_codes(overridden) == []
    assert lifted["appointments"]["withheld"] is False and lifted["diagnoses"]["withheld"] is False
    assert lifted["appointments"]["list"]["totalCount"] == own["appointments"]["list"]["totalCount"]
    assert narrowed["appointments"]["list"]["totalCount"] < own["appointments"]["list"]["totalCount"]
    assert len(lifted["diagnoses"]["nodes"]) == len(own["diagnoses"]["nodes"])


async def test_the_override_lasts_for_that_request_only(gateway: Gateway) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)
    await gateway.graphql(SHARED, token, cpr=PETER, o={"ground": "NOT_CONTACTABLE", "reason": REASON})

    after = (await gateway.graphql(SHARED, token, cpr=PETER))["data"]["patient"]

    assert after["appointments"]["withheld"] is True


async def test_an_override_and_its_reason_are_in_the_access_record(gateway: Gateway) -> None:
    await gateway.graphql(
        SHARED,
        gateway.professional(DOCTOR_WITH_RELATIONS),
        cpr=PETER,
        o={"ground": "NOT_CONTACTABLE", "reason": REASON},
    )

    (record,) = await gateway.access_log.for_patient(PETER)
    assert record.override_ground == "NOT_CONTACTABLE" and record.override_reason == REASON
    assert record.withheld == () and set(record.returned) == {"appointments", "diagnoses"}


async def test_a_doctor_blocked_by_name_is_told_he_may_override_and_then_sees_the_data(gateway: Gateway) -> None:
    token = gateway.professional(BLOCKED_DOCTOR)

    blocked = await gateway.graphql(SHARED, token, cpr=BLOCKS_DOCTOR)
    fetched_while_blocked = sum(recorded(gateway.sandbox, name) for name in SHARED_SOURCES)
    overridden = await gateway.graphql(SHARED, token, cpr=BLOCKS_DOCTOR, o=CONSENT)

    assert {e["extensions"]["code"] for e in blocked["errors"]} == {"CONSENT_DENIED"}
    assert all(e["extensions"]["overridable"] is True for e in blocked["errors"])
    assert fetched_while_blocked == 0
    assert error_codes(overridden) == []
    assert overridden["data"]["patient"]["appointments"]["list"]["totalCount"] > 0


@pytest.mark.parametrize(
    ("who", "variables"),
    [
        ("citizen", {"cpr": HANS}),
        ("assistant", {"actor_kind": "assistant", "assistant_id": "medhjaelp-0042", "authorization_id": "CBDJ6"}),
    ],
)
async def test_nobody_but_an_authorised_professional_may_override(
    gateway: Gateway, who: str, variables: dict[str, Any]
) -> None:
    token = gateway.citizen(HANS) if who == "citizen" else gateway.token(**variables)

    body = await gateway.graphql(SHARED, token, cpr=HANS, o=CONSENT)

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    for source in (*SHARED_SOURCES, "treatment_relation", "consent", "cpr", "fuldmagt"):
        assert recorded(gateway.sandbox, source) == 0, f"{source} was asked though the override is refused"


async def test_a_malformed_override_is_bad_user_input_and_nothing_is_fetched(gateway: Gateway) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)

    body = await gateway.graphql(SHARED, token, cpr=PETER, o={"ground": "NOT_CONTACTABLE", "reason": "akut"})

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == "override.reason"
    for source in (*SHARED_SOURCES, "treatment_relation", "consent"):
        assert recorded(gateway.sandbox, source) == 0, f"{source} was asked though the override is malformed"
