"""GraphQL over HTTP: graphql-response+json gets 4xx without `data` for request errors, JSON stays as it was.

The audit (tests/e2e/graphql_http) checks the spec's cases with its own documents; these check the
gateway's own refusals of the same kinds, and that a field error is never a request error.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import HANS, OVERVIEW, Gateway

GRAPHQL_RESPONSE = "application/graphql-response+json"
ME = "query Me { me { kind } }"


async def post(
    gateway: Gateway, body: object, accept: str | None, token: str | None = None
) -> tuple[int, str, dict[str, Any]]:
    headers = {"accept": accept} if accept is not None else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await gateway.client.post("/graphql", json=body, headers=headers)
    return response.status_code, response.headers["content-type"], response.json()


REQUEST_ERRORS = [
    pytest.param({"query": "{ me { kind "}, "GRAPHQL_VALIDATION_FAILED", id="does not parse"),
    pytest.param({"query": "{ me { nope } }"}, "GRAPHQL_VALIDATION_FAILED", id="does not validate"),
    pytest.param(
        {"query": "query P($cpr: CPR!) { patient(cpr: $cpr) { cpr } }", "variables": {"cpr": "12"}},
        "BAD_USER_INPUT",
        id="variables do not coerce",
    ),
    pytest.param(
        {"query": f"{ME} query Other {{ me {{ name }} }}", "operationName": "Nope"},
        "BAD_REQUEST",
        id="no such operation",
    ),
    pytest.param({"query": f"{ME} query Other {{ me {{ name }} }}"}, "BAD_REQUEST", id="no operation named"),
    pytest.param({"query": "{ " + "a: __typename " * 31 + "}"}, "QUERY_TOO_COMPLEX", id="over a limit"),
]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data_as_graphql_response_json(
    gateway: Gateway, body: dict[str, Any], code: str
) -> None:
    status, content_type, answer = await post(gateway, body, GRAPHQL_RESPONSE)

    assert status == 400
    assert content_type == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code] * len(answer["errors"])


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "text/html"])
async def test_application_json_answers_a_request_error_as_before(
    gateway: Gateway, body: dict[str, Any], code: str, accept: str | None
) -> None:
    status, content_type, answer = await post(gateway, body, accept)

    assert status == 200
    assert content_type == "application/json; charset=utf-8"
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_body_that_is_not_json_is_a_coded_graphql_error_body_in_either_type(
    gateway: Gateway, accept: str
) -> None:
    response = await gateway.client.post(
        "/graphql", content=b'{"query": ', headers={"content-type": "application/json", "accept": accept}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    assert response.json() == {"errors": [{"message": "The body is not JSON.", "extensions": {"code": "BAD_REQUEST"}}]}


async def test_a_field_error_keeps_data_and_200_as_graphql_response_json(gateway: Gateway) -> None:
    status, _, answer = await post(
        gateway, {"query": OVERVIEW, "variables": {"cpr": HANS}}, GRAPHQL_RESPONSE, gateway.professional("X2P9K")
    )

    assert status == 200
    assert answer["data"] == {"patient": None}
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.2, application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE}, application/json", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        ("application/*", "application/json"),
    ],
)
async def test_the_media_type_follows_the_accept_header(gateway: Gateway, accept: str, expected: str) -> None:
    status, content_type, answer = await post(gateway, {"query": ME}, accept)

    assert status == 200
    assert content_type == f"{expected}; charset=utf-8"
    assert answer == {"data": {"me": {"kind": "ANONYMOUS"}}}


async def test_graphql_over_get_is_refused_with_a_coded_body(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept": GRAPHQL_RESPONSE}
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
