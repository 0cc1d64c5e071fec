"""The demo token issuer: each kind of actor gets the claims the gateway reads (sandbox/claims.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from sandbox.issuer import Issuer, create_app
from sandbox.population import Population, build_population

ISSUER_URL = "http://issuer.test"
METTE = {
    "authorization_id": "CBDJ6",
    "organisation_sor": "378641000016007",
    "organisation_name": "Nefrologisk Afdeling Y, OUH",
    "profession": "læge",
    "name": "Mette Test Larsen",
}


@pytest.fixture(scope="module")
def population() -> Population:
    return build_population(seed=2016, patients=0)


@pytest.fixture(scope="module")
def issuer(population: Population) -> Issuer:
    return Issuer(population, ISSUER_URL)


def claims_of(issuer: Issuer, request: dict[str, Any]) -> dict[str, Any]:
    """The claims of the token ``request`` gets, verified against the issuer's published key set."""
    published = RSAKey.import_key(issuer.jwks()["keys"][0])
    token = jwt.decode(issuer.issue(request), published, algorithms=["RS256"])
    return dict(token.claims)


async def post_token(population: Population, body: dict[str, Any]) -> httpx.Response:
    app, _ = create_app(population, ISSUER_URL)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER_URL) as http:
        return await http.post("/token", json=body)


def test_professional_token_names_profession_and_organisation(issuer: Issuer):
    claims = claims_of(issuer, {"actor_kind": "professional", "authorization_id": "cbdj6"})

    assert claims["actor_kind"] == "professional"
    assert {key: claims[key] for key in METTE} == METTE
    assert "assistant_id" not in claims


def test_professional_token_for_another_organisation_names_that_organisation(issuer: Issuer):
    claims = claims_of(
        issuer, {"actor_kind": "professional", "authorization_id": "CBDJ6", "organisation_sor": "378631000016009"}
    )

    assert claims["organisation_sor"] == "378631000016009"
    assert claims["organisation_name"] == "Odense Universitetshospital"


def test_assistant_token_is_the_responsible_professionals_with_the_assistant(issuer: Issuer):
    request = {"actor_kind": "assistant", "assistant_id": "medhjaelp-0042", "authorization_id": "CBDJ6"}

    claims = claims_of(issuer, request)

    assert claims["actor_kind"] == "professional"
    assert {key: claims[key] for key in METTE} == METTE
    assert claims["assistant_id"] == "medhjaelp-0042"
    assert claims["assistant_name"] == "Camilla Test Berg"


@pytest.mark.parametrize(
    "request_",
    [
        {"actor_kind": "assistant", "assistant_id": "medhjaelp-0042", "authorization_id": "7QWRT"},
        {"actor_kind": "assistant", "assistant_id": "medhjaelp-9999", "authorization_id": "CBDJ6"},
        {"actor_kind": "assistant", "authorization_id": "CBDJ6"},
    ],
    ids=["another-professional", "unknown-assistant", "no-assistant"],
)
async def test_assistant_token_is_refused_unless_the_assistant_acts_for_that_professional(
    population: Population, request_: dict[str, Any]
):
    response = await post_token(population, request_)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_system_token_carries_the_client_and_the_acting_professional(issuer: Issuer):
    claims = claims_of(issuer, {"actor_kind": "system", "client_id": "epj-odense", "authorization_id": "CBDJ6"})

    assert claims["actor_kind"] == "system"
    assert claims["azp"] == claims["client_id"] == "epj-odense"
    assert {key: claims[key] for key in METTE} == METTE
    assert "cpr" not in claims


@pytest.mark.parametrize(
    "request_",
    [
        {"actor_kind": "system", "client_id": "epj-odense"},
        {"actor_kind": "system", "authorization_id": "CBDJ6"},
        {"actor_kind": "system", "client_id": "EPJ Odense", "authorization_id": "CBDJ6"},
    ],
    ids=["no-professional", "no-client", "malformed-client"],
)
async def test_system_token_needs_a_client_and_an_acting_professional(population: Population, request_: dict[str, Any]):
    response = await post_token(population, request_)

    assert response.status_code == 400


def test_citizen_token_carries_cpr_and_name_with_the_demo_client(issuer: Issuer, population: Population):
    hans = population.personas["hans"]

    claims = claims_of(issuer, {"actor_kind": "citizen", "cpr": hans})

    assert (claims["actor_kind"], claims["cpr"], claims["name"]) == ("citizen", hans, "Hans Test Jensen")
    assert claims["azp"] == "patientoverblik-demo"


async def test_personas_list_representatives_assistants_and_the_vendor_client(population: Population):
    app, _ = create_app(population, ISSUER_URL)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER_URL) as http:
        listing = (await http.get("/personas")).json()

    personas = {p["persona"] for p in listing["personas"]}
    assert {"representative", "representative_limited", "representative_expired", "guardian", "ward"} <= personas
    assert {"hans", "mother", "father", "child_under_15", "child_15"} <= personas
    assert listing["assistants"] == [
        {"assistant_id": "medhjaelp-0042", "name": "Camilla Test Berg", "acting_for": "CBDJ6"}
    ]
    assert listing["vendor_clients"] == [{"client_id": "epj-odense", "name": "EPJ Odense (demo)"}]
    assert all(p["profession"] and p["organisation_name"] for p in listing["professionals"])
    assert {p["id"] for p in listing["powers_of_attorney"]} == {"fuldmagt-1", "fuldmagt-2", "fuldmagt-3", "fuldmagt-4"}


async def test_personas_list_custody_and_guardianship_for_the_web_pages_picker(population: Population):
    app, _ = create_app(population, ISSUER_URL)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER_URL) as http:
        listing = (await http.get("/personas")).json()

    personas = population.personas
    relations = {(r["kind"], r["holder_cpr"], r["subject_cpr"]) for r in listing["relations"]}
    for parent in ("mother", "father"):
        for child in ("child_under_15", "child_15"):
            assert ("custody", personas[parent], personas[child]) in relations
    assert ("guardianship", personas["guardian"], personas["ward"]) in relations


async def test_a_browser_on_another_origin_may_ask_for_a_token_and_the_personas(population: Population):
    """The gateway's web page (another origin) signs in against the demo issuer as an SPA does (ADR 0015)."""
    app, _ = create_app(population, ISSUER_URL)
    page = {"origin": "http://127.0.0.1:8000"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER_URL) as http:
        preflight = await http.options(
            "/token",
            headers=page | {"access-control-request-method": "POST", "access-control-request-headers": "content-type"},
        )
        token = await http.post("/token", json={"actor_kind": "citizen", "cpr": "1403723705"}, headers=page)
        listing = await http.get("/personas", headers=page)

    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert token.status_code == 200
    assert token.headers["access-control-allow-origin"] == "*"
    assert listing.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in token.headers
