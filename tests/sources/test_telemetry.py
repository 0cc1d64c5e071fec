"""What a source call may record: its route, never an identifier or a query string (ADR 0019)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.errors import (
    SourceCircuitOpen,
    SourceRejected,
    SourceResponseInvalid,
    SourceTimeout,
    SourceUnavailable,
    SourceVersionConflict,
)
from sources.telemetry import CallOutcome, outcome_of, route_of

HANS = "1403723705"


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (f"/fhir/Patient?identifier=urn:oid:1.2.208.176.1.2|{HANS}", "/fhir/Patient"),
        (f"/fhir/Patient/{HANS}", "/fhir/Patient/{id}"),
        ("/fhir/Consent/block", "/fhir/Consent/{id}"),
        ("/fhir/Patient/hans/_history/2", "/fhir/Patient/{id}/_history/{id}"),
        (f"http://dds.example/fhir/Binary/apd-{HANS}.xml?x=1", "/fhir/Binary/{id}"),
        (f"/sikrede?cpr={HANS},2309510372", "/sikrede"),
        ("/.well-known/jwks.json", "/.well-known/jwks.json"),
        ("/registers/treatment-will", "/registers/treatment-will"),
        ("", "/"),
    ],
)
def test_a_route_keeps_the_path_and_drops_identifiers_and_queries(path: str, route: str) -> None:
    assert route_of(path) == route


@given(
    before=st.lists(st.sampled_from(["fhir", "Patient", "sikrede", "x-y", "_search", "Binary"]), max_size=4),
    cpr=st.from_regex(r"\A[0-9]{6}-?[0-9]{4}\Z"),
    glue=st.sampled_from(["", "apd-", "urn:", "Patient"]),
    query=st.booleans(),
)
def test_no_route_holds_a_cpr_number_wherever_the_path_carries_it(
    before: list[str], cpr: str, glue: str, query: bool
) -> None:
    path = "/" + "/".join(before) + (f"?identifier={glue}{cpr}" if query else f"/{glue}{cpr}")

    assert cpr not in route_of(path)
    assert not any(c.isdigit() for c in route_of(path))


@pytest.mark.parametrize(
    ("error", "status", "outcome"),
    [
        (None, 200, CallOutcome.OK),
        (None, 204, CallOutcome.OK),
        (SourceUnavailable("cpr", "status 404"), 404, CallOutcome.REJECTED),
        (SourceVersionConflict("stamkort", "status 412"), 412, CallOutcome.REJECTED),
        (SourceRejected("stamkort", "status 422"), 422, CallOutcome.REJECTED),
        (SourceUnavailable("cpr", "status 503"), 503, CallOutcome.SERVER_ERROR),
        (SourceUnavailable("cpr", "connection failed"), None, CallOutcome.UNAVAILABLE),
        (SourceTimeout("cpr", "timed out"), None, CallOutcome.TIMEOUT),
        (SourceCircuitOpen("cpr", "circuit open"), None, CallOutcome.CIRCUIT_OPEN),
        (SourceResponseInvalid("cpr", "body is not JSON"), 200, CallOutcome.INVALID_RESPONSE),
        (asyncio.CancelledError(), None, CallOutcome.CANCELLED),
        (KeyError("x"), 200, CallOutcome.ERROR),
    ],
)
def test_every_way_a_call_ends_has_one_outcome(
    error: BaseException | None, status: int | None, outcome: CallOutcome
) -> None:
    assert outcome_of(error, status) is outcome
