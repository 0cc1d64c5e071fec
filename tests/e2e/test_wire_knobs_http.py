"""The same data, spelt as odd real servers spell it, gives the same overview (issue 10, round two).

The sandbox's knobs (``sandbox/rewrites.py``) respell what a source sends without changing it: times in
UTC or at another offset (FHIR and APD-DK, plain dates of plans and goals as instants), SOR codes with
a leading zero, the sector label of every appointment wrong, every result entry's search mode odd,
outcome severities outside FHIR's four, and next links that leave the FHIR base once decoded. The
overview must be the one the plain spelling gives (or say that the endpoint's answer is partial), and
a link that leaves the base is never followed, on either transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from sources.transport import HttpTransport
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, PROTECTED, Gateway, error_codes, gateway_with

PETER = "0907644021"
OVERVIEW = """
query Overview($cpr: CPR!) {
  patient(cpr: $cpr) {
    appointments(from: "2018-01-01", to: "2027-12-31") {
      withheld complete
      list(first: 100) { nodes { id start end source organisation { name sorId kind } location { sorId address } } }
    }
    plans { withheld nodes { id period { start end } organisation { sorId } } }
    goals { withheld nodes { id start organisation { sorId } } }
    diagnoses { withheld nodes { id recorded recordedPeriod { start end } organisation { sorId } } }
  }
}
"""
ENDPOINTS = ("region-syddanmark", "region-nordjylland", "municipality-odense", "municipality-aalborg", "gp", "dds")
PLAN_SOURCES = ("plans-gp", "plans-municipality", "plans-hospital")


@pytest.fixture
async def gateway(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Gateway]:
    async for running in gateway_with(sandbox, tmp_path, sor_cache_ttl_s=0):
        yield running


def turn(sandbox: ThreadedSandbox, names: tuple[str, ...], **knobs: Any) -> None:
    for name in names:
        sandbox.control(name).faults.update(knobs)


async def overview(gateway: Gateway, cpr: str, token: str) -> dict[str, Any]:
    body = await gateway.graphql(OVERVIEW, token, cpr=cpr)
    assert error_codes(body) == [], error_codes(body)
    return body


@pytest.mark.parametrize("style", ["utc", "offset"])
@pytest.mark.parametrize(("who", "cpr"), [("Peter", PETER), ("Rikke", "2104772348"), ("Nat", "2510611681")])
async def test_times_in_utc_or_another_offset_give_the_same_overview_and_the_same_blocks(
    gateway: Gateway, style: str, who: str, cpr: str
) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)
    plain = await overview(gateway, cpr, token)
    turn(gateway.sandbox, (*ENDPOINTS, *PLAN_SOURCES, "consent"), instants=style)

    respelt = await overview(gateway, cpr, token)

    assert respelt["data"] == plain["data"], who


async def test_sor_codes_with_a_leading_zero_everywhere_give_the_same_overview_and_blocks(gateway: Gateway) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)
    plain = await overview(gateway, PETER, token)
    turn(gateway.sandbox, (*ENDPOINTS, *PLAN_SOURCES, "consent", "sor"), sor_form="zero_padded")

    respelt = await overview(gateway, PETER, token)

    assert respelt["data"] == plain["data"]
    assert plain["data"]["patient"]["appointments"]["withheld"] is True  # OUH with its sub-units is blocked


async def test_every_appointment_labelled_a_regions_hides_a_protected_patients_places_all_the_same(
    gateway: Gateway,
) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)
    plain = await overview(gateway, PROTECTED, token)
    for style in ("region", "none", "padded"):
        turn(gateway.sandbox, ENDPOINTS, appointment_type=style)

        respelt = await overview(gateway, PROTECTED, token)

        names = {n["organisation"]["name"] for n in respelt["data"]["patient"]["appointments"]["list"]["nodes"]}
        plain_names = {n["organisation"]["name"] for n in plain["data"]["patient"]["appointments"]["list"]["nodes"]}
        assert names == plain_names, style


@pytest.mark.parametrize("severity", ["ERROR", "critical"])
async def test_an_outcome_severity_outside_fhirs_four_makes_the_answer_incomplete(
    gateway: Gateway, severity: str
) -> None:
    turn(gateway.sandbox, ("region-syddanmark",), outcome=severity)

    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert body["data"]["patient"]["appointments"]["complete"] is False
    assert error_codes(body) == [("SOURCE_INCOMPLETE", "region-syddanmark")]


@pytest.mark.parametrize("mode", ["Match", "other", "outcome"])
async def test_result_entries_with_a_search_mode_fhir_does_not_define_are_reported(gateway: Gateway, mode: str):
    turn(gateway.sandbox, ("region-syddanmark",), search_mode=mode)

    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    nodes = body["data"]["patient"]["appointments"]["list"]["nodes"]
    assert body["data"]["patient"]["appointments"]["complete"] is False
    assert "region-syddanmark" not in {n["source"] for n in nodes}
    assert error_codes(body) == [("SOURCE_INVALID_RESPONSE", "region-syddanmark")]


@pytest.mark.parametrize("transport", list(HttpTransport), ids=str)
@pytest.mark.parametrize("style", ["dot_segments", "encoded_slash", "backslash", "other_host"])
async def test_a_next_link_that_leaves_the_fhir_base_once_decoded_is_never_followed(
    sandbox: ThreadedSandbox, tmp_path: Path, population: Population, transport: HttpTransport, style: str
) -> None:
    turn(sandbox, ("region-syddanmark",), max_count=1, next_link=style)
    control = sandbox.control("region-syddanmark")

    async for gateway in gateway_with(sandbox, tmp_path, http_transport=transport):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert body["data"]["patient"]["appointments"]["complete"] is False
    assert error_codes(body) == [("SOURCE_INVALID_RESPONSE", "region-syddanmark")]
    assert [r.path for r in control.recorder.requests] == ["/fhir/Appointment"]  # never /escaped, never twice
