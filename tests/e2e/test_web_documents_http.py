"""The web page's operations folder is its client's trusted-documents manifest (ADR 0015, 0017).

With the page on, the gateway registers the page's client (``patientoverblik-web``) with the page's
``.graphql`` files, checked at start like any manifest, and by default runs nothing else for it. The
page sends each file's ``documentId``, the SHA-256 of its text, which ``/web/config.json`` gives; an
id of another text (a file changed since a tab loaded) is not found, never answered with the new text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.manifests import ManifestError, sha256_of
from gateway.web import OPERATIONS_DIR, WEB_PAGE_FIELDS
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, Gateway, gateway_with, recorded, settings_for

PAGE_CLIENT = "patientoverblik-web"
OVERVIEW_TEXT = (OPERATIONS_DIR / "Overview.graphql").read_text(encoding="utf-8")


@pytest.fixture
async def page_on(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Gateway]:
    async for running in gateway_with(sandbox, tmp_path, web_page=True):
        yield running


def headers(gateway: Gateway, client_id: str | None = PAGE_CLIENT) -> dict[str, str]:
    claims: dict[str, Any] = {"actor_kind": "citizen", "cpr": HANS}
    if client_id is not None:
        claims["client_id"] = client_id
    return {"authorization": f"Bearer {gateway.token(**claims)}"}


async def overview(gateway: Gateway, body: dict[str, Any], client_id: str | None = PAGE_CLIENT) -> Any:
    variables = {"cpr": HANS, "citizen": True}
    sent = {**body, "variables": variables, "operationName": "Overview"}
    return await gateway.client.post("/graphql", json=sent, headers=headers(gateway, client_id))


async def test_the_page_runs_its_operations_by_the_ids_its_config_gives(page_on: Gateway) -> None:
    documents = (await page_on.client.get("/web/config.json")).json()["documents"]

    response = await overview(page_on, {"documentId": documents["Overview"]})

    assert documents["Overview"] == f"sha256:{sha256_of(OVERVIEW_TEXT)}"
    assert response.status_code == 200, response.text
    assert response.json()["data"]["patient"]["person"]["name"] == "Hans Test Jensen"
    assert "errors" not in response.json()


async def test_the_pages_client_runs_only_the_pages_operations(page_on: Gateway, sandbox: ThreadedSandbox) -> None:
    own_text = await overview(page_on, {"query": OVERVIEW_TEXT})
    asked = recorded(sandbox, "cpr"), recorded(sandbox, "stamkort")
    other = await overview(page_on, {"query": OVERVIEW_TEXT.replace("birthDate", "birthDate sex")})

    assert own_text.status_code == 200, "the text of one of its documents is one of its documents"
    assert other.status_code == 403
    assert other.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    assert (recorded(sandbox, "cpr"), recorded(sandbox, "stamkort")) == asked, "the refused document asked nothing"


async def test_an_id_of_another_text_is_not_found_so_a_changed_file_is_never_served_stale(page_on: Gateway) -> None:
    earlier = OVERVIEW_TEXT.replace("statusDate\n", "")
    assert earlier != OVERVIEW_TEXT

    response = await overview(page_on, {"documentId": f"sha256:{sha256_of(earlier)}"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_pages_client_may_be_registered_to_take_other_documents_too(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    async for gateway in gateway_with(sandbox, tmp_path, web_page=True, web_trusted_documents_only=False):
        other = await overview(gateway, {"query": OVERVIEW_TEXT.replace("birthDate", "birthDate sex")})

        assert other.status_code == 200
        assert other.json()["data"]["patient"]["person"]["name"] == "Hans Test Jensen"


async def test_another_clients_token_is_told_the_id_is_unknown_and_may_send_the_text(page_on: Gateway) -> None:
    """What the page does with a token of another client (one a developer pastes): the text, once refused by id."""
    documents = (await page_on.client.get("/web/config.json")).json()["documents"]

    by_id = await overview(page_on, {"documentId": documents["Overview"]}, client_id=None)
    by_text = await overview(page_on, {"query": OVERVIEW_TEXT}, client_id=None)

    assert by_id.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert by_text.json()["data"]["patient"]["person"]["name"] == "Hans Test Jensen"


async def test_the_pages_tokens_carry_the_pages_client(page_on: Gateway) -> None:
    documents = (await page_on.client.get("/web/config.json")).json()["documents"]
    me = await page_on.client.post("/graphql", json={"documentId": documents["Me"]}, headers=headers(page_on))

    assert me.json()["data"]["me"]["clientId"] == PAGE_CLIENT


def test_the_pages_client_is_registered_only_with_the_page(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    off = settings_for(sandbox, tmp_path)
    on = settings_for(sandbox, tmp_path, web_page=True)
    own = {PAGE_CLIENT: {"name": "Vores webside", "fields": ["Query.patient", "Patient.*"]}}
    replaced = settings_for(sandbox, tmp_path, web_page=True, clients=own)

    assert PAGE_CLIENT not in off.client_registrations()
    page = on.client_specs()[PAGE_CLIENT]
    assert page.trusted_documents == OPERATIONS_DIR
    assert page.trusted_documents_only is True
    assert page.registration.fields == frozenset(WEB_PAGE_FIELDS)
    assert replaced.client_specs()[PAGE_CLIENT].registration.name == "Vores webside"


def test_an_operation_outside_the_pages_allow_list_stops_the_gateway(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    """The page's manifest is checked like every manifest: a file selecting a field the page's client may not
    select (here Federation's `_entities`) stops the gateway with one line naming the file."""
    folder = tmp_path / "operations"
    folder.mkdir()
    (folder / "Overview.graphql").write_text(OVERVIEW_TEXT, encoding="utf-8")
    (folder / "Entities.graphql").write_text(
        'query Entities { _entities(representations: [{__typename: "Patient", id: "x"}]) { __typename } }',
        encoding="utf-8",
    )
    page = settings_for(sandbox, tmp_path, web_page=True).web_page_client()
    clients = {PAGE_CLIENT: page.model_copy(update={"trusted_documents": folder})}

    with pytest.raises(ManifestError) as raised:
        create_app(settings_for(sandbox, tmp_path, web_page=True, clients=clients))

    assert str(raised.value) == (
        f"client '{PAGE_CLIENT}': trusted document 'Entities' selects Query._entities, "
        "which the client's field allow-list does not allow"
    )


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        pytest.param({}, "holds no .graphql file", id="empty"),
        pytest.param({"Bad name.graphql": "query X { me { kind } }"}, "is not named", id="bad name"),
        pytest.param({"Empty.graphql": "  \n"}, "Empty.graphql is empty", id="empty file"),
    ],
)
def test_a_folder_manifest_that_cannot_be_read_stops_the_gateway(
    sandbox: ThreadedSandbox, tmp_path: Path, files: dict[str, str], reason: str
) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    clients = {"epj-folder": {"name": "EPJ (folder)", "fields": ["Query.patient"], "trusted_documents": str(folder)}}

    with pytest.raises(ManifestError, match=rf"^client 'epj-folder': trusted documents folder .*{reason}"):
        create_app(settings_for(sandbox, tmp_path, clients=clients))
