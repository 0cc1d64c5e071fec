"""Representatives, parents, guardians, assistants and vendor systems, through the real sources."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, Gateway, error_codes, recorded
from tests.entry_points import BOTH

LISE, INGE, JORGEN = "1709683160", "2205753484", "0310502239"
"""Hans's representatives: all scopes, master card only, expired."""
MOTHER, IDA, OSCAR = "1908830938", "1006154216", "0204114575"
"""Ida is under 15; Oscar turned 15 in 2026."""
MAY_JUNE, SVERRE = "0108629996", "0104909995"
"""A guardian (værge) and her ward, as CPR records it."""
SECTIONS = """
query($cpr: CPR!) {
  patient(cpr: $cpr) {
    person { name }
    masterCard { phone }
    appointments { list { totalCount } }
    diagnoses { nodes { code } }
  }
}
"""
EDIT = """
mutation($cpr: CPR!, $v: String!) { updateMasterCard(cpr: $cpr, version: $v, changes: {dentist: "Tandlæge Test"}) {
  dentist version } }
"""


def denied_paths(body: dict[str, object]) -> dict[str, str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return {".".join(map(str, e["path"])): e["extensions"]["code"] for e in errors}


@pytest.mark.usefixtures("restore_hans")
@BOTH
async def test_a_representative_with_full_power_sees_and_edits_as_the_citizen(gateway: Gateway) -> None:
    token = gateway.citizen(LISE)

    body = await gateway.graphql(SECTIONS, token, cpr=HANS)
    version = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { masterCard { version } } }", token, cpr=HANS
    )
    edited = await gateway.graphql(EDIT, token, cpr=HANS, v=version["data"]["patient"]["masterCard"]["version"])

    assert error_codes(body) == []
    assert body["data"]["patient"]["person"]["name"] == "Hans Test Jensen"
    assert edited["data"]["updateMasterCard"]["dentist"] == "Tandlæge Test"
    records = await gateway.access_log.for_patient(HANS)
    assert {r.actor_kind for r in records} == {"representative"}
    assert {r.actor_name for r in records} == {"Lise Test Jensen"}
    assert records[0].activity == "write"  # newest first: the edit


@BOTH
async def test_a_power_scoped_to_the_master_card_covers_nothing_else(gateway: Gateway) -> None:
    body = await gateway.graphql(SECTIONS, gateway.citizen(INGE), cpr=HANS)

    assert body["data"]["patient"]["masterCard"]["phone"] is not None
    assert denied_paths(body) == {"patient.appointments": "FORBIDDEN", "patient.diagnoses": "FORBIDDEN"}
    assert recorded(gateway.sandbox, "region-syddanmark") == 0


@BOTH
async def test_an_expired_power_of_attorney_gives_no_access(gateway: Gateway) -> None:
    body = await gateway.graphql(SECTIONS, gateway.citizen(JORGEN), cpr=HANS)

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert recorded(gateway.sandbox, "stamkort") == 0


@BOTH
async def test_a_parent_sees_a_child_under_15_within_the_parents_scope(gateway: Gateway) -> None:
    body = await gateway.graphql(SECTIONS, gateway.citizen(MOTHER), cpr=IDA)

    assert body["data"]["patient"]["person"]["name"] == "Ida Test Nielsen"
    assert body["data"]["patient"]["appointments"] is not None
    assert denied_paths(body) == {"patient.diagnoses": "FORBIDDEN"}
    (record,) = await gateway.access_log.for_patient(IDA)
    assert record.actor_kind == "parent" and record.actor_id == MOTHER


@BOTH
async def test_a_parent_is_refused_for_a_child_of_15_and_nothing_is_fetched(gateway: Gateway) -> None:
    body = await gateway.graphql(SECTIONS, gateway.citizen(MOTHER), cpr=OSCAR)

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert "15th birthday" in body["errors"][0]["message"]
    for source in ("stamkort", "yderregister", "gp", "dds"):
        assert recorded(gateway.sandbox, source) == 0


@BOTH
async def test_a_guardian_acts_for_the_ward_as_cpr_records_it(gateway: Gateway) -> None:
    body = await gateway.graphql(SECTIONS, gateway.citizen(MAY_JUNE), cpr=SVERRE)

    assert error_codes(body) == []
    assert body["data"]["patient"]["person"]["name"] == "Sverre Test Mosebryggersen"
    (record,) = await gateway.access_log.for_patient(SVERRE)
    assert record.actor_kind == "guardian"


@BOTH
async def test_an_assistant_is_recorded_with_both_identities(gateway: Gateway) -> None:
    token = gateway.token(actor_kind="assistant", assistant_id="medhjaelp-0042", authorization_id=DOCTOR_WITH_RELATIONS)

    body = await gateway.graphql(SECTIONS, token, cpr=HANS)

    assert body["data"]["patient"]["person"]["name"] == "Hans Test Jensen"
    (record,) = await gateway.access_log.for_patient(HANS)
    assert (record.actor_kind, record.actor_id, record.actor_name) == (
        "assistant",
        "medhjaelp-0042",
        "Camilla Test Berg",
    )
    assert (record.acting_for_id, record.acting_for_name) == (DOCTOR_WITH_RELATIONS, "Mette Test Larsen")


@BOTH
async def test_a_vendor_system_sees_only_its_registered_fields_and_nothing_else_is_fetched(gateway: Gateway) -> None:
    token = gateway.token(actor_kind="system", client_id="epj-odense", authorization_id=DOCTOR_WITH_RELATIONS)

    body = await gateway.graphql(SECTIONS, token, cpr=HANS)

    patient = body["data"]["patient"]
    assert patient["person"]["name"] == "Hans Test Jensen" and patient["appointments"] is not None
    assert patient["diagnoses"] is None
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("FORBIDDEN", "Patient.diagnoses")
    ]
    for plan_source in ("plans-gp", "plans-municipality", "plans-hospital"):
        assert recorded(gateway.sandbox, plan_source) == 0
    (record,) = await gateway.access_log.for_patient(HANS)
    assert record.actor_kind == "system" and record.client_id == "epj-odense"
    assert "diagnoses" in record.requested and record.denied == ("diagnoses",), "the refused field is recorded"
    assert "diagnoses" not in record.returned


async def test_an_unregistered_system_can_select_nothing_but_who_it_is(gateway: Gateway) -> None:
    token = gateway.token(actor_kind="system", client_id="epj-unknown", authorization_id=DOCTOR_WITH_RELATIONS)

    body = await gateway.graphql(SECTIONS, token, cpr=HANS)
    me = await gateway.graphql("{ me { kind clientId } }", token)

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert recorded(gateway.sandbox, "treatment_relation") == 0
    assert me["data"]["me"] == {"kind": "SYSTEM", "clientId": "epj-unknown"}
