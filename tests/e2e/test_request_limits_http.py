"""Hostile and odd requests through HTTP: a coded GraphQL error for each, never HTTP 500, work bounded.

Bodies the gateway cannot read are 4xx with ``{"errors": [{"message", "extensions": {"code"}}]}``;
documents over a limit are refused before validation or execution with ``QUERY_TOO_COMPLEX`` and the
limit's name. Work is counted (chunks read, validations run), never timed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import limits
from gateway.errors import ErrorCode
from sandbox.server import SOURCE_APPS, ThreadedSandbox
from tests.e2e.conftest import HANS, KOL, Gateway, error_codes, gateway_with, recorded
from tests.gateway.documents import WORST_CASES, fan_out

CODES = {code.value for code in ErrorCode}


async def send(
    gateway: Gateway, body: Any, content_type: str = "application/json", token: str | None = None
) -> httpx.Response:
    headers = {"content-type": content_type, **({"authorization": f"Bearer {token}"} if token else {})}
    return await gateway.client.post("/graphql", content=body, headers=headers)


def refusal(response: httpx.Response) -> tuple[int, str]:
    """The status and the one coded error of a refused request."""
    (error,) = response.json()["errors"]
    return response.status_code, error["extensions"]["code"]


NOT_REQUESTS = [
    b'"x"',
    b"null",
    b"\xff",
    b'{"query": "{ __typename }", "variables": {"a": ' + b"1" * 5000 + b"}}",
    b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
    b"",
    b"   ",
    b"[]",
    b'[{"query": "{ __typename }"}]',
    b"1e999",
    b'{"query": 1}',
    b'{"query": ""}',
    b'{"variables": {}}',
    b'{"query": "{ __typename }", "variables": []}',
    b'{"query": "{ __typename }", "variables": "x"}',
    b'{"query": "{ __typename }", "operationName": 3}',
    b'{"query": "{ __typename }", "extensions": [1]}',
    b'{"query": "{ __typename }", "variables": {"a": NaN}}',
    b'{"query": "{ __typename }", "variables": {"a": -Infinity}}',
    b'{"query": "{ __typename }", "variables": {"a": 1e400}}',
    b'{"query": "{ __typename }", "variables": {"a": "\\ud800"}}',
    b'{"query": "{ __typename }", "variables": {"\\udfff": 1}}',
    b'\xef\xbb\xbf{"query": "{ __typename }"}',
    b'{"query": "{ __typename }"',
]
"""The issue's five bodies that gave HTTP 500, then their siblings."""


async def test_a_body_that_is_not_a_graphql_request_is_400_with_a_code(gateway: Gateway) -> None:
    for body in NOT_REQUESTS:
        assert refusal(await send(gateway, body)) == (400, "BAD_REQUEST"), body[:60]


async def test_a_body_that_is_not_json_by_its_type_is_415(gateway: Gateway) -> None:
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "", "application/jsonx"]:
        response = await send(gateway, b'{"query": "{ __typename }"}', content_type)
        assert refusal(response) == (415, "BAD_REQUEST"), content_type


async def test_graphql_over_get_is_405_with_a_code(gateway: Gateway) -> None:
    for params in ["?query={__typename}", "?query=mutation{x}", "?variables=[[[", "?a=1", ""]:
        response = await gateway.client.get(f"/graphql{params}", headers={"accept": "application/json"})
        assert refusal(response) == (405, "BAD_REQUEST") and response.headers["allow"] == "POST", params


async def test_a_body_over_the_limit_is_413_without_reading_it(gateway: Gateway) -> None:
    read: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(128):  # 8 MiB, sent without a length
            read.append(n)
            yield b" " * 65_536

    declared = await send(gateway, b" " * (8 << 20))
    streamed = await send(gateway, chunks())

    assert refusal(declared) == (413, "REQUEST_TOO_LARGE")
    assert refusal(streamed) == (413, "REQUEST_TOO_LARGE") and len(read) <= 2


async def test_twenty_thousand_operations_are_refused_by_size_and_by_tokens(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    document = " ".join(f"query Q{n} {{ __typename }}" for n in range(20_000))
    body = json.dumps({"query": document, "operationName": "Q1"})
    async for gateway in gateway_with(sandbox, tmp_path):
        assert refusal(await send(gateway, body)) == (413, "REQUEST_TOO_LARGE")
    async for gateway in gateway_with(sandbox, tmp_path, max_request_bytes=1 << 20):
        (error,) = (await send(gateway, body)).json()["errors"]
        assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "maxTokens", "maximum": 1000}


