"""A request repeating a header that must come once is refused before anything reads it; list headers may repeat.

Two ``Authorization`` headers (the same token twice, two tokens, a token and garbage, in either order)
and two ``Content-Type`` headers are HTTP 400 ``BAD_REQUEST`` naming the header: nobody is authenticated,
nothing counted, decided, fetched or recorded. A repeated list header (``Accept``) is read whole; a
repeated ``X-Request-Id`` with differing ids gives no correlation id, with one id it does.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.headers import SINGLE_HEADERS
from tests.e2e.conftest import HANS, KOL, OVERVIEW, Gateway, recorded

JSON = "application/json"


def values_of(gateway: Gateway, header: str) -> list[str]:
    """Values a client might send for ``header``: valid ones, others' and garbage."""
    if header == "authorization":
        return [f"Bearer {gateway.citizen(HANS)}", f"Bearer {gateway.citizen(KOL)}", "Bearer nonsense", "Basic eDp5"]
    return [JSON, "text/plain", "application/json; charset=utf-8", ""]


async def post(gateway: Gateway, headers: list[tuple[str, str]]) -> httpx.Response:
    body = httpx.Request("POST", "http://t", json={"query": OVERVIEW, "variables": {"cpr": HANS}}).content
    sent = headers if any(name == "content-type" for name, _ in headers) else [*headers, ("content-type", JSON)]
    return await gateway.client.post("/graphql", content=body, headers=sent)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), header=st.sampled_from(sorted(name.decode() for name in SINGLE_HEADERS)))
async def test_a_header_that_must_come_once_sent_twice_is_refused_before_anything_is_read(
    gateway: Gateway, data: st.DataObject, header: str
) -> None:
    values = data.draw(st.lists(st.sampled_from(values_of(gateway, header)), min_size=2, max_size=3))
    others = [(name, value) for name, value in [("authorization", f"Bearer {gateway.citizen(HANS)}")] if name != header]
    asked = recorded(gateway.sandbox, "cpr") + recorded(gateway.sandbox, "consent")
    records = len(await gateway.access_log.for_patient(HANS, limit=100))

    response = await post(gateway, [*others, *((header, value) for value in values)])

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert SINGLE_HEADERS[header.encode()] in error["message"]
    assert all(value.removeprefix("Bearer ") not in error["message"] for value in values if value)
    assert recorded(gateway.sandbox, "cpr") + recorded(gateway.sandbox, "consent") == asked
    assert len(await gateway.access_log.for_patient(HANS, limit=100)) == records


async def test_each_header_that_must_come_once_is_read_when_it_comes_once(gateway: Gateway) -> None:
    response = await post(gateway, [("authorization", f"Bearer {gateway.citizen(HANS)}"), ("content-type", JSON)])

    assert response.status_code == 200
    assert response.json()["data"]["patient"] is not None


async def test_a_repeated_accept_is_read_whole(gateway: Gateway) -> None:
    accept = [("accept", "text/html"), ("accept", "application/graphql-response+json")]
    response = await gateway.client.post("/graphql", json={"query": "{ __typename }"}, headers=accept)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")


@pytest.mark.parametrize(
    ("ids", "echoed"),
    [(["client-call-0001", "client-call-0001"], "client-call-0001"), (["client-call-0001", "client-call-0002"], None)],
    ids=["same", "differing"],
)
async def test_a_repeated_request_id_is_a_correlation_id_only_when_it_is_one_id(
    gateway: Gateway, ids: list[str], echoed: str | None
) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers=[("x-request-id", value) for value in ids]
    )

    assert response.status_code == 200
    assert response.headers.get("x-correlation-id") == echoed
