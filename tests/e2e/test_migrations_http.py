"""A gateway told not to migrate, on an access log a release has not migrated yet (ADR 0026).

With ``PATIENTOVERBLIK_ACCESS_LOG__MIGRATE=false`` a PostgreSQL access log behind this version's schema
is not changed under traffic: ``/readyz`` says not ready, a request for a patient fails closed
(``ACCESS_LOG_UNAVAILABLE``, no data), and once the operator ran ``patientoverblik migrate`` the same
running gateway serves. Under ``CI=true`` this runs against the real server or fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from auth.access_log import open_access_log
from gateway.cli import app
from sandbox.server import ThreadedSandbox
from tests.auth.conftest import postgres_server_url, postgres_url
from tests.auth.stored_rows import make_previous_version
from tests.e2e.conftest import HANS, OVERVIEW, settings_for, start_gateway

__all__ = ["postgres_server_url", "postgres_url"]  # fixtures used here

pytestmark = pytest.mark.postgres


async def test_a_database_behind_fails_closed_until_the_operator_migrates(
    sandbox: ThreadedSandbox, tmp_path: Path, postgres_url: str
) -> None:
    make_previous_version(postgres_url)
    settings = settings_for(
        sandbox, tmp_path, database_url=postgres_url, access_log={"migrate": False}, readiness={"cache_s": 0.0}
    )
    store = open_access_log(postgres_url, settings.access_log.policy())
    try:
        async for gateway in start_gateway(sandbox, settings, store):
            refused = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
            not_ready = await gateway.client.get("/readyz")

            migrated = CliRunner().invoke(app, ["migrate", "--database-url", postgres_url])
            served = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
            ready = await gateway.client.get("/readyz")
    finally:
        await store.aclose()

    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["ACCESS_LOG_UNAVAILABLE"]
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["access_log"]["state"] == "failing"
    assert migrated.exit_code == 0, migrated.output
    assert served["data"]["patient"]["person"]["name"]
    assert ready.status_code == 200
