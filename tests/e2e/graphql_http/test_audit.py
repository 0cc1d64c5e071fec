"""The GraphQL-over-HTTP spec, as graphql-http's server audits check it: 0 failures, 0 warnings.

The gateway runs over the sandbox on a free port; ``node audit.mjs`` runs every audit of the npm
package ``graphql-http`` (pinned in ``package-lock.json``, installed by ``make install``) against it,
once without a token and once with a citizen's. Notices are the spec's MAYs the gateway declines:
GraphQL over GET (ADR 0017). ``make audit`` runs this test; ``make audit AUDIT_URL=…`` audits a
running gateway (``make run``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, settings_for, sign
from tests.e2e.served import served, skip_or_fail

HERE = Path(__file__).resolve().parent
AUDIT = HERE / "audit.mjs"
GET_NOTICES = {"5A70", "D6D5", "6A70"}
"""GraphQL over GET, which the gateway answers with 405 (only persisted documents could be cached, and
their variables would put CPR numbers in URLs): the audits' MAYs."""


def run_audit(url: str, token: str | None = None) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed (the GraphQL-over-HTTP audit runs graphql-http under node)")
    if not (HERE / "node_modules" / "graphql-http").is_dir():
        skip_or_fail(f"graphql-http is not installed in {HERE}: run `make install` (npm ci --prefix {HERE})")
    assert node is not None
    command = [node, str(AUDIT), url] + ([token] if token else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True, cwd=HERE)  # noqa: S603
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def not_ok(audit: dict[str, Any], status: str) -> list[str]:
    return [f"{r['id']} {r['name']}: {r['reason']}" for r in audit["results"] if r["status"] == status]


DEVELOPER = {"name": "Schema explorer (test)", "fields": [], "developer": True}


@pytest.mark.parametrize(
    ("introspection", "caller"),
    [("open", "anonymous"), ("open", "citizen"), ("developers", "developer")],
)
def test_the_gateway_passes_every_graphql_over_http_audit(
    introspection: str, caller: str, sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    """As `make run` serves it (introspection open), and in production for a registered developer client:
    some audits introspect (``__type``), which production refuses other callers (OWASP)."""
    claims: dict[str, Any] = {"actor_kind": "citizen", "cpr": HANS}
    if caller == "developer":
        claims["client_id"] = "schema-explorer"
    token = sign(sandbox, **claims) if caller != "anonymous" else None
    settings = settings_for(sandbox, tmp_path, introspection=introspection, clients={"schema-explorer": DEVELOPER})
    with served(create_app(settings)) as url:
        audit = run_audit(f"{url}/graphql", token)

    assert not_ok(audit, "error") == []
    assert not_ok(audit, "warn") == []
    assert {r["id"] for r in audit["results"] if r["status"] == "notice"} <= GET_NOTICES
    assert audit["counts"]["ok"] >= 58
