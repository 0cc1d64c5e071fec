"""GraphiQL works offline with the token header, and its documentation explorer describes every field.

In production only developer clients may introspect (ADR 0017): the page is opened with a developer
client's bearer token in GraphiQL's headers, every request to another host is aborted (offline), and
the docs explorer shows ``Query.patient`` with its description. That every field of the schema has a
description is tests/test_schema.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, Route, expect

from gateway.app import create_app
from gateway.graphiql import ASSET_ROOT
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, settings_for, sign
from tests.e2e.served import served, skip_or_fail

DEVELOPER = {"name": "Schema explorer (test)", "fields": [], "developer": True}


def test_graphiql_explores_the_schema_offline_with_a_developer_token(
    page: Page, sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    if not (ASSET_ROOT / "graphiql").is_dir():
        skip_or_fail(
            "GraphiQL's assets are not installed: run `make install` (npm ci --prefix gateway/static/graphiql)"
        )
    token = sign(sandbox, actor_kind="citizen", cpr=HANS, client_id="schema-explorer")
    settings = settings_for(sandbox, tmp_path, graphiql=True, clients={"schema-explorer": DEVELOPER})
    elsewhere: list[str] = []
    with served(create_app(settings)) as gateway:

        def offline(route: Route) -> None:
            if route.request.url.startswith(gateway):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", offline)
        headers = quote(json.dumps({"authorization": f"Bearer {token}"}))
        with page.expect_response(
            lambda r: r.url.startswith(f"{gateway}/graphql") and r.request.method == "POST"
        ) as introspection:
            page.goto(f"{gateway}/graphql?headers={headers}")
        answer = introspection.value.json()
        page.get_by_role("button", name="Show Documentation Explorer").click()
        page.get_by_role("link", name="Query", exact=True).click()
        patient = page.locator(".graphiql-doc-explorer-content")
        expect(patient).to_contain_text("patient")
        expect(patient).to_contain_text("One patient's overview.")

    assert "__schema" in answer["data"]
    assert elsewhere == []
