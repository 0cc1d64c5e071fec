"""A consent the adapter cannot tell with certainty is no block in force counts as one (issue 10, round two).

The family: whatever a consent's status says (``Active``, ``ACTIVE``, ``"active "``, ``proposed``,
nothing, a number), whatever search mode its entry has (``match``, ``include``, ``outcome``, one FHIR
does not define, none) and however its resource type is spelt (``consent``), it is a block of its
patient: its own when it can be read, an unmatchable one when not. Only the four statuses that are
certainly not in force, spelt exactly, leave it out. A result that is not a consent at all makes the
whole answer fail (every asked patient's decision fails closed).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.base import SourceClient, SourceConfig
from sources.consent import NOT_IN_FORCE, ConsentSource
from sources.errors import SourceResponseInvalid
from sources.models import BlockRecord

HANS = "1403723705"
ANNE = "2805670388"
CPR = "urn:oid:1.2.208.176.1.2"
AUTHORISATION = "https://autregweb.sst.dk"
MISSING = object()


def consent(status: object = "active", resource_type: str = "Consent") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": resource_type,
        "id": "b1",
        "patient": {"identifier": {"system": CPR, "value": HANS}},
        "provision": {
            "type": "deny",
            "actor": [{"reference": {"identifier": {"system": AUTHORISATION, "value": "CBDJ6"}}}],
        },
    }
    if status is not MISSING:
        resource["status"] = status
    return resource


async def blocks(*entries: dict[str, Any]) -> dict[str, list[BlockRecord]]:
    body = {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with httpx.AsyncClient(transport=transport, base_url="http://consent.mock") as http:
        client = SourceClient(SourceConfig("consent", "http://consent.mock"), http)
        return await ConsentSource(client).blocks_for([HANS, ANNE])


def against_cbdj6(found: dict[str, list[BlockRecord]]) -> bool:
    """Hans has one block and it applies to CBDJ6 (his own, or an unmatchable one); Anne has none."""
    return len(found[HANS]) == 1 and found[HANS][0].names_professional("CBDJ6") and found[ANNE] == []


statuses = st.one_of(
    st.text(max_size=20), st.sampled_from(["Active", "ACTIVE", "active ", " active", "proposed", "Inactive"])
).filter(lambda s: s not in NOT_IN_FORCE)


@given(st.one_of(statuses, st.integers(), st.just(MISSING), st.none()))
async def test_a_consent_whose_status_may_be_in_force_is_a_block(status: object) -> None:
    assert against_cbdj6(await blocks({"resource": consent(status), "search": {"mode": "match"}}))


@given(st.sampled_from(sorted(NOT_IN_FORCE)))
async def test_a_consent_certainly_not_in_force_is_left_out(status: str) -> None:
    found = await blocks({"resource": consent(status)})

    assert found == {HANS: [], ANNE: []}


@given(st.one_of(st.sampled_from(["match", "include", "outcome", "Match", "other", ""]), st.text(max_size=10)))
async def test_a_consent_is_a_block_whatever_its_entrys_search_mode(mode: str) -> None:
    assert against_cbdj6(await blocks({"resource": consent(), "search": {"mode": mode}}))


async def test_a_consent_without_a_search_element_is_a_block() -> None:
    assert against_cbdj6(await blocks({"resource": consent()}))


@given(st.sampled_from(["consent", "CONSENT", " Consent", "Consent "]))
async def test_a_consent_with_its_type_misspelt_is_an_unmatchable_block(resource_type: str) -> None:
    found = await blocks({"resource": consent(resource_type=resource_type)})

    assert against_cbdj6(found) and found[HANS][0].unmatchable


async def test_a_result_that_is_no_consent_fails_the_whole_answer() -> None:
    patient = {"resourceType": "Patient", "id": "p", "identifier": [{"system": CPR, "value": HANS}]}

    with pytest.raises(SourceResponseInvalid):
        await blocks({"resource": consent()}, {"resource": patient, "search": {"mode": "match"}})
