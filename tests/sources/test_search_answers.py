"""What a FHIR search answer lacks is never dropped silently: odd entry modes and outcome severities.

The family: a search entry whose ``search.mode`` FHIR does not define (``Match``, ``other``, ``""``),
or an ``outcome`` entry that is no ``OperationOutcome``, is a problem of the answer; an
``OperationOutcome`` issue of any severity but ``warning`` and ``information`` (``ERROR``,
``critical``, ``fatal``) makes the answer incomplete: unknown severities fail toward incomplete.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from sources.base import SourceClient, SourceConfig
from sources.errors import SourceIncomplete, SourceResponseInvalid
from sources.fhir_search import SearchAnswer, search_resources

APPOINTMENT = {"resourceType": "Appointment", "id": "a1"}


async def answer_to(entries: list[dict[str, Any]]) -> SearchAnswer:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": entries})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://x.mock") as http:
        client = SourceClient(SourceConfig("x", "http://x.mock"), http)
        return await search_resources(client, "/fhir/Appointment", [("patient", "1")])


def outcome(severity: object) -> dict[str, Any]:
    issue = {"severity": severity, "code": "timeout"}
    return {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}


@given(st.text(max_size=12).filter(lambda s: s not in ("warning", "information")))
async def test_an_outcome_issue_of_any_other_severity_makes_the_answer_incomplete(severity: str) -> None:
    found = await answer_to([{"resource": APPOINTMENT}, outcome(severity)])

    assert [type(p) for p in found.problems] == [SourceIncomplete]
    assert found.resources == [APPOINTMENT]


@given(st.sampled_from(["warning", "information"]))
async def test_a_warning_or_an_information_leaves_it_complete(severity: str) -> None:
    found = await answer_to([{"resource": APPOINTMENT}, outcome(severity)])

    assert found.problems == [] and found.resources == [APPOINTMENT]


@given(st.text(max_size=12).filter(lambda s: s not in ("match", "include", "outcome")))
async def test_an_entry_with_a_search_mode_fhir_does_not_define_is_reported_and_kept_apart(mode: str) -> None:
    found = await answer_to([{"resource": APPOINTMENT, "search": {"mode": mode}}, {"resource": APPOINTMENT}])

    assert [type(p) for p in found.problems] == [SourceResponseInvalid]
    assert found.problems == [found.stray_problem]
    assert found.stray == [APPOINTMENT] and found.resources == [APPOINTMENT]


async def test_an_outcome_entry_that_is_no_operation_outcome_is_reported() -> None:
    found = await answer_to([{"resource": APPOINTMENT, "search": {"mode": "outcome"}}])

    assert [type(p) for p in found.problems] == [SourceResponseInvalid]
    assert found.stray == [APPOINTMENT] and found.resources == []


async def test_an_issue_without_a_severity_counts_as_an_error() -> None:
    found = await answer_to([outcome(None)])

    assert [type(p) for p in found.problems] == [SourceIncomplete]
