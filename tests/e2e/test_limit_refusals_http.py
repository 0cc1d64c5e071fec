"""Every refusal over a limit carries the limit's fields, built in one place, and says it in plain words.

For each limit the gateway enforces (a body's size and time, a document's tokens, operations, depth and
aliases, validation's own bounds, an operation's cost, the requests and cost per window) a request just
over it is refused with ``extensions.limit`` naming it, ``extensions.maximum`` giving the configured value
(the same number in the message), and for a window ``extensions.retryAfter`` equal to ``Retry-After``,
whether the refusal came before GraphQL ran (HTTP 413, 408, the request count's 429) or from it. The
README names every limit a client can meet.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.validation import MAX_FIELD_COMPARISONS
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, gateway_with

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


async def slow_body() -> AsyncIterator[bytes]:
    yield b'{"query": '
    await asyncio.sleep(1.0)
    yield b'"{ __typename }"}'


@dataclass(frozen=True)
class Over:
    """A request just over one limit, and the gateway settings that make the limit small."""

    limit: str
    maximum: int | float
    settings: dict[str, Any]
    query: str = "{ __typename }"
    status: int = 200
    code: str = "QUERY_TOO_COMPLEX"
    body: Any = None
    citizen: bool = False
    before: int = 0
    """Requests of the same kind sent first (to fill a window)."""
    variables: dict[str, Any] = field(default_factory=dict)


CASES = [
    Over("maxRequestBytes", 1024, {"max_request_bytes": 1024}, body=b" " * 2048, status=413, code="REQUEST_TOO_LARGE"),
    Over(
        "requestBodyTimeoutSeconds",
        0.05,
        {"request_body_timeout_s": 0.05},
        body=slow_body,
        status=408,
        code="REQUEST_TIMEOUT",
    ),
    Over("maxTokens", 100, {"max_tokens": 100}, query="{ " + "__typename " * 120 + "}"),
    Over(
        "maxOperations",
        2,
        {"max_operations": 2},
        query="query A { a: __typename } query B { b: __typename } query C { c: __typename }",
    ),
    Over("maxDepth", 1, {"max_depth": 1}, query="{ me { client { limits { maxCost } } } }"),
    Over("maxAliases", 2, {"max_aliases": 2}, query="{ a: __typename b: __typename c: __typename }"),
    Over("maxValidationErrors", 100, {}, query="{ " + " ".join(f"f{n}" for n in range(120)) + " }"),
    Over("maxFieldComparisons", MAX_FIELD_COMPARISONS, {}, query="{ " + "__typename " * 800 + "}"),
    Over(
        "maxRepresentations",
        2,
        {"max_representations": 2},
        query="query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        variables={"r": [{"__typename": "Patient", "id": "not-a-key"}] * 3},
    ),
    Over("maxCost", 10, {"max_cost": 10, "rate_limit_cost": 10}, query=OVERVIEW, citizen=True),
    Over("requestsPerWindow", 1, {"rate_limit_requests": 1}, status=429, code="RATE_LIMITED", before=1),
    Over(
        "costPerWindow",
        50,
        {"max_cost": 40, "rate_limit_cost": 50},
        query=OVERVIEW,
        citizen=True,
        status=429,
        code="RATE_LIMITED",
        before=1,
    ),
]


async def send(gateway: Gateway, case: Over) -> httpx.Response:
    headers = {"authorization": f"Bearer {gateway.citizen(HANS)}"} if case.citizen else {}
    if case.body is not None:
        content = case.body() if callable(case.body) else case.body
        headers["content-type"] = "application/json"
        return await gateway.client.post("/graphql", content=content, headers=headers)
    variables = {"cpr": HANS} if "$cpr" in case.query else case.variables
    return await gateway.client.post("/graphql", json={"query": case.query, "variables": variables}, headers=headers)


@pytest.mark.parametrize("case", CASES, ids=[case.limit for case in CASES])
async def test_a_request_over_a_limit_is_refused_with_the_limits_fields(
    sandbox: ThreadedSandbox, tmp_path: Path, case: Over
) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, **case.settings):
        for _ in range(case.before):
            assert (await send(gateway, case)).status_code == 200
        refused = await send(gateway, case)

    assert refused.status_code == case.status, refused.text
    # graphql-core reports its first 100 errors before it gives up: the refusal is the one with a limit.
    [error] = [error for error in refused.json()["errors"] if "limit" in error["extensions"]]
    extensions = error["extensions"]
    assert extensions["code"] == case.code
    assert extensions["limit"] == case.limit
    assert extensions["maximum"] == case.maximum
    assert re.search(rf"\b{re.escape(f'{case.maximum:g}')}\b", error["message"]), error["message"]
    if case.code == "RATE_LIMITED":
        assert extensions["retryAfter"] == int(refused.headers["retry-after"]) >= 1
    else:
        assert "retryAfter" not in extensions and "retry-after" not in refused.headers


def test_the_readme_names_every_limit_a_client_can_meet() -> None:
    assert [case.limit for case in CASES if f"`{case.limit}`" not in README] == []
