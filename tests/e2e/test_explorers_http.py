"""Schema explorers: introspection and "Did you mean" for the demo and developer clients, not for others.

``PATIENTOVERBLIK_INTROSPECTION=developers`` (the default) answers ``__schema`` and ``__type`` only to
tokens of clients registered with ``developer: true``, and removes suggestions from everyone else's
errors (OWASP GraphQL cheat sheet); ``open`` (the demo) lets everyone explore.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, Gateway, gateway_with

INTROSPECT = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Patient") { fields { name description } } }'
TYPO = "{ me { nmae } }"
DEVELOPER = {"name": "Schema explorer (test)", "fields": [], "developer": True}
CLIENTS = {"schema-explorer": DEVELOPER, "epj-odense": {"name": "EPJ Odense (demo)", "fields": ["Query.patient"]}}


def developer(gateway: Gateway) -> str:
    return gateway.token(actor_kind="citizen", cpr=HANS, client_id="schema-explorer")


async def ask(gateway: Gateway, query: str, token: str | None) -> dict[str, Any]:
    return await gateway.graphql(query, token)


@pytest.mark.parametrize("query", [INTROSPECT, TYPE])
async def test_production_refuses_introspection_to_callers_who_are_not_developers(
    sandbox: ThreadedSandbox, tmp_path: Path, query: str
) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, clients=CLIENTS):
        anonymous = await ask(gateway, query, None)
        citizen = await ask(gateway, query, gateway.citizen(HANS))
        explorer = await ask(gateway, query, developer(gateway))

    for refused in (anonymous, citizen):
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in refused["errors"][0]["message"]
    assert "errors" not in explorer


async def test_production_gives_suggestions_to_developers_only(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, clients=CLIENTS):
        anonymous = await ask(gateway, TYPO, None)
        explorer = await ask(gateway, TYPO, developer(gateway))

    assert anonymous["errors"][0]["message"] == "Cannot query field 'nmae' on type 'Me'."
    assert explorer["errors"][0]["message"] == "Cannot query field 'nmae' on type 'Me'. Did you mean 'name'?"


async def test_the_demo_lets_everyone_explore(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, introspection="open"):
        schema = await ask(gateway, TYPE, None)
        typo = await ask(gateway, TYPO, None)
        me = await ask(gateway, "{ me { client { schemaExploration } } }", None)

    fields = schema["data"]["__type"]["fields"]
    assert fields and all(field["description"] for field in fields)
    assert typo["errors"][0]["message"].endswith("Did you mean 'name'?")
    assert me["data"]["me"]["client"]["schemaExploration"] is True


async def test_clients_without_the_demo_client_warn_at_start(
    sandbox: ThreadedSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="patientoverblik.clients"):
        async for _ in gateway_with(sandbox, tmp_path, clients={"schema-explorer": DEVELOPER}):
            pass
    kept = len(caplog.records)
    async for _ in gateway_with(sandbox, tmp_path, clients=CLIENTS):
        pass

    assert [r.getMessage() for r in caplog.records[:kept]] == [
        "PATIENTOVERBLIK_CLIENTS replaces the built-in registrations: the demo client 'epj-odense' is not "
        "registered (add it to the JSON to keep it)"
    ]
    assert len(caplog.records) == kept