@pytest.mark.parametrize(
    ("document", "limit"),
    [
        (" ".join(f"query Q{n} {{ __typename }}" for n in range(11)), "maxOperations"),
        ("{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }", "maxAliases"),
        (fan_out(17, "a: __typename"), "maxAliases"),
        ("{ " + "__typename " * 1001 + "}", "maxTokens"),
        ("# a comment\n" * 1001 + "{ __typename }", "maxTokens"),
    ],
)
async def test_a_document_over_a_limit_is_refused_with_the_limit_named(
    gateway: Gateway, document: str, limit: str
) -> None:
    body = await gateway.graphql(document)

    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX" and error["extensions"]["limit"] == limit


async def test_a_deep_operation_is_refused_before_anything_is_asked(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    deep = "fragment D on Patient { appointments { list { nodes { organisation { name } } } } }"
    query = f'{{ patient(cpr: "{HANS}") {{ ...D }} }} {deep}'

    async for gateway in gateway_with(sandbox, tmp_path, max_depth=4):
        (error,) = (await gateway.graphql(query, gateway.citizen(HANS)))["errors"]
        assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": "maxDepth", "maximum": 4}
    assert all(recorded(sandbox, name) == 0 for name in SOURCE_APPS if name != "issuer")


@pytest.mark.parametrize(
    ("query", "operation"),
    [
        ("query A { __typename } query B { me { kind } }", None),
        ("query A { __typename } query B { me { kind } }", "C"),
        ("{ __typename }", "A"),
    ],
)
async def test_a_request_that_does_not_name_its_one_operation_runs_nothing(
    gateway: Gateway, query: str, operation: str | None
) -> None:
    response = await gateway.client.post("/graphql", json={"query": query, "operationName": operation})

    assert response.status_code == 200
    assert response.json()["data"] is None and error_codes(response.json()) == [("BAD_REQUEST", None)]


async def test_the_same_document_is_validated_once(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[object] = []
    measure = limits.measure

    def counted(document: Any) -> Any:
        measured.append(document)
        return measure(document)

    monkeypatch.setattr(limits, "measure", counted)
    fresh = f"{{ {'a' + uuid.uuid4().hex}: __typename }}"

    for _ in range(3):
        assert (await gateway.graphql(fresh))["data"] is not None
    assert len(measured) == 1  # the same rule objects every request: the validation cache hits
    await gateway.graphql("{ other: __typename }")
    assert len(measured) == 2


async def test_the_worst_small_documents_get_an_answer_with_codes(gateway: Gateway) -> None:
    for name, document in WORST_CASES.items():
        response = await gateway.post(document, gateway.citizen(HANS))

        assert response.status_code == 200, name
        assert {code for code, _ in error_codes(response.json())} <= CODES - {"INTERNAL_ERROR"}, name


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "query": JSON | st.sampled_from(["{ __typename }", "query Q($a: Int) { __typename }", "{ me { kind } }"]),
        "variables": JSON,
        "operationName": JSON | st.just("Q"),
        "extensions": JSON,
    },
)


def coded(response: httpx.Response) -> bool:
    """A GraphQL response whose every error has a known code other than INTERNAL_ERROR."""
    body = response.json()
    errors = body.get("errors", [])
    return bool(errors or "data" in body) and all(e["extensions"]["code"] in CODES - {"INTERNAL_ERROR"} for e in errors)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | REQUESTS)
async def test_any_json_body_gets_a_coded_answer_never_500(gateway: Gateway, body: Any) -> None:
    response = await send(gateway, json.dumps(body).encode())

    assert response.status_code in (200, 400) and coded(response)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200))
async def test_any_bytes_get_a_coded_answer_never_500(gateway: Gateway, body: bytes) -> None:
    response = await send(gateway, body)

    assert response.status_code in (200, 400) and coded(response)


async def test_the_gate_reads_a_default_variable_as_execution_does(gateway: Gateway) -> None:
    own = 'query Q($c: CPR! = "1403723705") { patient(cpr: $c) { person { name } } }'
    other = f'query Q($c: CPR! = "{KOL}") {{ patient(cpr: $c) {{ person {{ name }} }} }}'

    mine = await gateway.graphql(own, gateway.citizen(HANS))
    theirs = await gateway.graphql(other, gateway.citizen(HANS))

    assert error_codes(mine) == [] and mine["data"]["patient"]["person"]["name"]
    assert error_codes(theirs) == [("FORBIDDEN", None)]
    assert theirs["errors"][0]["message"] != "access to this patient was not decided"  # decided, so recorded
