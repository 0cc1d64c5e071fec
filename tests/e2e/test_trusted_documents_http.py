"""Trusted documents: a vendor system runs its manifest's operations by id, and nothing else when so registered.

The manifest is checked at start against the schema and the client's field allow-list: one that
selects a field the client may not select stops the gateway with one line naming client, document
and field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway import cli
from gateway.app import create_app
from gateway.manifests import ManifestError
from gateway.settings import DEMO_CLIENTS
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, Gateway, gateway_with, recorded, settings_for

PERSON = "query PersonCard($cpr: CPR!) { patient(cpr: $cpr) { person { name } } }"
GP = "query Practice($cpr: CPR!) { patient(cpr: $cpr) { generalPractitioner { name } } }"
OTHER = "query Other($cpr: CPR!) { patient(cpr: $cpr) { person { name address } } }"
PLANS = "query Plans($cpr: CPR!) { patient(cpr: $cpr) { plans { nodes { title } } } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def registration(manifest: Path, *, only: bool) -> dict[str, Any]:
    fields = DEMO_CLIENTS["epj-odense"].fields
    return {
        "name": "EPJ Trusted (test)",
        "fields": fields,
        "trusted_documents": str(manifest),
        "trusted_documents_only": only,
    }


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "epj-trusted.json"
    path.write_text(json.dumps({"person-card": PERSON, "practice": GP}), encoding="utf-8")
    return path


@pytest.fixture
async def trusted(sandbox: ThreadedSandbox, tmp_path: Path, manifest: Path) -> AsyncIterator[Gateway]:
    clients = {"epj-trusted": registration(manifest, only=True), "epj-free": registration(manifest, only=False)}
    async for running in gateway_with(sandbox, tmp_path, clients=clients):
        yield running


def system(gateway: Gateway, client_id: str = "epj-trusted") -> dict[str, str]:
    token = gateway.token(actor_kind="system", client_id=client_id, authorization_id=DOCTOR_WITH_RELATIONS)
    return {"authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param({"documentId": "person-card"}, id="documentId"),
        pytest.param({"documentId": f"sha256:{sha256(PERSON)}"}, id="documentId sha256"),
        pytest.param({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(PERSON)}}}, id="APQ"),
        pytest.param(
            {"query": PERSON, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(PERSON)}}},
            id="APQ with its text",
        ),
        pytest.param({"query": PERSON}, id="its very text"),
    ],
)
async def test_a_trusted_only_client_runs_its_manifest_documents(
    trusted: Gateway, request_body: dict[str, Any]
) -> None:
    response = await trusted.client.post(
        "/graphql", json={**request_body, "variables": {"cpr": HANS}}, headers=system(trusted)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"patient": {"person": {"name": "Hans Test Jensen"}}}}


async def test_a_trusted_only_client_is_refused_any_other_document_before_anything_is_asked(
    trusted: Gateway, sandbox: ThreadedSandbox
) -> None:
    response = await trusted.client.post(
        "/graphql", json={"query": OTHER, "variables": {"cpr": HANS}}, headers=system(trusted)
    )

    assert response.status_code == 403
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    assert "documentId" in error["message"]
    assert recorded(sandbox, "treatment_relation") == recorded(sandbox, "cpr") == 0
    assert await trusted.access_log.for_patient(HANS) == []


async def test_an_unknown_id_or_hash_is_not_found_and_a_wrong_hash_a_bad_request(trusted: Gateway) -> None:
    unknown = await trusted.client.post("/graphql", json={"documentId": "nope"}, headers=system(trusted))
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256("{ me { kind } }")}}
    unknown_hash = await trusted.client.post("/graphql", json={"extensions": apq}, headers=system(trusted))
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha256(GP)}}
    mismatch = await trusted.client.post(
        "/graphql", json={"query": PERSON, "extensions": wrong}, headers=system(trusted)
    )

    assert unknown.status_code == unknown_hash.status_code == 400
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_client_not_limited_to_its_documents_may_send_others_too(trusted: Gateway) -> None:
    by_id = await trusted.client.post(
        "/graphql", json={"documentId": "practice", "variables": {"cpr": HANS}}, headers=system(trusted, "epj-free")
    )
    other = await trusted.client.post(
        "/graphql", json={"query": OTHER, "variables": {"cpr": HANS}}, headers=system(trusted, "epj-free")
    )

    assert by_id.json()["data"]["patient"]["generalPractitioner"]["name"]
    assert other.json()["data"]["patient"]["person"]["name"] == "Hans Test Jensen"


async def test_the_client_finds_its_trusted_documents_in_me(trusted: Gateway) -> None:
    query = "{ me { client { trustedDocumentsOnly trustedDocuments { id sha256 operationNames } } } }"
    response = await trusted.client.post("/graphql", json={"query": query}, headers=system(trusted, "epj-free"))

    client = response.json()["data"]["me"]["client"]
    assert client["trustedDocumentsOnly"] is False
    assert {"id": "person-card", "sha256": sha256(PERSON), "operationNames": ["PersonCard"]} in client[
        "trustedDocuments"
    ]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            PLANS,
            "client 'epj-trusted': trusted document 'bad' selects Patient.plans, "
            "which the client's field allow-list does not allow",
        ),
        (
            "query X { me { nope } }",
            "client 'epj-trusted': trusted document 'bad' is not valid against the schema: "
            "Cannot query field 'nope' on type 'Me'. Did you mean 'name'?",
        ),
        (
            "query X { me { kind }",
            "client 'epj-trusted': trusted document 'bad' does not parse: Syntax Error: Expected Name, found <EOF>.",
        ),
    ],
)
def test_a_manifest_that_does_not_check_stops_the_gateway_with_one_line(
    sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, document: str, reason: str
) -> None:
    manifest = tmp_path / "bad.json"
    manifest.write_text(json.dumps({"good": PERSON, "bad": document}), encoding="utf-8")
    settings = settings_for(sandbox, tmp_path, clients={"epj-trusted": registration(manifest, only=True)})

    with pytest.raises(ManifestError) as raised:
        create_app(settings)
    monkeypatch.setattr(cli, "settings_or_exit", lambda **overrides: settings)
    monkeypatch.setattr("gateway.serving.serve", lambda *args: pytest.fail("the gateway started"))
    result = CliRunner().invoke(cli.app, ["serve"])

    assert str(raised.value) == reason
    assert result.exit_code == 2
    assert result.stderr == f"patientoverblik: not starting: {reason}\n"


def test_a_manifest_that_cannot_be_read_stops_the_gateway(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    settings = settings_for(sandbox, tmp_path, clients={"epj-trusted": registration(missing, only=True)})

    with pytest.raises(ManifestError, match=r"^client 'epj-trusted': trusted documents file .* cannot be read"):
        create_app(settings)


def test_an_allow_list_naming_what_the_schema_does_not_have_stops_the_gateway(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    """A registration written for names a release renamed would refuse what the client needs, field by field."""
    old = {"name": "EPJ (old names)", "fields": ["Query.patient", "Patient.plans", "CarePlans.*", "Organisation.sor"]}
    settings = settings_for(sandbox, tmp_path, clients={"epj-old": old})

    with pytest.raises(ManifestError) as raised:
        create_app(settings)

    assert str(raised.value) == (
        "client 'epj-old': its field allow-list names CarePlans.*, Organisation.sor, which the schema does not "
        "have (a renamed type or field? CHANGELOG.md's migration guide gives the new names)"
    )
