"""Bad bearer tokens get 401 with a clear message before GraphQL runs."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.e2e.conftest import HANS, Gateway

QUERY = "{ me { kind } }"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(gateway: Gateway, **changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": gateway.sandbox.url("issuer"),
        "aud": "patientoverblik",
        "iat": now,
        "exp": now + 600,
        "sub": "citizen-x",
        "actor_kind": "citizen",
        "cpr": HANS,
    }
    claims.update(changes)
    return claims


async def assert_401(gateway: Gateway, token: str, fragment: str) -> None:
    response = await gateway.post(QUERY, token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert fragment in error["message"]


async def test_a_valid_token_is_accepted(gateway: Gateway) -> None:
    response = await gateway.post(QUERY, gateway.citizen(HANS))
    assert response.status_code == 200
    assert response.json()["data"]["me"]["kind"] == "CITIZEN"


async def test_expired_token_is_401(gateway: Gateway) -> None:
    await assert_401(gateway, gateway.token(actor_kind="citizen", cpr=HANS, expires_in=-3600), "expired")


async def test_wrong_audience_is_401(gateway: Gateway) -> None:
    await assert_401(gateway, gateway.token(actor_kind="citizen", cpr=HANS, audience="someone-else"), "aud")


async def test_token_signed_with_a_key_the_issuer_does_not_publish_is_401(gateway: Gateway) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"})
    token = jwt.encode({"alg": "RS256", "kid": "stranger"}, _claims(gateway), stranger)
    await assert_401(gateway, token, "key")


async def test_token_with_the_issuers_key_id_but_another_key_is_401(gateway: Gateway) -> None:
    issuer = gateway.sandbox.sandbox.issuer
    assert issuer is not None
    forger = RSAKey.generate_key(2048, parameters={"kid": str(issuer.key.kid)})
    token = jwt.encode({"alg": "RS256", "kid": issuer.key.kid}, _claims(gateway), forger)
    await assert_401(gateway, token, "signature")


async def test_alg_none_is_401(gateway: Gateway) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(gateway))}."
    await assert_401(gateway, token, "not accepted")


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
async def test_malformed_authorization_is_401(gateway: Gateway, header: str) -> None:
    response = await gateway.client.post("/graphql", json={"query": QUERY}, headers={"authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_without_a_valid_actor_is_401(gateway: Gateway) -> None:
    issuer = gateway.sandbox.sandbox.issuer
    assert issuer is not None
    token = jwt.encode({"alg": "RS256", "kid": issuer.key.kid}, _claims(gateway, actor_kind="admin"), issuer.key)
    await assert_401(gateway, token, "actor_kind")
